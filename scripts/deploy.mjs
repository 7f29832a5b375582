// `npm run deploy`: checks the deployment's configuration, deploys, and prints the three URLs to
// paste into the LiveChat Developer Console.
//
//   npm run deploy [-- --check] [-- --config wrangler.toml]
//
// 1. `wrangler secret list`: every secret src/config.ts needs is set (none is, before the first
//    deploy: `wrangler secret put` then creates the Worker), and every var it needs has a value in
//    wrangler.toml (src/setup/deploy.ts); each missing one is named with the command that sets it;
// 2. `wrangler deploy` (the first one also creates the TOKENS KV namespace);
// 3. the Direct installation URL, Redirect URI and App Webhooks URL, from PUBLIC_URL or the URL
//    wrangler printed.
// WRANGLER_BIN (a path) replaces node_modules/.bin/wrangler: the tests answer for wrangler there.
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { parseArgs } from "node:util";
import { importTs } from "./import-ts.mjs";
import { ROOT, WRANGLER_ENV } from "./local-stack.mjs";

const USAGE = `Usage: npm run deploy [-- options]

Checks that every secret and var the Worker needs is set, deploys it with wrangler, and prints
the URLs to paste into the LiveChat Developer Console.

Options:
  --check            check only, do not deploy
  --config <file>    wrangler configuration (default: wrangler.toml)
  -h, --help         this text`;

const say = (line = "") => console.log(line);
function fail(message) {
  console.error(`deploy: ${message}`);
  process.exit(1);
}

let args;
try {
  ({ values: args } = parseArgs({
    options: { check: { type: "boolean", default: false }, config: { type: "string", default: "wrangler.toml" }, help: { type: "boolean", short: "h", default: false } },
  }));
} catch (error) {
  fail(`${error.message}\n${USAGE}`);
}
if (args.help) {
  say(USAGE);
  process.exit(0);
}

const configPath = isAbsolute(args.config) ? args.config : join(ROOT, args.config);
if (!existsSync(configPath)) fail(`${args.config} not found`);
const wranglerToml = readFileSync(configPath, "utf8");

let check;
try {
  check = await importTs("src/setup/deploy.ts");
} catch (error) {
  fail(error.message);
}

/**
 * Run wrangler with `argv`; resolves with its exit code and output. With `echo`, its output also
 * goes to this terminal as it comes.
 * @param {string[]} argv
 * @param {{ echo?: boolean }} [options]
 * @returns {Promise<{ code: number | null, stdout: string, stderr: string }>}
 */
function wrangler(argv, { echo = false } = {}) {
  const bin = process.env.WRANGLER_BIN || join(ROOT, "node_modules", ".bin", "wrangler");
  const [command, prefix] = /\.[cm]?js$/.test(bin) ? [process.execPath, [bin]] : [bin, []];
  return new Promise((resolve) => {
    const child = spawn(command, [...prefix, ...argv, "--config", configPath], {
      cwd: ROOT,
      env: { ...process.env, ...WRANGLER_ENV },
      stdio: ["inherit", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => {
      stdout += d;
      if (echo) process.stdout.write(d);
    });
    child.stderr.on("data", (d) => {
      stderr += d;
      if (echo) process.stderr.write(d);
    });
    child.once("error", (error) => resolve({ code: 127, stdout, stderr: `${stderr}${error.message}\n` }));
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

// 1. What is set.
const listed = await wrangler(["secret", "list", "--format", "json"]);
/** @type {string[]} */
let secrets = [];
let firstDeploy = false;
if (listed.code === 0) {
  try {
    secrets = JSON.parse(listed.stdout).map((s) => s.name);
  } catch {
    fail(`could not read \`wrangler secret list\`'s answer:\n${listed.stdout.trim().slice(0, 500)}`);
  }
} else if (/not found/i.test(listed.stdout + listed.stderr)) {
  // Before the first deploy the Worker does not exist; `wrangler secret put` creates it.
  firstDeploy = true;
} else {
  const output = (listed.stderr + listed.stdout).trim().slice(-1500);
  fail(`\`wrangler secret list\` failed (exit ${listed.code}); not logged in? Run \`npx wrangler login\`.\n${output}`);
}

const problems = check.deployProblems({ wranglerToml, secrets });
if (problems.length) {
  say(`Not deployed: ${problems.length} configuration problem${problems.length === 1 ? "" : "s"}${firstDeploy ? " (the Worker does not exist yet)" : ""}.`);
  for (const p of problems) {
    say(`  ✗ ${p.name} ${p.problem}`);
    say(`      ${p.fix}`);
  }
  say("Then run `npm run deploy` again.");
  process.exit(1);
}
say(`Configuration complete: ${secrets.length} secrets set, the vars the Worker needs have values.`);
if (args.check) process.exit(0);

// 2. Deploy.
const deployed = await wrangler(["deploy"], { echo: true });
if (deployed.code !== 0) fail(`\`wrangler deploy\` failed (exit ${deployed.code}).`);

// 3. The URLs for the Developer Console.
const url = check.configuredUrl(wranglerToml) ?? check.deployedUrl(deployed.stdout + deployed.stderr);
if (!url) fail("deployed, but wrangler printed no URL for the Worker: set PUBLIC_URL under [vars] in wrangler.toml and run again.");
const urls = check.consoleUrls(url);
say();
say("Deployed. In the LiveChat Developer Console (your app → Building blocks):");
say(`  Direct installation URL   ${urls.directInstall}      App Authorization`);
say(`  Redirect URI              ${urls.redirectUri}      App Authorization → Redirect URI whitelist`);
say(`  App Webhooks URL          ${urls.appWebhooks}   App Webhooks`);
say();
say("Next: register the chat webhooks, then check the deployment from outside:");
say(`  LIVECHAT_PAT=… LIVECHAT_ACCOUNT_ID=… LIVECHAT_WEBHOOK_SECRET=… npm run setup -- --url ${url}`);
say(`  ADMIN_TOKEN=… LIVECHAT_PAT=… LIVECHAT_ACCOUNT_ID=… npm run doctor -- --url ${url}`);
