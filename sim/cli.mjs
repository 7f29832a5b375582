#!/usr/bin/env node
// Drive a running LiveChat simulator through its control API (SIM_URL, default http://127.0.0.1:8788).
// `node sim/cli.mjs help` lists the commands; `--json` prints machine-readable answers.
import { parseArgs } from "node:util";

const HELP = `Usage: node sim/cli.mjs <command> [options]   (SIM_URL=${process.env.SIM_URL ?? "http://127.0.0.1:8788"})

Setup
  app register --client-id ID --client-secret S [--app-webhook-url URL] [--redirect-uri URL] [--worker URL] [--scopes LIST]
  app list
  license add NAME [--region dal|fra] [--current]        license list        license use NAME
  install --license L [--region fra] [--worker URL] [--deny] [--direct] [--client-id ID]
  uninstall --license L [--client-id ID]
  pat --license L                                          a Personal Access Token (LIVECHAT_ACCOUNT_ID, LIVECHAT_PAT)

Chats (as the customer in the widget or the human agent in the agent app)
  chat start [--license L] [--customer "Ann"] [--email E] [--text "hi"] [--no-route] [--first-message-as-event]
  chat list [--license L]
  say --chat ID --as customer|agent --text "..." [--agents-only]
  tag --chat ID --tag refund [--remove]                   untag --chat ID --tag refund
  rate --chat ID good|bad [--comment "..."]               unrate --chat ID
  close --chat ID [--as agent|customer]
  transcript --chat ID

Bots and routing (as the license owner in the agent app)
  bot status --license L
  bot offline|online|not-accepting --license L [--bot ID]  (online = accepting chats; default: every bot)
  agent online|not-accepting --license L

Webhooks, faults, state
  webhooks log [--action A] [--chat ID] [--license L] [--state pending|delivered|failed|withheld] [--body]
                                                           (withheld: LiveChat would not send it, and why)
  webhooks wait [--timeout-ms 10000]
  fault add --match PATH_PART [--status 429|500|...] [--type T] [--message M] [--count N | --always]
            [--delay-ms N] [--reset] [--method POST]
  fault list | fault clear | fault remove ID
  fault revoke --license L [--bots] [--client-id ID]       revoke the license's tokens (API → 401, refresh → invalid_grant)
  fault expire --license L                                 expire its access tokens (refresh still works)
  state | reset

Global: --sim URL (or SIM_URL), --json`;

const OPTIONS = /** @type {const} */ ({
  sim: { type: "string" },
  json: { type: "boolean", default: false },
  help: { type: "boolean", short: "h", default: false },
  "client-id": { type: "string" },
  "client-secret": { type: "string" },
  "app-webhook-url": { type: "string" },
  "redirect-uri": { type: "string", multiple: true },
  worker: { type: "string" },
  scopes: { type: "string" },
  name: { type: "string" },
  license: { type: "string" },
  region: { type: "string" },
  current: { type: "boolean", default: false },
  deny: { type: "boolean", default: false },
  direct: { type: "boolean", default: false },
  customer: { type: "string" },
  email: { type: "string" },
  text: { type: "string" },
  "no-route": { type: "boolean", default: false },
  "first-message-as-event": { type: "boolean", default: false },
  chat: { type: "string" },
  as: { type: "string" },
  "agents-only": { type: "boolean", default: false },
  tag: { type: "string" },
  remove: { type: "boolean", default: false },
  comment: { type: "string" },
  bot: { type: "string" },
  action: { type: "string" },
  state: { type: "string" },
  body: { type: "boolean", default: false },
  "timeout-ms": { type: "string" },
  match: { type: "string" },
  status: { type: "string" },
  type: { type: "string" },
  message: { type: "string" },
  count: { type: "string" },
  always: { type: "boolean", default: false },
  "delay-ms": { type: "string" },
  reset: { type: "boolean", default: false },
  method: { type: "string" },
  bots: { type: "boolean", default: false },
});

class CliError extends Error {}

/**
 * Why a fetch failed, e.g. "ECONNREFUSED".
 * @param {unknown} err
 */
function networkReason(err) {
  const e = /** @type {any} */ (err);
  return String(e?.cause?.code ?? e?.message ?? e);
}

/**
 * Call the simulator's control API.
 * @param {string} base
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 */
async function call(base, method, path, body) {
  let res;
  try {
    res = await fetch(`${base}${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new CliError(`cannot reach the simulator at ${base} (${networkReason(err)}); start it with: node sim/server.mjs`);
  }
  const text = await res.text();
  const data = text ? JSON.parse(text) : {};
  if (!res.ok) throw new CliError(`${data?.error?.type ?? res.status}: ${data?.error?.message ?? text}`);
  return data;
}

/** @param {Record<string, any>} v @param {string} key */
function need(v, key) {
  if (v[key] === undefined || v[key] === "") throw new CliError(`--${key} is required`);
  return v[key];
}

/** Strip tags from an HTML page for a one-screen summary. */
const htmlText = (html) =>
  html
    .replace(/<(script|style)[\s\S]*?<\/\1>/gi, "")
    .replace(/<[^>]+>/g, " ")
    .replace(/&amp;/g, "&")
    .replace(/&lt;/g, "<")
    .replace(/&gt;/g, ">")
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/\s+/g, " ")
    .trim();

/**
 * The real install: GET <worker>/install → the authorize URL it redirects to (with the simulator's
 * `license` extension) → back to <worker>/install?code&state → the Worker's result page.
 * @param {string} sim
 * @param {Record<string, any>} v
 */
async function installThroughWorker(sim, v) {
  const license = need(v, "license");
  const worker = (v.worker ?? process.env.WORKER_URL ?? "http://127.0.0.1:8787").replace(/\/+$/, "");
  await call(sim, "POST", "/_sim/licenses", { name: license, ...(v.region ? { region: v.region } : {}) });
  const steps = [];
  let start;
  try {
    start = await fetch(`${worker}/install`, { redirect: "manual" });
  } catch (err) {
    throw new CliError(`cannot reach the Worker at ${worker} (${networkReason(err)}); start it (npm start) or use --direct`);
  }
  const authorizeAt = start.headers.get("location");
  steps.push({ step: "GET /install", status: start.status, location: authorizeAt });
  if (start.status !== 302 || !authorizeAt) throw new CliError(`the Worker answered ${start.status} instead of redirecting to LiveChat: ${htmlText(await start.text()).slice(0, 300)}`);
  const authorizeUrl = new URL(authorizeAt, worker);
  authorizeUrl.searchParams.set("license", license);
  if (v.region) authorizeUrl.searchParams.set("region", v.region);
  if (v.deny) authorizeUrl.searchParams.set("sim_deny", "1");
  // As a browser would: the Worker's state cookie goes back with the callback (it binds the flow to whoever started it).
  const cookie = start.headers.getSetCookie().map((c) => c.split(";")[0]).join("; ");
  const approved = await fetch(authorizeUrl, { redirect: "manual" });
  const back = approved.headers.get("location");
  steps.push({ step: "authorize", status: approved.status, location: back });
  if (approved.status !== 302 || !back) throw new CliError(`authorize answered ${approved.status}`);
  if (new URL(back).pathname === "/ooops") throw new CliError(`LiveChat (simulated) refused the authorization: ${new URL(back).search}`);
  const result = await fetch(back, { redirect: "manual", headers: cookie ? { cookie } : {} });
  const text = await result.text();
  steps.push({ step: "GET /install?code", status: result.status });
  return { license, steps, status: result.status, page: htmlText(text) };
}

/**
 * @param {string[]} args
 */
async function run(args) {
  const parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  const positionals = parsed.positionals;
  /** @type {Record<string, any>} */
  const v = parsed.values;
  const sim = (v.sim ?? process.env.SIM_URL ?? "http://127.0.0.1:8788").replace(/\/+$/, "");
  const [cmd, sub, arg] = positionals;
  /** @type {(data: unknown, text: () => string) => void} */
  const out = (data, text) => console.log(v.json ? JSON.stringify(data, null, 2) : text());
  const c = (method, path, body) => call(sim, method, path, body);
  const enc = encodeURIComponent;

  if (v.help || !cmd || cmd === "help") return console.log(HELP);

  switch (`${cmd}${["app", "license", "chat", "bot", "agent", "webhooks", "fault"].includes(cmd) ? ` ${sub ?? ""}` : ""}`) {
    case "app register": {
      const worker = v.worker?.replace(/\/+$/, "");
      const app = await c("POST", "/_sim/apps", {
        client_id: need(v, "client-id"),
        ...(v["client-secret"] ? { client_secret: v["client-secret"] } : {}),
        ...(v["app-webhook-url"] || worker ? { app_webhook_url: v["app-webhook-url"] ?? `${worker}/webhooks/app` } : {}),
        ...(v["redirect-uri"] || worker ? { redirect_uris: v["redirect-uri"] ?? [`${worker}/install`] } : {}),
        ...(v.scopes ? { scopes: v.scopes } : {}),
        ...(v.name ? { name: v.name } : {}),
      });
      return out(app, () => `app ${app.client_id} registered; app webhooks → ${app.app_webhook_url ?? "(none)"}; redirect URIs: ${app.redirect_uris.join(", ") || "(any)"}`);
    }
    case "app list": {
      const apps = await c("GET", "/_sim/apps");
      return out(apps, () => apps.map((a) => `${a.client_id}  app webhooks → ${a.app_webhook_url ?? "(none)"}  scopes: ${a.scopes}`).join("\n") || "(no apps)");
    }
    case "license add": {
      const lic = await c("POST", "/_sim/licenses", { name: arg ?? need(v, "name"), ...(v.region ? { region: v.region } : {}), current: v.current });
      return out(lic, () => `license ${lic.name}: organization ${lic.organization_id}, license ${lic.license_id}, region ${lic.region}`);
    }
    case "license list": {
      const lics = await c("GET", "/_sim/licenses");
      return out(lics, () =>
        lics
          .map((l) => {
            const installed = Object.entries(l.installs).filter(([, i]) => i.installed).map(([id]) => id);
            const bots = l.bots.map((b) => `${b.name} (${b.status})`).join(", ");
            return `${l.name}  org ${l.organization_id}  license ${l.license_id}  ${l.region}  installed: ${installed.join(", ") || "-"}  bots: ${bots || "-"}  chats: ${l.chats}`;
          })
          .join("\n"),
      );
    }
    case "license use": {
      const r = await c("POST", "/_sim/current-license", { name: arg ?? need(v, "name") });
      return out(r, () => `current license: ${r.current_license}`);
    }
    case "install": {
      if (v.direct) {
        const r = await c("POST", `/_sim/licenses/${enc(need(v, "license"))}/install`, { ...(v["client-id"] ? { client_id: v["client-id"] } : {}), ...(v.region ? { region: v.region } : {}) });
        return out(r, () => `installed on ${r.license.name} (org ${r.license.organization_id})${r.installed ? "" : " (was already installed)"}\naccess token: ${r.tokens.access_token}\nrefresh token: ${r.tokens.refresh_token}`);
      }
      const r = await installThroughWorker(sim, v);
      return out(r, () => `${r.steps.map((s) => `${s.step}: ${s.status}${s.location ? ` → ${s.location}` : ""}`).join("\n")}\nWorker answered ${r.status}: ${r.page.slice(0, 500)}`);
    }
    case "uninstall": {
      const r = await c("POST", `/_sim/licenses/${enc(need(v, "license"))}/uninstall`, v["client-id"] ? { client_id: v["client-id"] } : {});
      return out(r, () => (r.uninstalled ? `uninstalled from ${r.license.name}; its tokens are revoked` : `the app was not installed on ${r.license.name}`));
    }
    case "pat": {
      const r = await c("POST", `/_sim/licenses/${enc(need(v, "license"))}/pats`, {});
      return out(r, () => `LIVECHAT_ACCOUNT_ID=${r.account_id}\nLIVECHAT_PAT=${r.token}\nAuthorization: ${r.authorization}`);
    }
    case "chat start": {
      const r = await c("POST", "/_sim/chats", {
        ...(v.license ? { license: v.license } : {}),
        ...(v.customer ? { customer: v.customer } : {}),
        ...(v.email ? { email: v.email } : {}),
        ...(v.text ? { text: v.text } : {}),
        route: !v["no-route"],
        first_message_as_event: v["first-message-as-event"],
      });
      return out(r, () => `chat ${r.chat_id} (thread ${r.thread_id}) on ${r.license}; in the chat: ${r.users.join(", ")}`);
    }
    case "chat list": {
      const chats = await c("GET", `/_sim/chats${v.license ? `?license=${enc(v.license)}` : ""}`);
      return out(chats, () =>
        chats
          .map((x) => `${x.id}  ${x.license}  ${x.active ? "active" : "closed"}  ${x.customer}  [${x.users.join(", ")}]${x.tags.length ? `  tags: ${x.tags.join(",")}` : ""}${x.last_message ? `  last: ${x.last_message.author}: ${x.last_message.text}` : ""}`)
          .join("\n") || "(no chats)",
      );
    }
    case "say": {
      const r = await c("POST", `/_sim/chats/${enc(need(v, "chat"))}/messages`, { as: v.as ?? "customer", text: need(v, "text"), visibility: v["agents-only"] ? "agents" : "all" });
      return out(r, () => `event ${r.event_id} in thread ${r.thread_id}${r.resumed ? " (the closed chat was resumed in a new thread)" : ""}`);
    }
    case "tag":
    case "untag": {
      const r = await c("POST", `/_sim/chats/${enc(need(v, "chat"))}/tags`, { tag: need(v, "tag"), remove: cmd === "untag" || v.remove });
      return out(r, () => `thread ${r.thread_id} tags: ${r.tags.join(", ") || "(none)"}${r.changed ? "" : " (unchanged)"}`);
    }
    case "rate": {
      const score = sub;
      if (score !== "good" && score !== "bad") throw new CliError("rate needs good or bad: rate --chat ID good");
      const r = await c("POST", `/_sim/chats/${enc(need(v, "chat"))}/rating`, { score, ...(v.comment !== undefined ? { comment: v.comment } : {}) });
      return out(r, () => `thread ${r.thread_id} rated ${score}`);
    }
    case "unrate": {
      const r = await c("DELETE", `/_sim/chats/${enc(need(v, "chat"))}/rating`);
      return out(r, () => `rating of thread ${r.thread_id} canceled`);
    }
    case "close": {
      const r = await c("POST", `/_sim/chats/${enc(need(v, "chat"))}/close`, { as: v.as ?? "agent" });
      return out(r, () => `thread ${r.thread_id} closed`);
    }
    case "transcript": {
      const id = enc(need(v, "chat"));
      if (v.json) return out(await c("GET", `/_sim/chats/${id}/transcript`), () => "");
      return console.log((await c("GET", `/_sim/chats/${id}/transcript?format=text`)).text);
    }
    case "bot status": {
      const lic = await c("GET", `/_sim/licenses/${enc(need(v, "license"))}`);
      return out(lic.bots, () => lic.bots.map((b) => `${b.id}  ${b.name}  owner ${b.owner_client_id}  ${b.status}`).join("\n") || "(no bots)");
    }
    case "bot offline":
    case "bot online":
    case "bot not-accepting":
    case "agent online":
    case "agent not-accepting": {
      const status = { offline: "offline", online: "accepting_chats", "not-accepting": "not_accepting_chats" }[sub];
      const agentId = cmd === "agent" ? "agent" : (v.bot ?? "bots");
      const r = await c("POST", `/_sim/licenses/${enc(need(v, "license"))}/routing`, { status, agent_id: agentId });
      return out(r, () => (r.set.length ? `${r.set.join(", ")} → ${r.status}` : "no bots on this license"));
    }
    case "webhooks log": {
      const q = new URLSearchParams();
      for (const key of ["action", "license", "state"]) if (v[key]) q.set(key, v[key]);
      if (v.chat) q.set("chat_id", v.chat);
      const log = await c("GET", `/_sim/deliveries?${q}`);
      return out(log, () =>
        log
          .map((d) => {
            const attempts = d.attempts.map((a) => a.status ?? a.error).join(",") || "-";
            const head = `${d.id}  ${d.created_at.slice(11, 19)}  ${d.kind === "app" ? "app " : ""}${d.action}${d.chat_id ? ` chat ${d.chat_id}` : ""} → ${d.url}  [${attempts}] ${d.state}${d.reason ? ` (${d.reason})` : ""}`;
            if (!v.body) return head;
            const { secret_key: _hidden, ...shown } = d.body;
            return `${head}\n${JSON.stringify(shown, null, 2)}`;
          })
          .join("\n") || "(no deliveries)",
      );
    }
    case "webhooks wait": {
      const r = await c("POST", "/_sim/idle", { timeout_ms: Number(v["timeout-ms"] ?? 10_000) });
      return out(r, () => (r.idle ? "all deliveries settled" : `${r.pending} deliveries still pending`));
    }
    case "fault add": {
      const f = await c("POST", "/_sim/faults", {
        match: v.match ?? "",
        ...(v.status ? { status: Number(v.status) } : {}),
        ...(v.type ? { type: v.type } : {}),
        ...(v.message ? { message: v.message } : {}),
        ...(v.method ? { method: v.method } : {}),
        ...(v["delay-ms"] ? { delay_ms: Number(v["delay-ms"]) } : {}),
        ...(v.reset ? { reset: true } : {}),
        count: v.always ? null : Number(v.count ?? 1),
      });
      return out(f, () => `fault ${f.id}: ${describeFault(f)}`);
    }
    case "fault list": {
      const list = await c("GET", "/_sim/faults");
      return out(list, () => list.map((f) => `${f.id}: ${describeFault(f)} (hit ${f.hits}×)`).join("\n") || "(no faults)");
    }
    case "fault clear":
      return out(await c("DELETE", "/_sim/faults"), () => "faults cleared");
    case "fault remove":
      return out(await c("DELETE", `/_sim/faults/${enc(arg ?? need(v, "name"))}`), () => "fault removed");
    case "fault revoke": {
      const r = await c("POST", `/_sim/licenses/${enc(need(v, "license"))}/revoke-tokens`, { bots: v.bots, ...(v["client-id"] ? { client_id: v["client-id"] } : {}) });
      return out(r, () => `${r.revoked} tokens revoked`);
    }
    case "fault expire": {
      const r = await c("POST", `/_sim/licenses/${enc(need(v, "license"))}/expire-tokens`, {});
      return out(r, () => `${r.expired} access tokens expired`);
    }
    case "state":
      return console.log(JSON.stringify(await c("GET", "/_sim/state"), null, 2));
    case "reset":
      return out(await c("POST", "/_sim/reset", {}), () => "simulator reset");
    default:
      throw new CliError(`unknown command "${positionals.join(" ")}"; see: node sim/cli.mjs help`);
  }
}

/** @param {Record<string, any>} f */
function describeFault(f) {
  const what = [f.status ? `${f.status}${f.type ? ` ${f.type}` : ""}` : "", f.delay_ms ? `delay ${f.delay_ms} ms` : "", f.reset ? "connection reset" : ""].filter(Boolean).join(", ");
  return `${what} on ${f.method ?? "any"} *${f.match}* ${f.remaining === null ? "until removed" : `${f.remaining} more time(s)`}`;
}

run(process.argv.slice(2)).catch((err) => {
  console.error(err instanceof CliError || err?.code?.startsWith?.("ERR_PARSE_ARGS") ? `error: ${err.message}` : err);
  process.exit(1);
});
