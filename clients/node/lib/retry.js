'use strict';
// When a call may be sent again, and how long to wait: pure decisions, no I/O.
// A mutating call is only ever resent with the same idempotency key, and only after an answer
// that proves nothing happened or that the sidecar holds the outcome under that key.
const { status: Status } = require('@grpc/grpc-js');

const RETRYABLE_REASONS = new Set([
  'UPSTREAM_UNREACHABLE', // the sidecar could not connect: the request was not sent
  'IDEMPOTENCY_KEY_IN_USE', // the first call with this key is still in flight
]);
// The upstream may have acted: never resent automatically.
const UNKNOWN_OUTCOME_REASONS = new Set([
  'OUTCOME_UNKNOWN',
  'UPSTREAM_DISCONNECTED',
  'UPSTREAM_TIMEOUT',
  'UPSTREAM_MALFORMED_RESPONSE',
]);

// RPCs whose repetition with the same key cannot have a second effect: the upstream refuses a
// second transfer with the same spend_id (derived from the key); a delete moves no money.
const REPEATABLE_METHODS = new Set(['Transfer', 'DeleteInvoice', 'DeleteCheck']);

/** Whether a call that failed with `code` (and ErrorInfo `reason`) may be resent with its key;
 * `repeatable` for Transfer and deletes. Creates are resent only when nothing happened. */
function mayResend(code, reason, { repeatable = false } = {}) {
  if (reason === 'OUTCOME_UNKNOWN') return false; // kept under the key: resends get it again
  if (
    repeatable &&
    (code === Status.UNAVAILABLE ||
      code === Status.DEADLINE_EXCEEDED ||
      (reason && UNKNOWN_OUTCOME_REASONS.has(reason)))
  ) {
    return true;
  }
  if (reason && UNKNOWN_OUTCOME_REASONS.has(reason)) return false;
  if (reason && RETRYABLE_REASONS.has(reason)) return true;
  if (code === Status.RESOURCE_EXHAUSTED) return true; // refused before reaching the upstream
  // No reason: the sidecar itself was unreachable. A reason: an upstream 5xx, it may have acted.
  if (code === Status.UNAVAILABLE) return !reason;
  return false;
}

/** Exponential backoff with full jitter: attempt n waits uniform(0, min(cap, base * 2^n)). */
function backoffDelay(attempt, { baseMs = 100, capMs = 5000 } = {}, rand = Math.random) {
  return Math.min(capMs, baseMs * 2 ** Math.max(attempt, 0)) * rand();
}

/** Milliseconds before the next attempt, or null when it could not finish before the deadline.
 * The server's RetryInfo delay is a floor. */
function nextWait(backoff, attempt, serverDelayMs, remainingMs, rand = Math.random) {
  let wait = backoffDelay(attempt, backoff, rand);
  if (serverDelayMs != null) wait = Math.max(wait, serverDelayMs);
  if (wait >= remainingMs - 50) return null;
  return wait;
}

module.exports = {
  RETRYABLE_REASONS,
  UNKNOWN_OUTCOME_REASONS,
  REPEATABLE_METHODS,
  mayResend,
  backoffDelay,
  nextWait,
};
