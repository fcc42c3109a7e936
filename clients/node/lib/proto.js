'use strict';
// Loads the sidecar's API from the .proto files shipped in this package (an exact copy of the
// repository's proto/, refreshed by clients/generate).
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');

const PROTO_DIR = path.join(__dirname, '..', 'proto');
const PROTO_FILES = ['cryptopay/v1/cryptopay_service.proto'];
const OPTIONAL_PROTO_FILES = ['cryptopay/v1/webhook_service.proto'];

// Field names stay as the Crypto Pay API spells them (invoice_id, bot_invoice_url); int64 ids
// arrive as decimal strings, so no id is ever rounded; enums arrive as their names.
const LOADER_OPTIONS = Object.freeze({
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_DIR],
});

let cached = null;

function load() {
  if (cached === null) {
    const fs = require('node:fs');
    const files = PROTO_FILES.concat(
      OPTIONAL_PROTO_FILES.filter((file) => fs.existsSync(path.join(PROTO_DIR, file))),
    );
    const definition = protoLoader.loadSync(files, LOADER_OPTIONS);
    cached = grpc.loadPackageDefinition(definition).cryptopay.v1;
  }
  return cached;
}

module.exports = { PROTO_DIR, LOADER_OPTIONS, load };
