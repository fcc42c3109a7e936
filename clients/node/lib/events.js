'use strict';
// Webhook events from the sidecar's WebhookService, resumed across disconnects.
//
//   const events = createWebhookClient();
//   for await (const event of subscribeEvents(events, { updateTypes: ['invoice_paid'] })) {
//     handle(event.invoice); // persist event.event_id to resume after a restart
//   }
//   for await (const event of subscribeEvents(events, { group: 'fulfilment', consumer: 'pod-a' })) {
//     handle(event.invoice);
//     await ackEvents(events, 'fulfilment', [event.event_id]);
//   }
//
// Broadcast subscriptions reopen after the last event id received (no gap, no duplicate while
// the sidecar retains the events). Group subscriptions rejoin their group under the same
// consumer name, so the events this member had not acknowledged go back to the group at once.
const crypto = require('node:crypto');
const { resumable } = require('./subscribe');

async function* unwrap(call) {
  try {
    for await (const response of call) yield response.event;
  } finally {
    call.cancel();
  }
}

/**
 * Yields WebhookEvent objects for ever, reopening the stream after each break.
 * Options: after (resume a broadcast after a persisted event id), start
 * ('START_POSITION_LATEST' | 'START_POSITION_EARLIEST'), group, consumer, updateTypes, assets,
 * maxInFlight, visibilityTimeoutMs, backoff, maxFailures.
 */
async function* subscribeEvents(webhookClient, options = {}) {
  const {
    after = null,
    start = 'START_POSITION_LATEST',
    group = '',
    consumer = null,
    updateTypes = [],
    assets = [],
    maxInFlight = 0,
    visibilityTimeoutMs = null,
    backoff,
    maxFailures = null,
  } = options;
  const member = group ? consumer || `client-${crypto.randomBytes(6).toString('hex')}` : '';
  const openStream = (last) => {
    // A group tracks its own position: rejoining is enough.
    const resumeAfter = group ? '' : last || '';
    const request = {
      // The sidecar takes a start position or an event id, not both.
      start: resumeAfter ? 'START_POSITION_UNSPECIFIED' : start,
      after_event_id: resumeAfter,
      group,
      consumer: member,
      update_types: updateTypes,
      assets,
      max_in_flight: maxInFlight,
    };
    if (visibilityTimeoutMs != null) {
      request.visibility_timeout = {
        seconds: Math.floor(visibilityTimeoutMs / 1000),
        nanos: (visibilityTimeoutMs % 1000) * 1e6,
      };
    }
    return unwrap(webhookClient.Subscribe(request));
  };
  yield* resumable(openStream, (event) => event.event_id, { after, backoff, maxFailures });
}

function unary(client, method, request) {
  return new Promise((resolve, reject) =>
    client[method](request, (error, response) => (error ? reject(error) : resolve(response))),
  );
}

/** Acknowledges events delivered to `group`; resolves to how many were still pending. */
async function ackEvents(webhookClient, group, eventIds) {
  const response = await unary(webhookClient, 'Ack', { group, event_ids: eventIds });
  return response.acknowledged;
}

/** Hands events back to `group` for delivery to any member at once. */
async function nackEvents(webhookClient, group, eventIds) {
  const response = await unary(webhookClient, 'Nack', { group, event_ids: eventIds });
  return response.released;
}

module.exports = { subscribeEvents, ackEvents, nackEvents };
