// crypto-bot-api (npm) against the sidecar's HTTP front: only its endpoint and token differ
// from a program that talks to Crypto Pay. Prints one JSON object with what it saw.
"use strict";
const CryptoBotAPI = require("crypto-bot-api");

async function failure(promise) {
  try {
    await promise;
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

async function main() {
  const endpoint = process.env.FRONT_ENDPOINT;
  const shop = new CryptoBotAPI(process.env.SHOP_TOKEN, endpoint);
  const out = {};
  out.me = await shop.getMe();
  const invoice = await shop.createInvoice({ asset: "USDT", amount: "1.5", description: "tea" });
  out.invoice = { id: invoice.id, amount: invoice.amount, status: invoice.status };
  out.found = (await shop.getInvoices({ ids: [invoice.id] })).map((i) => i.id);
  const check = await shop.createCheck({ asset: "USDT", amount: "2" });
  out.checks = (await shop.getChecks({ ids: [check.id] })).map((c) => c.id);
  const transfer = await shop.transfer({
    userId: 42, asset: "USDT", amount: "3", spendId: process.env.SPEND_ID,
  });
  out.transfers = (await shop.getTransfers({ ids: [transfer.id] })).map((t) => t.id);
  out.deleted = await shop.deleteInvoice(invoice.id);
  out.denied = await failure(shop.createInvoice({ asset: "USDT", amount: "500" }));
  const limited = new CryptoBotAPI(process.env.LIMITED_TOKEN, endpoint);
  await limited.getBalances();
  out.limited = await failure(limited.getBalances());
  out.unknown = await failure(new CryptoBotAPI(process.env.STRANGER_TOKEN, endpoint).getMe());
  process.stdout.write(JSON.stringify(out));
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error));
  process.exit(1);
});
