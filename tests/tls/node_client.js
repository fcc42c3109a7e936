// The Node client against a sidecar serving TLS: makes a client of the target and options given
// as JSON in argv[2] ({ target, options, calls: [method, ...] }), the rest from the environment
// (CRYPTOPAY_SIDECAR_*), and prints one JSON object with what each call returned.
'use strict';
const path = require('node:path');
const grpc = require('@grpc/grpc-js');
// This checkout's client, whichever copy the root's node_modules links to.
const client = require(path.join(__dirname, '..', '..', 'clients', 'node'));

function call(stub, method) {
  return new Promise((resolve) =>
    stub[method]({}, (error, response) => {
      if (!error) {
        resolve({ ok: true, app_id: response.app ? response.app.app_id : null });
        return;
      }
      const details = client.errorDetails(error);
      resolve({
        ok: false,
        code: grpc.status[error.code] || error.code,
        details: error.details,
        reason: details.reason,
        caller: details.metadata.caller || null,
      });
    }),
  );
}

async function main() {
  const { target, options = {}, calls = ['GetMe'] } = JSON.parse(process.argv[2]);
  let stub;
  try {
    stub = client.createClient(target, { defaultTimeoutMs: 5000, ...options });
  } catch (error) {
    const out = { error: error.name, message: error.message, option: error.option, path: error.path };
    process.stdout.write(`${JSON.stringify(out)}\n`);
    return;
  }
  const results = [];
  for (const method of calls) results.push(await call(stub, method));
  stub.close();
  process.stdout.write(`${JSON.stringify({ results })}\n`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exit(1);
});
