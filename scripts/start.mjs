// `npm start`: the Worker under wrangler dev (local KV and Durable Objects in .wrangler/state),
// wired to the local LiveChat simulator (sim/) so the whole app runs without any account:
//   1. .dev.vars with local-only secrets (scripts/local-env.mjs; never overwritten);
//   2. the simulator on SIM_PORT (8788) with the app registered (same client id and secret),
//      state kept in .sim-state/state.json;
//   3. wrangler dev on PORT (8787), then GET /healthz;
//   4. `npm run setup` against the simulator (webhooks registered from the router's declaration);
//   5. the app installed for the simulator's `demo` license through the real OAuth flow;
//   6. a check that LiveChat's webhooks are answered 200, not 401;
//   7. what to try next, only when all of that worked; otherwise what to do. Ctrl-C stops both.
// A new .dev.vars over local state the old one made (a user deleted .dev.vars to "reset") is
// detected: the webhooks are registered again with the new secret and the app is reinstalled.
// When .dev.vars points LIVECHAT_ACCOUNTS_URL / LIVECHAT_API_URL away from this machine (real
// LiveChat credentials), only the Worker runs.
//
// Environment: PORT (8787), SIM_PORT (8788), INSPECTOR_PORT, SIM_QUIET=1 (no simulator log lines),
// LOCAL_STATE_DIR (where .dev.vars, .wrangler/state and .sim-state live; default: the repository).
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { ensureLocalEnv, liveChatMode, LOCAL_CLIENT_ID } from "./local-env.mjs";
import { installThroughWorker, portInUse, ROOT, setupAgainstSimulator, simCall, startWrangler, waitForWorker } from "./local-stack.mjs";

const LICENSE = "demo";
/** Set on the demo license so tagging a chat shows suggestions (per-license settings, empty by default). */
const DEMO_TAG_SUGGESTIONS = {
  refund: ["Refunds reach your card within 5 business days.", "Could you share your order number so I can start the refund?"],
  complaint: ["I'm sorry about this. Let me make it right: could you tell me what happened?"],
};
/** Words customers use for the demo tags, matched with the suggestions' own words (suggestions from what the customer writes). */
const DEMO_TAG_KEYWORDS = {
  refund: ["money back", "reimburse"],
  complaint: ["broken", "damaged", "disappointed", "unhappy"],
};
const say = (line = "") => console.log(line);
const indent = (text, prefix) => text.trim().split("\n").map((l) => `${prefix}${l}`).join("\n");

const stateDir = resolve(process.env.LOCAL_STATE_DIR ?? ROOT);
const devVarsFile = join(stateDir, ".dev.vars");
const wranglerState = join(stateDir, ".wrangler", "state");
const simStateFile = join(stateDir, ".sim-state", "state.json");
const freshVars = !existsSync(devVarsFile);
const vars = ensureLocalEnv({}, say, devVarsFile);
const mode = liveChatMode(vars);
/**
 * Local state made with other secrets: the Worker's tokens are sealed with the old
 * TOKEN_ENCRYPTION_KEY and the simulator's webhooks carry the old LIVECHAT_WEBHOOK_SECRET.
 */
const staleState = freshVars && (existsSync(wranglerState) || existsSync(simStateFile));
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
    stateFile: simStateFile,
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
  say(`LiveChat simulator on ${sim.url} (state: ${relative(simStateFile)})`);
  if (staleState) {
    say(
      `A new .dev.vars was generated, but ${relative(wranglerState)} and ${relative(simStateFile)} hold what the old secrets made:\n` +
        `the webhooks are registered again with the new secret and the app is reinstalled. (To start from nothing\n` +
        `instead: Ctrl-C, delete both, npm start.)`,
    );
  }
} else {
  say(`Real LiveChat: LIVECHAT_ACCOUNTS_URL=${vars.LIVECHAT_ACCOUNTS_URL ?? "(wrangler.toml)"}; the simulator is not started.`);
  if (vars.LIVECHAT_CLIENT_ID === LOCAL_CLIENT_ID) say(`warning: LIVECHAT_CLIENT_ID is still the local placeholder; put your app's Client ID in .dev.vars.`);
}

// In simulator mode the URLs follow the actual ports (they are not secret, so --var is fine).
const wrangler = startWrangler({
  port,
  persistTo: wranglerState,
  ...(stateDir === ROOT ? {} : { envFile: devVarsFile }),
  ...(process.env.INSPECTOR_PORT ? { inspectorPort: Number(process.env.INSPECTOR_PORT) } : {}),
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
  say(
    `Fix ${relative(devVarsFile)}, then restart: Ctrl-C and npm start again. (wrangler dev reads it only when it starts,\n` +
      "and the webhook setup and the install run only at start.)",
  );
} else if (sim) {
  await wireSimulator();
} else {
  printReal();
}

async function wireSimulator() {
  say(`\nRegistering the webhooks (npm run setup${staleState ? " --replace" : ""}) with the simulator…`);
  let setup = await runSetup(staleState);

  say(`\nInstalling the app for the "${LICENSE}" license (GET /install → authorize → /install?code)…`);
  const before = await lastDeliveryId();
  const install = await installThroughWorker({ simUrl: sim.url, workerUrl, license: LICENSE });
  if (!install.ok) say(indent(`install failed:\n${install.output}`, "  "));

  // The install makes LiveChat send webhooks (the bot's routing status): a 401 means they carry
  // a secret the Worker does not accept (registered with another LIVECHAT_WEBHOOK_SECRET).
  let refused = install.ok ? await refusedWebhooks(before) : 0;
  if (refused && setup.code === 0 && !staleState) {
    say(`\n${refused} webhook(s) answered 401: they were registered with another LIVECHAT_WEBHOOK_SECRET. Registering them again; the next ones carry the current secret.`);
    setup = await runSetup(true);
    refused = 0;
  }

  const license = await simCall(sim.url, "GET", `/_sim/licenses/${LICENSE}`).catch(() => undefined);
  const ok = setup.code === 0 && install.ok && refused === 0;
  if (ok && license) await demoSettings(license.organization_id);
  if (!ok) {
    const todo = [];
    if (setup.code !== 0) todo.push("The webhook setup failed (see [setup] above): fix what it names, then restart (Ctrl-C, npm start).");
    if (!install.ok) todo.push(`The install failed (see above): after fixing the cause, \`npm run sim:cli -- install --license ${LICENSE}\` tries again.`);
    if (refused) todo.push("LiveChat's webhooks are answered 401: run `npm run setup -- --replace` (or restart) so they carry LIVECHAT_WEBHOOK_SECRET.");
    todo.push(`To start from nothing: Ctrl-C, delete ${relative(wranglerState)}, ${relative(simStateFile)} and ${relative(devVarsFile)}, then npm start.`);
    say(`
────────────────────────────────────────────────────────────────────────────
livechat-edge runs locally against a simulated LiveChat, but the app does not work yet.
  Worker      ${workerUrl}   (GET /healthz)
  Admin       ${workerUrl}/admin   token: ADMIN_TOKEN in ${relative(devVarsFile)}
  Simulator   ${sim.url}   license "${LICENSE}"
What to do:
${todo.map((t) => `  - ${t}`).join("\n")}
Ctrl-C stops the Worker and the simulator.
────────────────────────────────────────────────────────────────────────────`);
    return;
  }
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
    [`${cli} say --chat CHAT_ID --as customer --text "It arrived broken, I'm disappointed"`, "suggestions from the customer's words (complaint), for agents"],
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
livechat-edge runs locally against a simulated LiveChat.
  Worker      ${workerUrl}   (GET /healthz)
  Admin       ${workerUrl}/admin   token: ADMIN_TOKEN in ${relative(devVarsFile)}
  Simulator   ${sim.url}   license "${LICENSE}"${license ? `, organization ${license.organization_id}` : ""}
  Install     ${page?.slice(0, 160)}
  Reply timeout ${timeout} s (REPLY_TIMEOUT_SECONDS in .dev.vars)

Try it in another terminal (README "Try it locally" walks through it):
${defaultPorts ? "" : `  export SIM_URL=${sim.url} WORKER_URL=${workerUrl}\n`}${tries.map(([c, what]) => (what ? `  ${c.padEnd(width)}  # ${what}` : `  ${c}`)).join("\n")}
  ${cli} help
Ctrl-C stops the Worker and the simulator.
────────────────────────────────────────────────────────────────────────────`);
}

/** `npm run setup` against the simulator, its output indented; `replace` registers every webhook again. */
async function runSetup(replace) {
  const setup = await setupAgainstSimulator({
    simUrl: sim.url,
    workerUrl,
    license: LICENSE,
    clientId: vars.LIVECHAT_CLIENT_ID,
    webhookSecret: vars.LIVECHAT_WEBHOOK_SECRET,
    replace,
  });
  say(indent(setup.stdout || "(no output)", "  [setup] "));
  if (setup.code !== 0) say(indent(setup.stderr || `exit code ${setup.code}`, "  [setup] "));
  return setup;
}

/** The simulator's newest delivery id number (0 when none). */
async function lastDeliveryId() {
  const all = await simCall(sim.url, "GET", "/_sim/deliveries").catch(() => []);
  return all.reduce((max, d) => Math.max(max, Number(d.id.slice(1)) || 0), 0);
}

/**
 * How many webhooks sent after delivery `since` the Worker answered 401. Waits (up to ~10 s)
 * for the install's first webhook and for the deliveries to settle.
 */
async function refusedWebhooks(since) {
  const deadline = Date.now() + 10_000;
  let sent = [];
  while (Date.now() < deadline) {
    sent = await simCall(sim.url, "GET", `/_sim/deliveries?since=${since}&kind=webhook`).catch(() => []);
    if (sent.length) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  await simCall(sim.url, "POST", "/_sim/idle", { timeout_ms: 5_000, first_attempts_only: true }).catch(() => {});
  sent = await simCall(sim.url, "GET", `/_sim/deliveries?since=${since}`).catch(() => sent);
  return sent.filter((d) => d.attempts.some((a) => a.status === 401)).length;
}

/** A path as the user knows it: relative to the repository when inside it. */
function relative(path) {
  return path.startsWith(`${ROOT}/`) ? path.slice(ROOT.length + 1) : path;
}

/** Demo tag suggestions and keywords for the demo license, unless it has suggestions (admin API, ADMIN_TOKEN). */
async function demoSettings(org) {
  const url = `${workerUrl}/admin/api/licenses/${encodeURIComponent(org)}/settings`;
  const headers = { authorization: `Bearer ${vars.ADMIN_TOKEN}`, "content-type": "application/json" };
  try {
    const current = await fetch(url, { headers });
    if (!current.ok) return say(`  (demo settings skipped: GET ${new URL(url).pathname} → ${current.status})`);
    if (Object.keys((await current.json()).tagSuggestions ?? {}).length) return;
    const res = await fetch(url, { method: "PUT", headers, body: JSON.stringify({ tagSuggestions: DEMO_TAG_SUGGESTIONS, tagKeywords: DEMO_TAG_KEYWORDS }) });
    if (res.ok) say(`  Demo tag suggestions and keywords for ${Object.keys(DEMO_TAG_SUGGESTIONS).join(", ")} set through the admin API.`);
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
