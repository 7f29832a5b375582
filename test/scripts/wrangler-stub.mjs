#!/usr/bin/env node
// Answers for wrangler in the scripts' tests (WRANGLER_BIN), so `npm run deploy` is tested
// without a Cloudflare account. Every call is appended to STUB_WRANGLER_LOG as one JSON line.
//   STUB_SECRETS   JSON array of secret names, or "not-found" (no Worker yet), or "unauthenticated"
//   STUB_DEPLOY    "ok" (default) or "fail"
//   STUB_URL       the URL `wrangler deploy` prints (default a workers.dev one; "none" prints none)
import { appendFileSync } from "node:fs";

const argv = process.argv.slice(2);
if (process.env.STUB_WRANGLER_LOG) appendFileSync(process.env.STUB_WRANGLER_LOG, `${JSON.stringify(argv)}\n`);
const [command, sub] = argv;

if (command === "secret" && sub === "list") {
  const secrets = process.env.STUB_SECRETS ?? "[]";
  if (secrets === "not-found") {
    console.error(`✘ [ERROR] Worker "livechat-edge" not found.\n\nIf this is a new Worker, run \`wrangler deploy\` first to create it.`);
    process.exit(1);
  }
  if (secrets === "unauthenticated") {
    console.error("✘ [ERROR] In a non-interactive environment, it's necessary to set a CLOUDFLARE_API_TOKEN environment variable for wrangler to work.");
    process.exit(1);
  }
  console.log(JSON.stringify(JSON.parse(secrets).map((name) => ({ name, type: "secret_text" })), null, "  "));
  process.exit(0);
}

if (command === "deploy") {
  console.log(" ⛅️ wrangler 4.86.0\n───────────────────\nTotal Upload: 194.50 KiB / gzip: 63.45 KiB");
  if (process.env.STUB_DEPLOY === "fail") {
    console.error("✘ [ERROR] A request to the Cloudflare API failed. Authentication error [code: 10000]");
    process.exit(1);
  }
  const url = process.env.STUB_URL ?? "https://livechat-edge.example.workers.dev";
  console.log("Uploaded livechat-edge (3.21 sec)\nDeployed livechat-edge triggers (1.05 sec)");
  if (url !== "none") console.log(`  ${url}`);
  console.log("  schedule: */5 * * * *\nCurrent Version ID: 5c3e1f3a-0000-4000-8000-000000000000");
  process.exit(0);
}

console.error(`wrangler stub: unexpected call ${JSON.stringify(argv)}`);
process.exit(2);
