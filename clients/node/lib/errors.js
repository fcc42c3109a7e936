'use strict';
// The sidecar's rich error details (google.rpc.Status in the trailers), decoded.
const protobuf = require('protobufjs');

const root = protobuf.Root.fromJSON({
  nested: {
    google: {
      nested: {
        protobuf: {
          nested: {
            Any: { fields: { type_url: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } } },
            Duration: { fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } } },
          },
        },
        rpc: {
          nested: {
            Status: {
              fields: {
                code: { type: 'int32', id: 1 },
                message: { type: 'string', id: 2 },
                details: { rule: 'repeated', type: 'google.protobuf.Any', id: 3 },
              },
            },
            ErrorInfo: {
              fields: {
                reason: { type: 'string', id: 1 },
                domain: { type: 'string', id: 2 },
                metadata: { keyType: 'string', type: 'string', id: 3 },
              },
            },
            RetryInfo: { fields: { retry_delay: { type: 'google.protobuf.Duration', id: 1 } } },
            BadRequest: {
              fields: { field_violations: { rule: 'repeated', type: 'FieldViolation', id: 1 } },
              nested: {
                FieldViolation: {
                  fields: { field: { type: 'string', id: 1 }, description: { type: 'string', id: 2 } },
                },
              },
            },
          },
        },
      },
    },
  },
});
const StatusProto = root.lookupType('google.rpc.Status');
const ErrorInfo = root.lookupType('google.rpc.ErrorInfo');
const RetryInfo = root.lookupType('google.rpc.RetryInfo');
const BadRequest = root.lookupType('google.rpc.BadRequest');
const TYPE_PREFIX = 'type.googleapis.com/';

/**
 * What the sidecar attached to a failed call: `reason` is the google.rpc.ErrorInfo reason (the
 * Crypto Pay error name, or the sidecar's own such as UPSTREAM_UNREACHABLE), `violations` maps
 * each bad request field to what is wrong with it, `retryDelayMs` comes from RetryInfo.
 */
function errorDetails(error) {
  const out = {
    code: error.code,
    message: error.details || '',
    reason: null,
    domain: null,
    metadata: {},
    retryDelayMs: null,
    violations: {},
  };
  const raw = error.metadata ? error.metadata.get('grpc-status-details-bin') : [];
  if (!raw || raw.length === 0) return out;
  const status = StatusProto.decode(raw[0]);
  for (const detail of status.details) {
    const type = detail.type_url.startsWith(TYPE_PREFIX)
      ? detail.type_url.slice(TYPE_PREFIX.length)
      : detail.type_url;
    if (type === 'google.rpc.ErrorInfo') {
      const info = ErrorInfo.toObject(ErrorInfo.decode(detail.value), { defaults: true });
      out.reason = info.reason;
      out.domain = info.domain;
      out.metadata = info.metadata || {};
    } else if (type === 'google.rpc.RetryInfo') {
      const info = RetryInfo.toObject(RetryInfo.decode(detail.value), { longs: Number, defaults: true });
      const delay = info.retry_delay || { seconds: 0, nanos: 0 };
      out.retryDelayMs = Number(delay.seconds) * 1000 + Math.round(delay.nanos / 1e6);
    } else if (type === 'google.rpc.BadRequest') {
      const bad = BadRequest.toObject(BadRequest.decode(detail.value), { defaults: true });
      for (const violation of bad.field_violations) out.violations[violation.field] = violation.description;
    }
  }
  return out;
}

module.exports = { errorDetails, rpcTypes: root };
