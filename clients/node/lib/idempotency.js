'use strict';
// Idempotency keys: send a mutating call again without risking a second invoice, check or
// transfer. The sidecar records each `idempotency-key` with the request's outcome; the same key
// and request gets the stored answer back (trailer `idempotent-replayed: true`).
const crypto = require('node:crypto');
const grpc = require('@grpc/grpc-js');
const { errorDetails } = require('./errors');
const { REPEATABLE_METHODS, mayResend, nextWait } = require('./retry');

const IDEMPOTENCY_KEY = 'idempotency-key';
const REPLAYED = 'idempotent-replayed';
const MAX_KEY_LENGTH = 255;

/** A fresh random key (a UUID4). Store it with the operation it belongs to (an order id, a
 * payout row) so a process that restarts can retry with the same key. */
function newIdempotencyKey() {
  return crypto.randomUUID();
}

/** grpc.Metadata carrying `key` (plus any `extra` {name: value} pairs). */
function idempotencyMetadata(key, extra = {}) {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) {
    throw new RangeError(`an idempotency key has 1..${MAX_KEY_LENGTH} characters`);
  }
  const metadata = new grpc.Metadata();
  for (const [name, value] of Object.entries(extra)) metadata.set(name, value);
  metadata.set(IDEMPOTENCY_KEY, key);
  return metadata;
}

function attempt(client, method, request, metadata, deadline) {
  return new Promise((resolve, reject) => {
    let response = null;
    let failed = null;
    let trailers = null;
    let settled = 0;
    const finish = () => {
      settled += 1;
      if (settled < 2) return; // wait for both the answer and the trailers
      if (failed) reject(failed);
      else resolve({ response, trailers });
    };
    const call = client[method](request, metadata, { deadline }, (error, value) => {
      failed = error;
      response = value;
      if (error) {
        settled += 1; // an error carries its trailers; no status event is needed
        trailers = error.metadata;
      }
      finish();
    });
    call.on('status', (status) => {
      if (failed) return;
      trailers = status.metadata;
      finish();
    });
  });
}

/**
 * Sends `request` with client[method] (e.g. 'CreateInvoice') and an idempotency key, resending
 * with the same key while that is safe, within timeoutMs. Resolves to
 * { response, key, attempts, replayed }; rejects with the last grpc error.
 */
async function callIdempotent(client, method, request, options = {}) {
  const {
    key = newIdempotencyKey(),
    timeoutMs = 30000,
    maxAttempts = 5,
    backoff = { baseMs: 100, capMs: 5000 },
    metadata = {},
  } = options;
  const callMetadata = idempotencyMetadata(key, metadata);
  const deadline = Date.now() + timeoutMs;
  for (let attempts = 1; ; attempts += 1) {
    try {
      const { response, trailers } = await attempt(
        client,
        method,
        request,
        callMetadata.clone(),
        new Date(deadline),
      );
      const replayed = trailers != null && trailers.get(REPLAYED).some((v) => String(v) === 'true');
      return { response, key, attempts, replayed };
    } catch (error) {
      if (error == null || error.code == null) throw error;
      const details = errorDetails(error);
      const repeatable = REPEATABLE_METHODS.has(method.charAt(0).toUpperCase() + method.slice(1));
      if (attempts >= maxAttempts || !mayResend(details.code, details.reason, { repeatable })) {
        throw error;
      }
      const wait = nextWait(backoff, attempts - 1, details.retryDelayMs, deadline - Date.now());
      if (wait == null) throw error;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

module.exports = { IDEMPOTENCY_KEY, REPLAYED, newIdempotencyKey, idempotencyMetadata, callIdempotent };
