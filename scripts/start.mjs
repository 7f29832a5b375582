// `npm start`: the Worker under wrangler dev (local KV and Durable Objects in .wrangler/state),
// wired to the local LiveChat simulator (sim/) so the whole app runs without any account:
//   1. .dev.vars with local-only secrets (scripts/local-env.mjs; never overwritten);
//   2. the simulator on SIM_PORT (8788) with the app registered (same client id and secret),
//      state kept in .sim-state/state.json;
//   3. wrangler dev on PORT (8787), then GET /healthz;
//   4. `npm run setup` against the simulator (webhooks registered from the router's declaration);
//   5. the app installed for the simulator's `demo` license through the real OAuth flow;
//   6. what to try next. Ctrl-C stops both.
// When .dev.vars points LIVECHAT_ACCOUNTS_URL / LIVECHAT_API_URL away from this machine (real
// LiveChat credentials), only the Worker runs.
import { join } from "node:path";
import { ensureLocalEnv, liveChatMode, LOCAL_CLIENT_ID } from "./local-env.mjs";
import { installThroughWorker, portInUse, ROOT, setupAgainstSimulator, simCall, startWrangler, waitForWorker } from "./local-stack.mjs";

const LICENSE = "demo";
/** Set on the demo license so tagging a chat shows suggestions (per-license settings, empty by default). */
const DEMO_TAG_SUGGESTIONS = {
  refund: ["Refunds reach your card within 5 business days.", "Could you share your order number so I can start the refund?"],
  complaint: ["I'm sorry about this. Let me make it right: could you tell me what happened?"],
};
const say = (line = "") => console.log(line);
const indent = (text, prefix) => text.trim().split("\n").map((l) => `${prefix}${l}`).join("\n");

const vars = ensureLocalEnv();
const mode = liveChatMode(vars);
const port = Number(process.env.PORT ?? 8787);
const simPort = Number(process.env.SIM_PORT ?? 8788);
const workerUrl = `http://127.0.0.1:${port}`;
const simUrl = `http://127.0.0.1:${simPort}`;

if (await portInUse(port)) fail(`port ${port} is in use (another npm start?). Stop it, or run with PORT=<other port>.`);
if (mode === "simulator" && (await portInUse(simPort))) fail(`port ${simPort} is in use (another simulator?). Stop it, or run with SIM_PORT=<other port>.`);

/** @type {Awaited<ReturnType<typeof import("../sim/server.mjs").startSimulator>> | undefined} */
let sim;
if (mode === "simulator") {
  const { startSimulator } = await import("../sim/server.mjs");
  sim = await startSimulator({
    port: simPort,
    stateFile: join(ROOT, ".sim-state", "state.json"),
    log: process.env.SIM_QUIET === "1" ? undefined : (line) => console.log(`[sim] ${line}`),
    app: {
      client_id: vars.LIVECHAT_CLIENT_ID,
      client_secret: vars.LIVECHAT_CLIENT_SECRET,
      name: "livechat-edge (local)",
      app_webhook_url: `${workerUrl}/webhooks/app`,
      redirect_uris: [`${workerUrl}/install`],
    },
    license: { name: LICENSE },
  });
  say(`LiveChat simulator on ${sim.url} (state: .sim-state/state.json)`);
} else {
  say(`Real LiveChat: LIVECHAT_ACCOUNTS_URL=${vars.LIVECHAT_ACCOUNTS_URL ?? "(wrangler.toml)"}; the simulator is not started.`);
  if (vars.LIVECHAT_CLIENT_ID === LOCAL_CLIENT_ID) say(`warning: LIVECHAT_CLIENT_ID is still the local placeholder; put your app's Client ID in .dev.vars.`);
}

// In simulator mode the URLs follow the actual ports (they are not secret, so --var is fine).
const wrangler = startWrangler({
  port,
  persistTo: ".wrangler/state",
  vars: sim ? { PUBLIC_URL: workerUrl, LIVECHAT_ACCOUNTS_URL: sim.url, LIVECHAT_API_URL: sim.url } : {},
});

let stopping = false;
async function stop(code = 0) {
  if (stopping) return;
  stopping = true;
  say("\nStopping…");
  await wrangler.stop();
  await sim?.close();
  process.exit(code);
}
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(sig, () => void stop(0));
wrangler.exited.then(({ code, signal }) => {
  if (stopping) return;
  console.error(`wrangler dev exited (${code ?? signal}).`);
  void stop(code || 1);
});

let health;
try {
  health = await waitForWorker(workerUrl, { timeoutMs: 90_000, exited: wrangler.exited });
} catch (err) {
  console.error(`error: ${err.message}`);
  await stop(1);
}
if (health.status !== 200) {
  say(`\nThe Worker runs but its configuration is incomplete (GET /healthz ${health.status}):`);
  for (const p of health.body.problems ?? []) say(`  - ${p.problem}`);
  say("Fix .dev.vars; wrangler dev reloads it.");
} else if (sim) {
  await wireSimulator();
} else {
  printReal();
}

async function wireSimulator() {
  say("\nRegistering the webhooks (npm run setup) with the simulator…");
  const setup = await setupAgainstSimulator({
    simUrl: sim.url,
    workerUrl,
    license: LICENSE,
    clientId: vars.LIVECHAT_CLIENT_ID,
    webhookSecret: vars.LIVECHAT_WEBHOOK_SECRET,
  });
  say(indent(setup.stdout || "(no output)", "  [setup] "));
  if (setup.code !== 0) say(indent(setup.stderr || `exit code ${setup.code}`, "  [setup] "));

  say(`\nInstalling the app for the "${LICENSE}" license (GET /install → authorize → /install?code)…`);
  const install = await installThroughWorker({ simUrl: sim.url, workerUrl, license: LICENSE });
  if (!install.ok) say(indent(`install failed:\n${install.output}`, "  "));

  const license = await simCall(sim.url, "GET", `/_sim/licenses/${LICENSE}`).catch(() => undefined);
  const ok = setup.code === 0 && install.ok;
  if (ok && license) await demoSettings(license.organization_id);
  const defaultPorts = sim.url === "http://127.0.0.1:8788" && workerUrl === "http://127.0.0.1:8787";
  const cli = "npm run sim:cli --";
  const timeout = vars.REPLY_TIMEOUT_SECONDS ?? 120;
  const tries = [
    [`${cli} bot status --license ${LICENSE}`, "the app's bot, accepting chats"],
    [`${cli} chat start --license ${LICENSE} --customer Ann --text "Where is my order?"`, "prints CHAT_ID"],
    [`${cli} transcript --chat CHAT_ID`, `after ${timeout} s without an answer: the bot's nudge`],
    [`${cli} say --chat CHAT_ID --as customer --text "Hello?"`, ""],
    [`${cli} say --chat CHAT_ID --as agent --text "On it!"`, "answered in time: no second nudge"],
    [`${cli} tag --chat CHAT_ID --tag refund`, "suggestions for agents"],
    [`${cli} rate --chat CHAT_ID good`, "a reaction for agents (try bad on another chat)"],
    [`${cli} bot offline --license ${LICENSE}`, "knock the bot offline, then let the cron heal it:"],
    [`curl "${workerUrl}/cdn-cgi/handler/scheduled?cron=*/5+*+*+*+*"`, ""],
    [`${cli} webhooks log`, "what LiveChat sent and how the Worker answered"],
    [`${cli} uninstall --license ${LICENSE}`, "everything stops"],
  ];
  const width = Math.min(72, Math.max(...tries.map(([c]) => c.length)));
  const page = install.result?.page?.replace(/^(.+?) \1 /, "$1: ");
  say(`
────────────────────────────────────────────────────────────────────────────
livechat-edge runs locally against a simulated LiveChat${ok ? "" : " (see the problems above)"}.
  Worker      ${workerUrl}   (GET /healthz)
  Admin       ${workerUrl}/admin   token: ADMIN_TOKEN in .dev.vars
  Simulator   ${sim.url}   license "${LICENSE}"${license ? `, organization ${license.organization_id}` : ""}
  Install     ${ok ? page?.slice(0, 160) : "failed (see above)"}
  Reply timeout ${timeout} s (REPLY_TIMEOUT_SECONDS in .dev.vars)

Try it in another terminal (README "Try it locally" walks through it):
${defaultPorts ? "" : `  export SIM_URL=${sim.url} WORKER_URL=${workerUrl}\n`}${tries.map(([c, what]) => (what ? `  ${c.padEnd(width)}  # ${what}` : `  ${c}`)).join("\n")}
  ${cli} help
Ctrl-C stops the Worker and the simulator.
────────────────────────────────────────────────────────────────────────────`);
}

/** Demo tag suggestions for the demo license, unless it has some (admin API, ADMIN_TOKEN). */
async function demoSettings(org) {
  const url = `${workerUrl}/admin/api/licenses/${encodeURIComponent(org)}/settings`;
  const headers = { authorization: `Bearer ${vars.ADMIN_TOKEN}`, "content-type": "application/json" };
  try {
    const current = await fetch(url, { headers });
    if (!current.ok) return say(`  (demo settings skipped: GET ${new URL(url).pathname} → ${current.status})`);
    if (Object.keys((await current.json()).tagSuggestions ?? {}).length) return;
    const res = await fetch(url, { method: "PUT", headers, body: JSON.stringify({ tagSuggestions: DEMO_TAG_SUGGESTIONS }) });
    if (res.ok) say(`  Demo tag suggestions for ${Object.keys(DEMO_TAG_SUGGESTIONS).join(", ")} set through the admin API.`);
    else say(`  (demo settings not set: PUT → ${res.status})`);
  } catch (err) {
    say(`  (demo settings skipped: ${err.message})`);
  }
}

function printReal() {
  say(`
────────────────────────────────────────────────────────────────────────────
livechat-edge runs locally against real LiveChat.
  Worker  ${workerUrl}   public URL: ${vars.PUBLIC_URL ?? "(PUBLIC_URL not set: derived from requests)"}
  Register the webhooks:  LIVECHAT_PAT=… LIVECHAT_ACCOUNT_ID=… npm run setup -- --url <public URL>
  Install:                open <public URL>/install
Ctrl-C stops the Worker.
────────────────────────────────────────────────────────────────────────────`);
}

function fail(message) {
  console.error(`error: ${message}`);
  process.exit(1);
}
