'use strict';
// Event streams that survive disconnects: reopen after the last event id received.
// The sidecar's event log keeps every verified webhook with a stable, ordered event id, and a
// subscription can start after a given id. `resumable` turns any stream-opening function into
// an endless async iterator: when the stream breaks it waits with backoff and reopens after the
// last event it delivered, so each event is seen once, in order, with no gap (within the
// sidecar's retention window). Consumer-group subscriptions track their position on the sidecar:
// for those pass an openStream that ignores the id and rejoins the group.
const { status: Status } = require('@grpc/grpc-js');
const { backoffDelay } = require('./retry');

const RESUMABLE_CODES = new Set([
  Status.UNAVAILABLE,
  Status.DEADLINE_EXCEEDED,
  Status.RESOURCE_EXHAUSTED,
  Status.ABORTED,
  Status.INTERNAL,
  Status.UNKNOWN,
  Status.CANCELLED,
]);

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Yields the events of openStream(lastEventId) (a grpc-js server stream, or any async
 * iterable), reopening it after each break. openStream(null) starts where the subscription
 * starts by default; `after` resumes a previous run. `maxFailures` consecutive failed opens end
 * the iteration with the last error (default: retry forever).
 */
async function* resumable(openStream, eventId, options = {}) {
  const {
    after = null,
    backoff = { baseMs: 200, capMs: 10000 },
    resumableCodes = RESUMABLE_CODES,
    maxFailures = null,
  } = options;
  let last = after;
  let failures = 0;
  for (;;) {
    let received = false;
    const stream = openStream(last);
    try {
      for await (const event of stream) {
        received = true;
        failures = 0;
        const current = eventId(event);
        if (current === last) continue; // never deliver the resume point twice
        last = current;
        yield event;
      }
      // The server ended the stream (draining for a restart): reopen.
      if (!received) {
        failures += 1;
        await sleep(backoffDelay(failures, backoff));
      }
    } catch (error) {
      if (error == null || !resumableCodes.has(error.code)) throw error;
      failures += 1;
      if (maxFailures != null && failures >= maxFailures) throw error;
      await sleep(backoffDelay(failures, backoff));
    } finally {
      // Ends a stream the consumer stopped reading (a gRPC call, or an async generator).
      if (typeof stream.return === 'function') await stream.return();
      else if (typeof stream.cancel === 'function') stream.cancel();
    }
  }
}

module.exports = { RESUMABLE_CODES, resumable };
