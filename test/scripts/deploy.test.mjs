// `npm run deploy` (scripts/deploy.mjs) against a stubbed wrangler (wrangler-stub.mjs): what it
// checks before deploying, that it deploys only when the configuration is complete, and the URLs.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const STUB = join(ROOT, "test", "scripts", "wrangler-stub.mjs");
const ALL_SECRETS = ["LIVECHAT_CLIENT_SECRET", "LIVECHAT_WEBHOOK_SECRET", "TOKEN_ENCRYPTION_KEY", "ADMIN_TOKEN"];
const dir = mkdtempSync(join(tmpdir(), "livechat-edge-deploy-test-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The repository's wrangler.toml with `vars` set under [vars] (replacing a line of the same name). */
function toml(vars = {}) {
  let text = readFileSync(join(ROOT, "wrangler.toml"), "utf8");
  for (const [name, value] of Object.entries(vars)) {
    const line = `${name} = ${JSON.stringify(value)}`;
    const existing = new RegExp(`^${name}\\s*=.*$`, "m");
    text = existing.test(text) ? text.replace(existing, line) : text.replace(/^\[vars\]\n/m, `[vars]\n${line}\n`);
  }
  return text;
}

let runs = 0;
/**
 * Run scripts/deploy.mjs with a config and the stub's answers.
 * @returns {Promise<{ code: number | null, out: string, calls: string[][] }>}
 */
function deploy({ config, secrets, deployResult, url, args = [] }) {
  const n = ++runs;
  const configPath = join(dir, `wrangler-${n}.toml`);
  const log = join(dir, `calls-${n}.jsonl`);
  writeFileSync(configPath, config);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["scripts/deploy.mjs", "--config", configPath, ...args], {
      cwd: ROOT,
      env: {
        ...process.env,
        WRANGLER_BIN: STUB,
        STUB_WRANGLER_LOG: log,
        STUB_SECRETS: typeof secrets === "string" ? secrets : JSON.stringify(secrets),
        STUB_DEPLOY: deployResult ?? "ok",
        ...(url ? { STUB_URL: url } : {}),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.once("close", (code) => {
      const calls = existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l)) : [];
      resolve({ code, out, calls });
    });
  });
}

const deployCalls = (calls) => calls.filter((c) => c[0] === "deploy");

test("before the first deploy: every missing secret and var is named with the command that sets it; nothing is deployed", async () => {
  const r = await deploy({ config: toml(), secrets: "not-found" });
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /Not deployed: 5 configuration problems \(the Worker does not exist yet\)/);
  for (const name of ["LIVECHAT_CLIENT_SECRET", "LIVECHAT_WEBHOOK_SECRET", "ADMIN_TOKEN"]) {
    assert.match(r.out, new RegExp(`✗ ${name} is not set[^\\n]*\\n\\s+npx wrangler secret put ${name}`));
  }
  assert.match(r.out, /✗ TOKEN_ENCRYPTION_KEY is not set[^\n]*\n\s+openssl rand -base64 32 \| npx wrangler secret put TOKEN_ENCRYPTION_KEY/);
  assert.match(r.out, /✗ LIVECHAT_CLIENT_ID has no value\n\s+set LIVECHAT_CLIENT_ID = "…" under \[vars\] in wrangler.toml/);
  assert.doesNotMatch(r.out, /LIVECHAT_WEBHOOK_SECRET_PREVIOUS|PUBLIC_URL|REPLY_TIMEOUT_SECONDS/, "optional names are not asked for");
  assert.deepEqual(deployCalls(r.calls), []);
  assert.deepEqual(r.calls[0].slice(0, 4), ["secret", "list", "--format", "json"]);
  assert.ok(r.calls[0].includes("--config"), "wrangler gets the same configuration");
});

test("one secret missing: only that one is named, and nothing is deployed", async () => {
  const r = await deploy({ config: toml({ LIVECHAT_CLIENT_ID: "client-1" }), secrets: ALL_SECRETS.filter((s) => s !== "ADMIN_TOKEN") });
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /Not deployed: 1 configuration problem\./);
  assert.match(r.out, /✗ ADMIN_TOKEN is not set/);
  assert.deepEqual(deployCalls(r.calls), []);
});

test("a secret under [vars] and a malformed var are problems; no value is printed", async () => {
  const r = await deploy({
    config: toml({ LIVECHAT_CLIENT_ID: "client-1", ADMIN_TOKEN: "plain-text-admin-token-123456789", REPLY_TIMEOUT_SECONDS: "soon" }),
    secrets: ALL_SECRETS,
  });
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /✗ ADMIN_TOKEN is a secret but set under \[vars\]/);
  assert.match(r.out, /✗ REPLY_TIMEOUT_SECONDS must be an integer from 5 to 86400\n\s+correct REPLY_TIMEOUT_SECONDS under \[vars\]/);
  assert.doesNotMatch(r.out, /plain-text-admin-token|soon/);
  assert.deepEqual(deployCalls(r.calls), []);
});

test("complete: deploys with the same configuration and prints the three Developer Console URLs from wrangler's output", async () => {
  const r = await deploy({ config: toml({ LIVECHAT_CLIENT_ID: "client-1" }), secrets: [...ALL_SECRETS, "LIVECHAT_WEBHOOK_SECRET_PREVIOUS"] });
  assert.equal(r.code, 0, r.out);
  assert.equal(deployCalls(r.calls).length, 1);
  assert.ok(deployCalls(r.calls)[0].includes("--config"));
  assert.match(r.out, /Configuration complete: 5 secrets set/);
  assert.match(r.out, /Direct installation URL\s+https:\/\/livechat-edge\.example\.workers\.dev\/install\s/);
  assert.match(r.out, /Redirect URI\s+https:\/\/livechat-edge\.example\.workers\.dev\/install\s/);
  assert.match(r.out, /App Webhooks URL\s+https:\/\/livechat-edge\.example\.workers\.dev\/webhooks\/app\s/);
  assert.match(r.out, /npm run setup -- --url https:\/\/livechat-edge\.example\.workers\.dev/);
});

test("PUBLIC_URL, when set, is the URL the console gets; a client id set as a secret counts", async () => {
  const r = await deploy({ config: toml({ PUBLIC_URL: "https://chat-edge.example.com/" }), secrets: [...ALL_SECRETS, "LIVECHAT_CLIENT_ID"] });
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /Direct installation URL\s+https:\/\/chat-edge\.example\.com\/install\s/);
  assert.match(r.out, /App Webhooks URL\s+https:\/\/chat-edge\.example\.com\/webhooks\/app\s/);
});

test("--check checks and does not deploy", async () => {
  const r = await deploy({ config: toml({ LIVECHAT_CLIENT_ID: "client-1" }), secrets: ALL_SECRETS, args: ["--check"] });
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /Configuration complete/);
  assert.deepEqual(deployCalls(r.calls), []);
});

test("wrangler failing (not logged in, or the deploy itself) fails the command, without URLs", async () => {
  const unauthenticated = await deploy({ config: toml({ LIVECHAT_CLIENT_ID: "client-1" }), secrets: "unauthenticated" });
  assert.equal(unauthenticated.code, 1, unauthenticated.out);
  assert.match(unauthenticated.out, /`wrangler secret list` failed \(exit 1\); not logged in\? Run `npx wrangler login`/);
  assert.match(unauthenticated.out, /CLOUDFLARE_API_TOKEN/, "wrangler's own words are shown");
  assert.deepEqual(deployCalls(unauthenticated.calls), []);

  const failed = await deploy({ config: toml({ LIVECHAT_CLIENT_ID: "client-1" }), secrets: ALL_SECRETS, deployResult: "fail" });
  assert.equal(failed.code, 1, failed.out);
  assert.match(failed.out, /`wrangler deploy` failed \(exit 1\)/);
  assert.doesNotMatch(failed.out, /Direct installation URL/);

  const noUrl = await deploy({ config: toml({ LIVECHAT_CLIENT_ID: "client-1" }), secrets: ALL_SECRETS, url: "none" });
  assert.equal(noUrl.code, 1, noUrl.out);
  assert.match(noUrl.out, /wrangler printed no URL for the Worker: set PUBLIC_URL/);
});
