'use strict';
// TLS and mTLS to a sidecar whose gRPC listener serves TLS (--tls-cert, --tls-client-ca).
//
// Plaintext stays the default: a sidecar in the same pod listens on loopback. TLS is on when
// asked for (tls: true, $CRYPTOPAY_SIDECAR_TLS) or implied by a CA file, a client certificate or
// a server name. The server is verified against the system's trust store unless a CA file is
// given; a client certificate and its key make it mTLS, which lets a policy know the caller by
// its certificate's SPIFFE id. Each option wins over its environment variable. The variables are
// the ones the Python and Go clients read.
const crypto = require('node:crypto');
const fs = require('node:fs');
const nodeTls = require('node:tls');
const grpc = require('@grpc/grpc-js');

const TLS_ENV = 'CRYPTOPAY_SIDECAR_TLS';
const CA_FILE_ENV = 'CRYPTOPAY_SIDECAR_CA_FILE';
const CLIENT_CERT_FILE_ENV = 'CRYPTOPAY_SIDECAR_CLIENT_CERT_FILE';
const CLIENT_KEY_FILE_ENV = 'CRYPTOPAY_SIDECAR_CLIENT_KEY_FILE';
const SERVER_NAME_ENV = 'CRYPTOPAY_SIDECAR_SERVER_NAME';
const TLS_OPTIONS = Object.freeze(['tls', 'caFile', 'certFile', 'keyFile', 'serverName']);

const FIELDS = Object.freeze([
  ['caFile', CA_FILE_ENV],
  ['certFile', CLIENT_CERT_FILE_ENV],
  ['keyFile', CLIENT_KEY_FILE_ENV],
  ['serverName', SERVER_NAME_ENV],
]);
const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['', '0', 'false', 'no', 'off']);

// Where distributions keep the system's CA bundle (the list Go's crypto/x509 reads), in order.
const SYSTEM_BUNDLES = Object.freeze([
  '/etc/ssl/certs/ca-certificates.crt', // Debian, Ubuntu, Alpine, Arch
  '/etc/pki/tls/certs/ca-bundle.crt', // Fedora, RHEL
  '/etc/ssl/ca-bundle.pem', // openSUSE
  '/etc/pki/tls/cacert.pem', // OpenELEC
  '/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem', // CentOS, RHEL 7
  '/etc/ssl/cert.pem', // Alpine, macOS, the BSDs
]);

/** TLS options that cannot work together, or a file that cannot be used. */
class TlsConfigError extends Error {
  /** `option` names the option (or variable) at fault, `path` the file, when there is one. */
  constructor(message, { option = null, path = null } = {}) {
    super(message);
    this.name = 'TlsConfigError';
    this.option = option;
    this.path = path;
  }
}

/**
 * The TLS settings `options` ({ tls, caFile, certFile, keyFile, serverName }) and `env` ask
 * for, or null for plaintext. Each option left unset (undefined, null or '') falls back to its
 * variable; `tls: false` forces plaintext whatever $CRYPTOPAY_SIDECAR_TLS says, and refuses
 * files or a server name given beside it. The result's `sources` name where each value came
 * from (the option, or the variable), so errors point at what to fix.
 */
function resolveTls(options = {}, env = process.env) {
  const values = {};
  const sources = {};
  for (const [field, variable] of FIELDS) {
    if (options[field] != null && options[field] !== '') {
      values[field] = String(options[field]);
      sources[field] = field;
    } else if (env[variable]) {
      values[field] = env[variable];
      sources[field] = `$${variable}`;
    } else {
      values[field] = null;
    }
  }
  if ((values.certFile === null) !== (values.keyFile === null)) {
    const [given, missing, variable] =
      values.keyFile === null
        ? ['certFile', 'keyFile', CLIENT_KEY_FILE_ENV]
        : ['keyFile', 'certFile', CLIENT_CERT_FILE_ENV];
    throw new TlsConfigError(
      `a client certificate needs both certFile and keyFile: ${sources[given]} is set, ` +
        `${missing} is not (nor $${variable})`,
      { option: missing },
    );
  }
  const implied = ['caFile', 'certFile', 'serverName'].filter((field) => values[field] !== null);
  let on = options.tls;
  if (on == null) {
    on = implied.length > 0 || envFlag(env);
  } else if (typeof on !== 'boolean') {
    throw new TlsConfigError(`tls must be true or false, not ${JSON.stringify(on)}`, {
      option: 'tls',
    });
  } else if (!on && implied.length > 0) {
    const named = implied.map((field) => sources[field]).join(', ');
    throw new TlsConfigError(`tls: false with ${named} set: drop them, or enable TLS`, {
      option: 'tls',
    });
  }
  if (!on) return null;
  const mutual = values.certFile !== null;
  return Object.freeze({ ...values, mutual, sources: Object.freeze(sources) });
}

function envFlag(env) {
  const value = (env[TLS_ENV] || '').trim().toLowerCase();
  if (TRUE.has(value)) return true;
  if (FALSE.has(value)) return false;
  throw new TlsConfigError(`$${TLS_ENV} must be true or false, not ${JSON.stringify(value)}`, {
    option: `$${TLS_ENV}`,
  });
}

/**
 * gRPC channel credentials for settings from resolveTls. The files are read and checked now, so
 * a missing file, one that is not PEM or a key that does not match its certificate fails here,
 * naming the option and the path (never the contents).
 */
function tlsCredentials(settings) {
  const roots = settings.caFile !== null ? readCa(settings) : systemRootCertificates();
  if (!settings.mutual) return grpc.credentials.createSsl(roots);
  const cert = readPem(settings, 'certFile');
  const key = readPem(settings, 'keyFile');
  try {
    nodeTls.createSecureContext({ cert, key });
  } catch (error) {
    const mismatch = error.code === 'ERR_OSSL_X509_KEY_VALUES_MISMATCH';
    const what = mismatch ? 'the key does not match the certificate' : error.message;
    const { sources } = settings;
    throw new TlsConfigError(
      `${sources.certFile} ${settings.certFile} with ${sources.keyFile} ${settings.keyFile}: ${what}`,
      { option: 'certFile', path: settings.certFile },
    );
  }
  return grpc.credentials.createSsl(roots, key, cert);
}

/** The channel options TLS adds: the name the server's certificate must carry, when one is set. */
function tlsChannelOptions(settings) {
  if (settings.serverName === null) return {};
  return { 'grpc.ssl_target_name_override': settings.serverName };
}

function readPem(settings, field) {
  const path = settings[field];
  const label = settings.sources[field];
  let data;
  try {
    data = fs.readFileSync(path);
  } catch (error) {
    throw new TlsConfigError(`${label} ${path}: cannot be read (${error.code || error.message})`, {
      option: field,
      path,
    });
  }
  if (!data.includes('-----BEGIN ')) {
    throw new TlsConfigError(`${label} ${path}: not a PEM file`, { option: field, path });
  }
  return data;
}

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

// Node takes CA bundles without complaint even when nothing in them parses; check each one here
// so that a wrong file is reported as such rather than as a failed handshake later.
function readCa(settings) {
  const data = readPem(settings, 'caFile');
  const blocks = data.toString('latin1').match(CERTIFICATE_BLOCK) || [];
  const fail = (what) =>
    new TlsConfigError(`${settings.sources.caFile} ${settings.caFile}: ${what}`, {
      option: 'caFile',
      path: settings.caFile,
    });
  if (blocks.length === 0) throw fail('holds no PEM certificate');
  blocks.forEach((block, index) => {
    try {
      new crypto.X509Certificate(block);
    } catch (error) {
      throw fail(`certificate ${index + 1} cannot be parsed (${error.message})`);
    }
  });
  return data;
}

/**
 * The system's trust store, what the OS and curl trust: $SSL_CERT_FILE, else the distribution's
 * CA bundle. null when there is none, and grpc-js then uses the Mozilla roots built into Node.
 */
function systemRootCertificates(env = process.env, candidates = SYSTEM_BUNDLES) {
  for (const path of [env.SSL_CERT_FILE, ...candidates]) {
    if (!path) continue;
    try {
      const data = fs.readFileSync(path);
      if (data.includes('-----BEGIN CERTIFICATE-----')) return data;
    } catch {
      // Not on this system: try the next place.
    }
  }
  return null;
}

// How grpc-js reports a connection that closed after the TLS handshake and before the server's
// HTTP/2 settings. A gRPC server requiring client certificates closes it just so (under TLS 1.3
// the client's side of the handshake is over before the server has checked the certificate,
// and the server sends no alert), so that is what the error then says.
const CLOSED_AFTER_HANDSHAKE = /Failed to connect|Connection closed before starting HTTP\/2 handshake/;

/**
 * An interceptor for clients with these TLS settings that says, on UNAVAILABLE after such a
 * close, what the sidecar most likely wanted: a client certificate, or one it trusts.
 */
function tlsRefusalInterceptor(settings) {
  const hint = settings.mutual
    ? `the sidecar closed the connection after the TLS handshake, as it does under mTLS with a ` +
      `client certificate it does not accept (not signed by its --tls-client-ca, expired, or not ` +
      `for client authentication): check ${settings.sources.certFile} ${settings.certFile}`
    : `the sidecar closed the connection after the TLS handshake, as it does under mTLS ` +
      `(--tls-client-ca) with a client that shows no certificate: set certFile and keyFile ` +
      `(or $${CLIENT_CERT_FILE_ENV} and $${CLIENT_KEY_FILE_ENV})`;
  return (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start(metadata, listener, next) {
        next(metadata, {
          onReceiveStatus(status, nextStatus) {
            const closed =
              status.code === grpc.status.UNAVAILABLE && CLOSED_AFTER_HANDSHAKE.test(status.details);
            nextStatus(closed ? { ...status, details: `${status.details.trim()} (${hint})` } : status);
          },
        });
      },
    });
}

/**
 * The credentials, extra channel options and interceptors for a client's `options`: plaintext
 * unless TLS is asked for; credentials of one's own exclude the TLS options.
 */
function channelSecurity(options = {}, env = process.env) {
  if (options.credentials) {
    const given = TLS_OPTIONS.filter((name) => options[name] != null && options[name] !== '');
    if (options.tls === true || given.some((name) => name !== 'tls')) {
      throw new TlsConfigError(
        'pass either credentials or the TLS options (tls, caFile, certFile, keyFile, ' +
          'serverName), not both',
        { option: 'credentials' },
      );
    }
    return { credentials: options.credentials, channelOptions: {}, interceptors: [] };
  }
  const settings = resolveTls(options, env);
  if (settings === null) {
    return { credentials: grpc.credentials.createInsecure(), channelOptions: {}, interceptors: [] };
  }
  return {
    credentials: tlsCredentials(settings),
    channelOptions: tlsChannelOptions(settings),
    interceptors: [tlsRefusalInterceptor(settings)],
  };
}

module.exports = {
  TLS_ENV,
  CA_FILE_ENV,
  CLIENT_CERT_FILE_ENV,
  CLIENT_KEY_FILE_ENV,
  SERVER_NAME_ENV,
  SYSTEM_BUNDLES,
  TlsConfigError,
  resolveTls,
  tlsCredentials,
  tlsChannelOptions,
  tlsRefusalInterceptor,
  systemRootCertificates,
  channelSecurity,
};
