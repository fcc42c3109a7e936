'use strict';
// The Node client: pure decisions, its conveniences against a scripted grpc-js server, and the
// whole flow against a live sidecar in demo mode (CRYPTOPAY_SIDECAR_TARGET, set by the Python
// test suite that starts one): create an invoice, pay it through the emulator, see the event.
const test = require('node:test');
const assert = require('node:assert/strict');
const grpc = require('@grpc/grpc-js');
const client = require('..');

const { status: Status } = grpc;
const FAST = { baseMs: 10, capMs: 50 };

test('mayResend: only after answers that prove a resend is safe', () => {
  const table = [
    [Status.UNAVAILABLE, null, true],
    [Status.UNAVAILABLE, 'UPSTREAM_UNREACHABLE', true],
    [Status.UNAVAILABLE, 'UPSTREAM_DISCONNECTED', false],
    [Status.UNAVAILABLE, 'OUTCOME_UNKNOWN', false],
    [Status.UNAVAILABLE, 'APP_ERROR', false],
    [Status.DEADLINE_EXCEEDED, 'UPSTREAM_TIMEOUT', false],
    [Status.DEADLINE_EXCEEDED, null, false],
    [Status.RESOURCE_EXHAUSTED, null, true],
    [Status.ABORTED, 'IDEMPOTENCY_KEY_IN_USE', true],
    [Status.ABORTED, null, false],
    [Status.INVALID_ARGUMENT, 'IDEMPOTENCY_KEY_REUSED', false],
    [Status.FAILED_PRECONDITION, 'INSUFFICIENT_FUNDS', false],
    [Status.PERMISSION_DENIED, 'POLICY_DENIED', false],
  ];
  for (const [code, reason, expected] of table) {
    assert.equal(client.mayResend(code, reason), expected, `${code} ${reason}`);
  }
  // Transfers and deletes: the upstream deduplicates by spend_id, a delete moves no money.
  const repeatable = [
    [Status.UNAVAILABLE, 'UPSTREAM_DISCONNECTED', true],
    [Status.DEADLINE_EXCEEDED, 'UPSTREAM_TIMEOUT', true],
    [Status.INTERNAL, 'UPSTREAM_MALFORMED_RESPONSE', true],
    [Status.UNAVAILABLE, 'OUTCOME_UNKNOWN', false],
    [Status.FAILED_PRECONDITION, 'SPEND_ID_ALREADY_USED', false],
  ];
  for (const [code, reason, expected] of repeatable) {
    assert.equal(client.mayResend(code, reason, { repeatable: true }), expected, `${code} ${reason}`);
  }
});

test('backoff: full jitter, capped; RetryInfo is a floor; nothing past the deadline', () => {
  assert.equal(client.backoffDelay(0, { baseMs: 100, capMs: 5000 }, () => 1), 100);
  assert.equal(client.backoffDelay(3, { baseMs: 100, capMs: 5000 }, () => 0.5), 400);
  assert.equal(client.backoffDelay(20, { baseMs: 100, capMs: 5000 }, () => 1), 5000);
  assert.equal(client.nextWait({ baseMs: 100, capMs: 5000 }, 1, 1500, 10000, () => 1), 1500);
  assert.equal(client.nextWait({ baseMs: 100, capMs: 5000 }, 1, null, 10000, () => 1), 200);
  assert.equal(client.nextWait({ baseMs: 100, capMs: 5000 }, 1, 3000, 2000, () => 1), null);
});

test('service config retries reads only', () => {
  const [config] = client.serviceConfig().methodConfig;
  const methods = config.name.map((n) => n.method).sort();
  assert.deepEqual(methods, [...client.READ_METHODS].sort());
  for (const mutating of ['CreateInvoice', 'CreateCheck', 'Transfer', 'DeleteInvoice']) {
    assert.ok(!methods.includes(mutating));
  }
  assert.deepEqual(client.serviceConfig({ retryReads: false }), {});
  assert.ok(client.channelOptions()['grpc.keepalive_time_ms'] >= 10000);
});

test('idempotency keys', () => {
  const key = client.newIdempotencyKey();
  assert.notEqual(key, client.newIdempotencyKey());
  assert.deepEqual(client.idempotencyMetadata(key).get('idempotency-key'), [key]);
  assert.throws(() => client.idempotencyMetadata(''), RangeError);
  assert.throws(() => client.idempotencyMetadata('k'.repeat(256)), RangeError);
});

// --- scripted server ------------------------------------------------------------------------------

function statusTrailer(code, reason, retryDelayMs) {
  const types = client.rpcTypes;
  const details = [];
  if (reason) {
    const info = types.lookupType('google.rpc.ErrorInfo');
    details.push({
      type_url: 'type.googleapis.com/google.rpc.ErrorInfo',
      value: info.encode(info.create({ reason, domain: 'test' })).finish(),
    });
  }
  if (retryDelayMs != null) {
    const retry = types.lookupType('google.rpc.RetryInfo');
    const seconds = Math.floor(retryDelayMs / 1000);
    details.push({
      type_url: 'type.googleapis.com/google.rpc.RetryInfo',
      value: retry
        .encode(retry.create({ retry_delay: { seconds, nanos: (retryDelayMs % 1000) * 1e6 } }))
        .finish(),
    });
  }
  const status = types.lookupType('google.rpc.Status');
  const metadata = new grpc.Metadata();
  metadata.set(
    'grpc-status-details-bin',
    Buffer.from(status.encode(status.create({ code, message: 'scripted', details })).finish()),
  );
  return metadata;
}

async function startServer(register) {
  const server = new grpc.Server();
  register(server);
  const port = await new Promise((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return { server, target: `127.0.0.1:${port}` };
}

test('callIdempotent resends with the same key only while it is safe', async (t) => {
  const script = [];
  const seen = [];
  const api = client.loadApi();
  const { server, target } = await startServer((s) =>
    s.addService(api.CryptoPayService.service, {
      CreateInvoice(call, callback) {
        seen.push({ key: call.metadata.get('idempotency-key')[0], caller: call.metadata.get('x-caller')[0], at: Date.now(), deadline: call.getDeadline() });
        const failure = script.shift();
        if (failure) {
          callback({ code: failure[0], details: 'scripted', metadata: statusTrailer(...failure) });
          return;
        }
        const trailers = new grpc.Metadata();
        trailers.set('idempotent-replayed', 'true');
        callback(null, { invoice: { invoice_id: '7', amount: call.request.amount } }, trailers);
      },
    }),
  );
  t.after(() => server.forceShutdown());
  const stub = client.createClient(target, { metadata: { 'x-caller': 'checkout' } });
  t.after(() => stub.close());

  script.push(
    [Status.UNAVAILABLE, null],
    [Status.ABORTED, 'IDEMPOTENCY_KEY_IN_USE', 200],
    [Status.RESOURCE_EXHAUSTED, null],
  );
  const result = await client.callIdempotent(stub, 'CreateInvoice', { asset: 'TON', amount: '2' }, {
    key: 'order-42',
    backoff: FAST,
  });
  assert.equal(result.response.invoice.amount, '2');
  assert.deepEqual([result.key, result.attempts, result.replayed], ['order-42', 4, true]);
  assert.deepEqual(seen.map((s) => s.key), Array(4).fill('order-42'));
  assert.ok(seen.every((s) => s.caller === 'checkout'));
  assert.ok(seen[2].at - seen[1].at >= 190, 'RetryInfo delay honoured');

  for (const reason of ['OUTCOME_UNKNOWN', 'UPSTREAM_DISCONNECTED']) {
    seen.length = 0;
    script.push([Status.UNAVAILABLE, reason]);
    await assert.rejects(
      client.callIdempotent(stub, 'CreateInvoice', { asset: 'TON', amount: '2' }, { backoff: FAST }),
      (error) => client.errorDetails(error).reason === reason,
    );
    assert.equal(seen.length, 1, `no resend after ${reason}`);
  }
});

test('resumable reopens after the last event: no gap, no duplicate', async (t) => {
  const identity = (b) => b;
  const definition = {
    Subscribe: {
      path: '/test.Events/Subscribe',
      requestStream: false,
      responseStream: true,
      requestSerialize: identity,
      requestDeserialize: identity,
      responseSerialize: identity,
      responseDeserialize: identity,
    },
  };
  const opened = [];
  const breaks = new Set([3, 7]);
  const { server, target } = await startServer((s) =>
    s.addService(definition, {
      Subscribe(call) {
        const after = Number(call.request.toString() || 0);
        opened.push(call.request.toString());
        for (let event = after + 1; event <= 10; event += 1) {
          if (breaks.delete(event)) {
            call.emit('error', { code: Status.UNAVAILABLE, details: 'going away' });
            return;
          }
          call.write(Buffer.from(String(event)));
        }
      },
    }),
  );
  t.after(() => server.forceShutdown());
  const Events = grpc.makeGenericClientConstructor(definition, 'Events');
  const events = new Events(target, grpc.credentials.createInsecure());
  t.after(() => events.close());

  const received = [];
  for await (const event of client.resumable(
    (after) => events.Subscribe(Buffer.from(after || '')),
    (e) => e.toString(),
    { backoff: FAST, maxFailures: 3 },
  )) {
    received.push(event.toString());
    if (received.length === 10) break;
  }
  assert.deepEqual(received, ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10']);
  assert.deepEqual(opened, ['', '2', '6']);
});

// --- live sidecar ---------------------------------------------------------------------------------

const target = process.env.CRYPTOPAY_SIDECAR_TARGET;
const emulator = process.env.CRYPTOPAY_EMULATOR_URL;
const token = process.env.CRYPTOPAY_DEMO_TOKEN;
const live = { skip: target && emulator && token ? false : 'no live sidecar (set CRYPTOPAY_SIDECAR_TARGET, CRYPTOPAY_EMULATOR_URL, CRYPTOPAY_DEMO_TOKEN)' };

function unary(stub, method, request) {
  return new Promise((resolve, reject) =>
    stub[method](request, (error, response) => (error ? reject(error) : resolve(response))),
  );
}

async function pay(invoiceId) {
  const response = await fetch(`${emulator}/_emulator/invoices/${invoiceId}/pay`, {
    method: 'POST',
    headers: { 'Crypto-Pay-API-Token': token, 'Content-Type': 'application/json' },
    body: '{}',
  });
  assert.equal(response.status, 200, await response.text());
}

test('live: create an invoice, pay it through the emulator, read it back', live, async (t) => {
  const stub = client.createClient(target);
  t.after(() => stub.close());
  const created = await client.callIdempotent(stub, 'CreateInvoice', {
    asset: 'USDT',
    amount: '12.5',
    payload: 'order-node-1',
  });
  const { invoice } = created.response;
  assert.equal(created.attempts, 1);
  assert.equal(invoice.amount, '12.5');
  assert.equal(invoice.status, 'INVOICE_STATUS_ACTIVE');
  assert.equal(typeof invoice.invoice_id, 'string', 'int64 ids arrive as strings');

  await pay(invoice.invoice_id);
  const found = await unary(stub, 'GetInvoices', { invoice_ids: [invoice.invoice_id] });
  assert.equal(found.items.length, 1);
  assert.equal(found.items[0].status, 'INVOICE_STATUS_PAID');
  assert.equal(found.items[0].payload, 'order-node-1');
});

test('live: a bad request is refused with the field named', live, async (t) => {
  const stub = client.createClient(target);
  t.after(() => stub.close());
  await assert.rejects(unary(stub, 'CreateInvoice', { asset: 'USDT', amount: '-1' }), (error) => {
    const details = client.errorDetails(error);
    return details.code === Status.INVALID_ARGUMENT && 'amount' in details.violations;
  });
});

test('live: the paid invoice arrives as an event on a subscription', live, async (t) => {
  if (!client.loadApi().WebhookService) {
    t.skip('this version of the sidecar API has no cryptopay.v1.WebhookService');
    return;
  }
  const stub = client.createClient(target);
  const events = client.createWebhookClient(target);
  t.after(() => {
    stub.close();
    events.close();
  });
  const created = await client.callIdempotent(stub, 'CreateInvoice', { asset: 'TON', amount: '4' });
  const invoiceId = created.response.invoice.invoice_id;
  // Earliest: the event may be published before the subscription is open.
  const subscription = client.subscribeEvents(events, {
    start: 'START_POSITION_EARLIEST',
    updateTypes: ['invoice_paid'],
  });
  await pay(invoiceId);
  let found = null;
  const timer = setTimeout(() => subscription.return(), 20000);
  for await (const event of subscription) {
    if (event.invoice.invoice_id === invoiceId) {
      found = event;
      break;
    }
  }
  clearTimeout(timer);
  assert.ok(found, 'the invoice_paid event arrived');
  assert.equal(found.update_type, 'invoice_paid');
  assert.equal(found.invoice.status, 'INVOICE_STATUS_PAID');
  assert.ok(found.event_id.length > 0 && found.raw_body.length > 0);
});
