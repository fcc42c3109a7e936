'use strict';
// Clients of the sidecar with the settings a long-lived service wants:
// - keepalive every 30 s (the sidecar accepts pings down to every 10 s);
// - fast reconnects (at most 5 s apart) so a restarting sidecar is back quickly;
// - reads (Get*) retried by gRPC itself on UNAVAILABLE, with backoff and retry throttling;
//   mutating calls are never retried by the channel: use callIdempotent with a key;
// - a default deadline (30 s) for unary calls that set none;
// - metadata added to every call (for example the caller identity a policy asks for);
// - TLS or mTLS when asked for (tls, caFile, certFile + keyFile, serverName, or the
//   CRYPTOPAY_SIDECAR_TLS* environment), plaintext otherwise (see tls.js).
const grpc = require('@grpc/grpc-js');
const { load } = require('./proto');
const { channelSecurity } = require('./tls');

const DEFAULT_TARGET = '127.0.0.1:50051';
const TARGET_ENV = 'CRYPTOPAY_SIDECAR_TARGET';
const SERVICE = 'cryptopay.v1.CryptoPayService';
const READ_METHODS = Object.freeze([
  'GetMe',
  'GetInvoices',
  'GetTransfers',
  'GetChecks',
  'GetBalance',
  'GetExchangeRates',
  'GetCurrencies',
  'GetStats',
]);

function resolveTarget(target) {
  return target || process.env[TARGET_ENV] || DEFAULT_TARGET;
}

/** The gRPC service config: retries for reads only, throttled when most calls fail. */
function serviceConfig({ retryReads = true } = {}) {
  if (!retryReads) return {};
  return {
    methodConfig: [
      {
        name: READ_METHODS.map((method) => ({ service: SERVICE, method })),
        retryPolicy: {
          maxAttempts: 4,
          initialBackoff: '0.1s',
          maxBackoff: '2s',
          backoffMultiplier: 2,
          retryableStatusCodes: ['UNAVAILABLE'],
        },
      },
    ],
    retryThrottling: { maxTokens: 10, tokenRatio: 0.1 },
  };
}

function channelOptions({ retryReads = true, keepaliveMs = 30000, extra = {} } = {}) {
  return {
    'grpc.keepalive_time_ms': keepaliveMs,
    'grpc.keepalive_timeout_ms': 10000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.initial_reconnect_backoff_ms': 200,
    'grpc.max_reconnect_backoff_ms': 5000,
    'grpc.max_receive_message_length': 16 * 1024 * 1024,
    'grpc.enable_retries': retryReads ? 1 : 0,
    'grpc.service_config': JSON.stringify(serviceConfig({ retryReads })),
    ...extra,
  };
}

/** An interceptor that adds `metadata` pairs the call does not set and a default deadline. */
function defaultsInterceptor(metadata, defaultTimeoutMs) {
  return (options, nextCall) => {
    const definition = options.method_definition;
    const unary = definition && !definition.requestStream && !definition.responseStream;
    if (unary && options.deadline == null && defaultTimeoutMs != null) {
      options.deadline = new Date(Date.now() + defaultTimeoutMs);
    }
    return new grpc.InterceptingCall(nextCall(options), {
      start(callMetadata, listener, next) {
        for (const [key, value] of Object.entries(metadata)) {
          if (callMetadata.get(key).length === 0) callMetadata.set(key, value);
        }
        next(callMetadata, listener);
      },
    });
  };
}

/**
 * A CryptoPayService client. Methods take the API's field names:
 *   client.CreateInvoice({ asset: 'USDT', amount: '10' }, callback)
 * Options: metadata ({name: value} sent with every call), defaultTimeoutMs (30000; null for
 * none), retryReads (true), keepaliveMs (30000), channelOptions (extra grpc-js options),
 * interceptors (more interceptors); tls, caFile, certFile, keyFile, serverName for TLS and mTLS
 * (plaintext by default), or credentials of one's own instead of those.
 */
function createClient(target, options = {}) {
  const security = channelSecurity(options);
  const {
    metadata = {},
    defaultTimeoutMs = 30000,
    retryReads = true,
    keepaliveMs = 30000,
    interceptors = [],
  } = options;
  const { CryptoPayService } = load();
  const extra = { ...security.channelOptions, ...options.channelOptions };
  return new CryptoPayService(resolveTarget(target), security.credentials, {
    ...channelOptions({ retryReads, keepaliveMs, extra }),
    interceptors: [
      defaultsInterceptor(metadata, defaultTimeoutMs),
      ...security.interceptors,
      ...interceptors,
    ],
  });
}

/** A client of the sidecar's WebhookService (event subscriptions), with the same defaults. */
function createWebhookClient(target, options = {}) {
  const api = load();
  if (!api.WebhookService) {
    throw new Error('this version of the sidecar API has no cryptopay.v1.WebhookService');
  }
  const security = channelSecurity(options);
  const {
    metadata = {},
    defaultTimeoutMs = 30000,
    keepaliveMs = 30000,
    interceptors = [],
  } = options;
  const extra = { ...security.channelOptions, ...options.channelOptions };
  return new api.WebhookService(resolveTarget(target), security.credentials, {
    ...channelOptions({ retryReads: false, keepaliveMs, extra }),
    interceptors: [
      defaultsInterceptor(metadata, defaultTimeoutMs),
      ...security.interceptors,
      ...interceptors,
    ],
  });
}

module.exports = {
  DEFAULT_TARGET,
  TARGET_ENV,
  READ_METHODS,
  resolveTarget,
  serviceConfig,
  channelOptions,
  defaultsInterceptor,
  createClient,
  createWebhookClient,
};
