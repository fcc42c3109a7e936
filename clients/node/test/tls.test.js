'use strict';
// How the client turns its TLS options and environment into channel security. The tests that
// need certificates take them from $CRYPTOPAY_TEST_PKI_DIR (ca.crt; server.crt/.key for the name
// sidecar.test only; client.crt/.key; other.key, not the client's), issued with tests/certs.py by
// the Python test that runs these; the handshakes with a real sidecar are in
// tests/tls/test_node_client.py.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const client = require('..');

const { TlsConfigError, resolveTls, tlsCredentials, tlsChannelOptions, channelSecurity } = client;
const pkiDir = process.env.CRYPTOPAY_TEST_PKI_DIR;
const pki = {
  skip: pkiDir ? false : 'no test certificates (set CRYPTOPAY_TEST_PKI_DIR; the pytest suite does)',
};
const pkiFile = (name) => path.join(pkiDir, name);

function scratch(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cryptopay-tls-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return (name, content) => {
    const file = path.join(dir, name);
    if (content !== undefined) fs.writeFileSync(file, content);
    return file;
  };
}

function configError(pattern, fields = {}) {
  return (error) => {
    assert.ok(error instanceof TlsConfigError, `a TlsConfigError, not ${error}`);
    assert.match(error.message, pattern);
    for (const [key, value] of Object.entries(fields)) assert.equal(error[key], value, key);
    return true;
  };
}

test('tls: plaintext by default', () => {
  assert.equal(resolveTls({}, {}), null);
  assert.equal(channelSecurity({}, {}).credentials._isSecure(), false);
  assert.deepEqual(channelSecurity({}, {}).channelOptions, {});
});

test('tls: $CRYPTOPAY_SIDECAR_TLS turns it on or off; anything else is an error', () => {
  for (const value of ['1', 'true', 'TRUE', 'yes', 'on', ' true ']) {
    const settings = resolveTls({}, { CRYPTOPAY_SIDECAR_TLS: value });
    assert.deepEqual([settings.caFile, settings.mutual, settings.serverName], [null, false, null], value);
  }
  for (const value of ['', '0', 'false', 'off', 'no']) {
    assert.equal(resolveTls({}, { CRYPTOPAY_SIDECAR_TLS: value }), null, value);
  }
  assert.throws(
    () => resolveTls({}, { CRYPTOPAY_SIDECAR_TLS: 'yse' }),
    configError(/^\$CRYPTOPAY_SIDECAR_TLS must be true or false, not "yse"$/),
  );
  assert.throws(
    () => resolveTls({ tls: 'yes' }, {}),
    configError(/^tls must be true or false/, { option: 'tls' }),
  );
});

test('tls: a CA file, a client certificate or a server name implies TLS', () => {
  assert.equal(resolveTls({ caFile: 'ca.pem' }, {}).caFile, 'ca.pem');
  const mutual = resolveTls({ certFile: 'c.pem', keyFile: 'k.pem' }, {});
  assert.deepEqual(
    [mutual.certFile, mutual.keyFile, mutual.mutual, mutual.caFile],
    ['c.pem', 'k.pem', true, null],
  );
  assert.equal(resolveTls({ serverName: 'sidecar.shop' }, {}).serverName, 'sidecar.shop');
  assert.equal(resolveTls({}, { CRYPTOPAY_SIDECAR_CA_FILE: '/etc/ca.pem' }).caFile, '/etc/ca.pem');
});

test('tls: each option wins over its variable, and the source of each value is kept', () => {
  const env = {
    CRYPTOPAY_SIDECAR_CA_FILE: 'env-ca.pem',
    CRYPTOPAY_SIDECAR_CLIENT_CERT_FILE: 'env-cert.pem',
    CRYPTOPAY_SIDECAR_CLIENT_KEY_FILE: 'env-key.pem',
    CRYPTOPAY_SIDECAR_SERVER_NAME: 'env.example',
  };
  const settings = resolveTls({ caFile: 'ca.pem', serverName: 'sidecar', keyFile: '' }, env);
  assert.deepEqual(
    [settings.caFile, settings.certFile, settings.keyFile, settings.serverName],
    ['ca.pem', 'env-cert.pem', 'env-key.pem', 'sidecar'],
  );
  assert.deepEqual(settings.sources, {
    caFile: 'caFile',
    certFile: '$CRYPTOPAY_SIDECAR_CLIENT_CERT_FILE',
    keyFile: '$CRYPTOPAY_SIDECAR_CLIENT_KEY_FILE',
    serverName: 'serverName',
  });
});

test('tls: a certificate without its key (or a key without its certificate) is an error', () => {
  assert.throws(
    () => resolveTls({ certFile: 'c.pem' }, {}),
    configError(/needs both certFile and keyFile: certFile is set, keyFile is not/, { option: 'keyFile' }),
  );
  assert.throws(
    () => resolveTls({}, { CRYPTOPAY_SIDECAR_CLIENT_KEY_FILE: 'k.pem' }),
    configError(/\$CRYPTOPAY_SIDECAR_CLIENT_KEY_FILE is set, certFile is not/, { option: 'certFile' }),
  );
});

test('tls: false refuses files beside it, but overrides the on/off variable alone', () => {
  assert.throws(
    () => resolveTls({ tls: false, caFile: 'ca.pem' }, {}),
    configError(/^tls: false with caFile set/),
  );
  assert.throws(
    () => resolveTls({ tls: false }, { CRYPTOPAY_SIDECAR_SERVER_NAME: 'x' }),
    configError(/with \$CRYPTOPAY_SIDECAR_SERVER_NAME set/),
  );
  assert.equal(resolveTls({ tls: false }, { CRYPTOPAY_SIDECAR_TLS: '1' }), null);
});

test('tls: serverName becomes grpc.ssl_target_name_override', () => {
  assert.deepEqual(tlsChannelOptions(resolveTls({ serverName: 'sidecar.shop' }, {})), {
    'grpc.ssl_target_name_override': 'sidecar.shop',
  });
  assert.deepEqual(tlsChannelOptions(resolveTls({ tls: true }, {})), {});
});

test('tls: credentials of your own exclude the TLS options', () => {
  const own = grpc.credentials.createSsl();
  assert.throws(
    () => channelSecurity({ credentials: own, caFile: 'ca.pem' }, {}),
    configError(/either credentials or the TLS options/, { option: 'credentials' }),
  );
  assert.throws(() => channelSecurity({ credentials: own, tls: true }, {}), TlsConfigError);
  // The environment is for the client's own TLS: credentials given replace it.
  const chosen = channelSecurity({ credentials: own, tls: false }, { CRYPTOPAY_SIDECAR_CA_FILE: 'x' });
  assert.equal(chosen.credentials, own);
});

test('tls: a missing file is named with its option (or variable) and path', (t) => {
  const file = scratch(t);
  const missing = file('nope.pem');
  assert.throws(
    () => channelSecurity({ caFile: missing }, {}),
    configError(new RegExp(`^caFile ${missing}: cannot be read \\(ENOENT\\)$`), {
      option: 'caFile',
      path: missing,
    }),
  );
  assert.throws(
    () => channelSecurity({}, { CRYPTOPAY_SIDECAR_CA_FILE: missing }),
    configError(new RegExp(`^\\$CRYPTOPAY_SIDECAR_CA_FILE ${missing}: cannot be read`)),
  );
  const ca = file('ca.der', Buffer.from([0x30, 0x82, 0x01, 0x0a]));
  assert.throws(
    () => channelSecurity({ caFile: ca, certFile: missing, keyFile: missing }, {}),
    configError(/^caFile .*: not a PEM file$/),
  );
  // A directory cannot be read as a file either.
  assert.throws(
    () => channelSecurity({ caFile: path.dirname(missing) }, {}),
    configError(/^caFile .*: cannot be read \(EISDIR\)$/),
  );
});

test('tls: a CA file without a usable certificate is refused before any handshake', (t) => {
  const file = scratch(t);
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyOnly = file('key.pem', privateKey.export({ type: 'pkcs8', format: 'pem' }));
  assert.throws(
    () => channelSecurity({ caFile: keyOnly }, {}),
    configError(/^caFile .*key\.pem: holds no PEM certificate$/, { path: keyOnly }),
  );
  const broken = file(
    'broken.pem',
    '-----BEGIN CERTIFICATE-----\nMIIBnotreally\n-----END CERTIFICATE-----\n',
  );
  assert.throws(
    () => channelSecurity({ caFile: broken }, {}),
    configError(/^caFile .*broken\.pem: certificate 1 cannot be parsed/),
  );
});

test('tls: the system trust store is read when no CA file is given', (t) => {
  const roots = client.systemRootCertificates();
  // Every machine this runs on has a distribution CA bundle; null would mean Node's built-in
  // roots, which this test could not tell apart.
  assert.ok(roots && roots.includes('-----BEGIN CERTIFICATE-----'), 'a system CA bundle');
  const file = scratch(t);
  const own = file('bundle.pem', roots.subarray(0, roots.indexOf('-----END CERTIFICATE-----') + 26));
  assert.deepEqual(client.systemRootCertificates({ SSL_CERT_FILE: own }), fs.readFileSync(own));
  assert.equal(client.systemRootCertificates({}, [file('none.pem')]), null);
  assert.equal(channelSecurity({ tls: true }, {}).credentials._isSecure(), true);
});

test('tls: credentials from real certificate files', pki, () => {
  const made = channelSecurity(
    { caFile: pkiFile('ca.crt'), certFile: pkiFile('client.crt'), keyFile: pkiFile('client.key') },
    {},
  );
  assert.equal(made.credentials._isSecure(), true);
  assert.deepEqual(made.channelOptions, {});
  // The environment alone does the same.
  const fromEnv = tlsCredentials(
    resolveTls(
      {},
      {
        CRYPTOPAY_SIDECAR_CA_FILE: pkiFile('ca.crt'),
        CRYPTOPAY_SIDECAR_CLIENT_CERT_FILE: pkiFile('client.crt'),
        CRYPTOPAY_SIDECAR_CLIENT_KEY_FILE: pkiFile('client.key'),
      },
    ),
  );
  assert.equal(fromEnv._isSecure(), true);
});

test('tls: a key that is not the certificate\'s is named with both files', pki, () => {
  const certFile = pkiFile('client.crt');
  const keyFile = pkiFile('other.key');
  assert.throws(
    () => channelSecurity({ caFile: pkiFile('ca.crt'), certFile, keyFile }, {}),
    configError(
      new RegExp(`^certFile ${certFile} with keyFile ${keyFile}: the key does not match the certificate$`),
      { option: 'certFile' },
    ),
  );
  // Swapped: a certificate where the key should be.
  assert.throws(
    () => channelSecurity({ certFile, keyFile: certFile }, {}),
    configError(new RegExp(`^certFile ${certFile} with keyFile ${certFile}: `)),
  );
});

test('tls: both clients dial an mTLS server; serverName is the name checked', pki, async (t) => {
  const server = new grpc.Server();
  const api = client.loadApi();
  const peers = [];
  server.addService(api.CryptoPayService.service, {
    GetMe(call, callback) {
      peers.push(call.getAuthContext().sslPeerCertificate.subject.CN);
      callback(null, { app: { app_id: '7', name: 'tls' } });
    },
  });
  server.addService(api.WebhookService.service, {
    Ack(call, callback) {
      peers.push(call.getAuthContext().sslPeerCertificate.subject.CN);
      callback(null, { acknowledged: call.request.event_ids.length });
    },
  });
  const credentials = grpc.ServerCredentials.createSsl(
    fs.readFileSync(pkiFile('ca.crt')),
    [
      {
        cert_chain: fs.readFileSync(pkiFile('server.crt')),
        private_key: fs.readFileSync(pkiFile('server.key')),
      },
    ],
    true, // require a client certificate from the CA
  );
  const port = await new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (err, p) => (err ? reject(err) : resolve(p))),
  );
  t.after(() => server.forceShutdown());
  const getMe = (stub) =>
    new Promise((resolve, reject) => stub.GetMe({}, (e, r) => (e ? reject(e) : resolve(r))));

  // server.crt names sidecar.test only, so dialling 127.0.0.1 needs the name given.
  const options = {
    caFile: pkiFile('ca.crt'),
    certFile: pkiFile('client.crt'),
    keyFile: pkiFile('client.key'),
    defaultTimeoutMs: 5000,
  };
  const named = { ...options, serverName: 'sidecar.test' };
  const stub = client.createClient(`127.0.0.1:${port}`, named);
  t.after(() => stub.close());
  assert.equal((await getMe(stub)).app.app_id, '7');
  const unnamed = client.createClient(`127.0.0.1:${port}`, options);
  t.after(() => unnamed.close());
  await assert.rejects(getMe(unnamed), (error) => {
    assert.equal(error.code, grpc.status.UNAVAILABLE);
    assert.match(error.details, /does not match certificate's altnames/);
    return true;
  });

  // Node's TLS server says why it refuses a client without a certificate; the client passes that
  // on as it is (its own explanation is for servers that close without a word, as the sidecar).
  const anonymous = client.createClient(`127.0.0.1:${port}`, {
    caFile: options.caFile,
    serverName: 'sidecar.test',
  });
  t.after(() => anonymous.close());
  await assert.rejects(getMe(anonymous), (error) => {
    assert.equal(error.code, grpc.status.UNAVAILABLE);
    assert.match(error.details, /alert certificate required/);
    assert.doesNotMatch(error.details, /closed the connection after the TLS handshake/);
    return true;
  });

  const events = client.createWebhookClient(`127.0.0.1:${port}`, named);
  t.after(() => events.close());
  assert.equal(await client.ackEvents(events, 'g', ['1', '2']), 2);
  assert.deepEqual(peers, ['client', 'client'], 'the server saw the client certificate on both');
});
