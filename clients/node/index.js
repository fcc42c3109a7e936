'use strict';
// Node.js client for cryptopay-sidecar: the Crypto Pay API over gRPC.
//
//   const { createClient, callIdempotent } = require('@cryptopay-sidecar/client');
//   const client = createClient(); // $CRYPTOPAY_SIDECAR_TARGET or 127.0.0.1:50051
//   const { response } = await callIdempotent(client, 'CreateInvoice', { asset: 'USDT', amount: '10' });
//   console.log(response.invoice.bot_invoice_url);
const channel = require('./lib/channel');
const errors = require('./lib/errors');
const events = require('./lib/events');
const idempotency = require('./lib/idempotency');
const proto = require('./lib/proto');
const retry = require('./lib/retry');
const subscribe = require('./lib/subscribe');
const tls = require('./lib/tls');

module.exports = {
  ...channel,
  ...errors,
  ...events,
  ...idempotency,
  ...retry,
  ...subscribe,
  ...tls,
  loadApi: proto.load,
  PROTO_DIR: proto.PROTO_DIR,
  LOADER_OPTIONS: proto.LOADER_OPTIONS,
};
