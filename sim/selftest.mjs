#!/usr/bin/env node
// Self-test of the LiveChat simulator: starts it on a free port with short retry delays, runs the
// flows the Worker depends on against it and a local webhook receiver, prints "N passed, N failed"
// and exits 0 only when everything passed.
//
//   node sim/selftest.mjs [--json FILE]   (FILE gets {"passed":N,"failed":N}, as .ci/run reads it)
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs, promisify } from "node:util";
import { startSimulator } from "./server.mjs";

const RETRY_DELAYS_MS = [150, 300, 600];
const INVALID_TOKEN_BODY = { error: { type: "authentication", message: "Invalid access token" } };

/** @type {{ name: string, fn: () => Promise<void> }[]} */
const tests = [];
/** @param {string} name @param {() => Promise<void>} fn */
const test = (name, fn) => tests.push({ name, fn });

// ------------------------------------------------------------------ webhook receiver

/**
 * A local webhook endpoint that records every POST and can be told to fail some of them.
 */
async function startReceiver() {
  /** @type {{ path: string, headers: import("node:http").IncomingHttpHeaders, body: any, at: number }[]} */
  const received = [];
  /** @type {{ match: (e: any) => boolean, status: number, times: number, delayMs?: number }[]} */
  const rules = [];
  const server = createServer(async (req, res) => {
    const chunks = [];
    for await (const chunk of req) chunks.push(chunk);
    const text = Buffer.concat(chunks).toString("utf8");
    const entry = { path: req.url ?? "", headers: req.headers, body: text ? JSON.parse(text) : null, at: Date.now() };
    received.push(entry);
    const rule = rules.find((r) => r.times > 0 && r.match(entry));
    if (rule) rule.times--;
    if (rule?.delayMs) await new Promise((r) => setTimeout(r, rule.delayMs));
    const status = rule?.status ?? 200;
    res.writeHead(status, { "content-type": "text/plain" });
    res.end(status === 200 ? "ok" : "not now");
  });
  await new Promise((r) => server.listen(0, "127.0.0.1", () => r(undefined)));
  const url = `http://127.0.0.1:${/** @type {any} */ (server.address()).port}`;
  return {
    url,
    received,
    /** Answer `status` to the next `times` requests matching. */
    fail(match, status, times = 1, delayMs = 0) {
      rules.push({ match, status, times, delayMs });
    },
    /** @param {string} path */
    at: (path) => received.filter((e) => e.path === path),
    /** Resolve with the matching entries once `count` of them arrived. */
    async waitFor(pred, count = 1, timeoutMs = 4000) {
      const end = Date.now() + timeoutMs;
      while (Date.now() < end) {
        const hits = received.filter(pred);
        if (hits.length >= count) return hits;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`timed out waiting for ${count} webhook(s); got ${received.filter(pred).length}`);
    },
    close: () => new Promise((r) => (server.closeAllConnections(), server.close(() => r(undefined)))),
  };
}

// ------------------------------------------------------------------ HTTP helpers

/**
 * @param {string} method
 * @param {string} url
 * @param {{ body?: unknown, form?: Record<string, string>, headers?: Record<string, string> }} [options]
 */
async function http(method, url, { body, form, headers = {} } = {}) {
  const init = { method, headers: { ...headers }, redirect: /** @type {const} */ ("manual") };
  if (form) {
    init.headers["content-type"] = "application/x-www-form-urlencoded";
    init.body = new URLSearchParams(form).toString();
  } else if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(url, init);
  const text = await res.text();
  let parsed = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    /* keep text */
  }
  return { status: res.status, headers: res.headers, body: /** @type {any} */ (parsed) };
}

// ------------------------------------------------------------------ the run

const { values: argv } = parseArgs({ options: { json: { type: "string" } } });
const rx = await startReceiver();
const sim = await startSimulator({ retryDelaysMs: RETRY_DELAYS_MS, webhookTimeoutMs: 2000 });
const S = sim.url;

/** POST a Web API method. `auth` is a bearer token or a full "Basic …" header value. */
const api = (path, body = {}, auth, headers = {}) =>
  http("POST", `${S}${path}`, { body, headers: { ...(auth ? { authorization: auth.startsWith("Basic ") ? auth : `Bearer ${auth}` } : {}), ...headers } });
const agentApi = (method, body, auth, headers) => api(`/v3.6/agent/action/${method}`, body, auth, headers);
const configApi = (method, body, auth, headers) => api(`/v3.6/configuration/action/${method}`, body, auth, headers);
/** Call the control API and insist on success. */
async function ctl(method, path, body) {
  const r = await http(method, `${S}${path}`, body === undefined ? {} : { body });
  assert.equal(r.status, 200, `${method} ${path}: ${JSON.stringify(r.body)}`);
  return r.body;
}

let appSeq = 0;
/** A fresh app (own client id, so webhook registrations of tests don't mix) with app webhooks to the receiver. */
async function newApp() {
  const n = ++appSeq;
  const app = { client_id: `client-${n}-${randomBytes(4).toString("hex")}`, client_secret: `secret-${n}`, hook: `/app-webhooks/${n}` };
  await ctl("POST", "/_sim/apps", { client_id: app.client_id, client_secret: app.client_secret, app_webhook_url: `${rx.url}${app.hook}`, redirect_uris: [`${rx.url}/install`] });
  return app;
}

/**
 * The real OAuth dance with PKCE S256: authorize → code → /v2/token.
 * @param {{ client_id: string, client_secret: string }} app
 * @param {string} license
 * @param {{ region?: string }} [options]
 */
async function oauthInstall(app, license, options = {}) {
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const state = randomBytes(8).toString("hex");
  const authorize = new URL(`${S}/`);
  authorize.search = new URLSearchParams({
    response_type: "code",
    client_id: app.client_id,
    redirect_uri: `${rx.url}/install`,
    state,
    code_challenge: challenge,
    code_challenge_method: "S256",
    license,
    ...(options.region ? { region: options.region } : {}),
  }).toString();
  const auth = await http("GET", authorize.toString());
  assert.equal(auth.status, 302);
  const back = new URL(/** @type {string} */ (auth.headers.get("location")));
  assert.equal(back.origin + back.pathname, `${rx.url}/install`);
  assert.equal(back.searchParams.get("state"), state);
  const code = /** @type {string} */ (back.searchParams.get("code"));
  const exchange = await http("POST", `${S}/v2/token`, {
    body: { grant_type: "authorization_code", code, client_id: app.client_id, client_secret: app.client_secret, redirect_uri: `${rx.url}/install`, code_verifier: verifier },
  });
  assert.equal(exchange.status, 200, JSON.stringify(exchange.body));
  return { tokens: exchange.body, code, verifier };
}

/** Register a webhook for `app` that posts to the receiver at `path`. */
async function registerHook(app, token, action, path, extra = {}) {
  const r = await configApi("register_webhook", { url: `${rx.url}${path}`, action, secret_key: `sk-${path}`, owner_client_id: app.client_id, type: "license", ...extra }, token);
  assert.equal(r.status, 200, JSON.stringify(r.body));
  return r.body.id;
}

/** Wait until every queued delivery had its first attempt. */
const settle = () => ctl("POST", "/_sim/idle", { first_attempts_only: true, timeout_ms: 5000 });

/** A bot of `app` on the license, with a bot token. */
async function botFor(app, license, token, name = "ReplyBot") {
  const created = await configApi("create_bot", { name }, token);
  assert.equal(created.status, 200, JSON.stringify(created.body));
  const lic = await ctl("GET", `/_sim/licenses/${license}`);
  const issued = await configApi("issue_bot_token", { bot_id: created.body.id, client_id: app.client_id, bot_secret: created.body.secret, organization_id: lic.organization_id }, token);
  assert.equal(issued.status, 200, JSON.stringify(issued.body));
  return { id: created.body.id, secret: created.body.secret, token: issued.body.token };
}

// ------------------------------------------------------------------ tests

test("OAuth: authorize + PKCE S256 code exchange, token shape, /v2/info, application_installed", async () => {
  const app = await newApp();
  const { tokens, code, verifier } = await oauthInstall(app, "oauth-1");
  assert.match(code, /^dal:/, "codes are region-prefixed");
  assert.match(tokens.access_token, /^dal:/);
  assert.doesNotMatch(tokens.refresh_token, /:/, "refresh tokens carry no region prefix");
  assert.deepEqual(Object.keys(tokens).sort(), ["access_token", "account_id", "expires_in", "organization_id", "refresh_token", "scope", "token_type"]);
  assert.equal(tokens.expires_in, 28800);
  assert.equal(tokens.token_type, "Bearer");
  const info = await http("GET", `${S}/v2/info`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
  assert.equal(info.status, 200);
  assert.equal(info.body.client_id, app.client_id);
  assert.equal(info.body.organization_id, tokens.organization_id);
  const [installed] = await rx.waitFor((e) => e.path === app.hook);
  assert.equal(installed.body.event, "application_installed");
  assert.equal(installed.body.clientID, app.client_id);
  assert.equal(installed.body.organizationID, tokens.organization_id);
  assert.equal(typeof installed.body.licenseID, "number");
  assert.equal(installed.headers["content-type"], "application/json");
  // A code is single-use.
  const again = await http("POST", `${S}/v2/token`, { body: { grant_type: "authorization_code", code, client_id: app.client_id, client_secret: app.client_secret, code_verifier: verifier } });
  assert.equal(again.status, 400);
  assert.equal(again.body.error, "unauthorized_client");
  assert.equal(typeof again.body.error_description, "string");
});

test("OAuth: wrong PKCE verifier is invalid_grant; form-encoded body; wrong secret; unknown client goes to /ooops", async () => {
  const app = await newApp();
  const verifier = randomBytes(32).toString("base64url");
  const challenge = createHash("sha256").update(verifier).digest("base64url");
  const auth = await http("GET", `${S}/?response_type=code&client_id=${app.client_id}&redirect_uri=${encodeURIComponent(`${rx.url}/install`)}&state=s&code_challenge=${challenge}&code_challenge_method=S256&license=oauth-2`);
  const code = /** @type {string} */ (new URL(/** @type {string} */ (auth.headers.get("location"))).searchParams.get("code"));
  const bad = await http("POST", `${S}/v2/token`, { form: { grant_type: "authorization_code", code, client_id: app.client_id, client_secret: app.client_secret, code_verifier: "x".repeat(43) } });
  assert.equal(bad.status, 400);
  assert.equal(bad.body.error, "invalid_grant");
  const wrongSecret = await http("POST", `${S}/v2/token`, { form: { grant_type: "authorization_code", code, client_id: app.client_id, client_secret: "nope", code_verifier: verifier } });
  assert.equal(wrongSecret.body.error, "unauthorized_client");
  const good = await http("POST", `${S}/v2/token`, { form: { grant_type: "authorization_code", code, client_id: app.client_id, client_secret: app.client_secret, code_verifier: verifier } });
  assert.equal(good.status, 200, JSON.stringify(good.body));
  const unknown = await http("GET", `${S}/?response_type=code&client_id=nobody&redirect_uri=${encodeURIComponent(`${rx.url}/install`)}`);
  assert.equal(unknown.status, 302);
  assert.match(/** @type {string} */ (unknown.headers.get("location")), /\/ooops\?oauth_exception=unauthorized_client&exception_details=client_id_not_found/);
  const foreignRedirect = await http("GET", `${S}/?response_type=code&client_id=${app.client_id}&redirect_uri=${encodeURIComponent("http://evil.example/install")}`);
  assert.match(/** @type {string} */ (foreignRedirect.headers.get("location")), /invalid_redirect_uri/);
  const denied = await http("GET", `${S}/?response_type=code&client_id=${app.client_id}&redirect_uri=${encodeURIComponent(`${rx.url}/install`)}&state=st&sim_deny=1`);
  const deniedAt = new URL(/** @type {string} */ (denied.headers.get("location")));
  assert.equal(deniedAt.searchParams.get("error"), "access_denied");
  assert.equal(deniedAt.searchParams.get("state"), "st");
});

test("OAuth: refresh keeps a confidential client's refresh token; revoke; revoked token → 401 with LiveChat's body", async () => {
  const app = await newApp();
  const { tokens } = await oauthInstall(app, "refresh-1");
  const refreshed = await http("POST", `${S}/v2/token`, { body: { grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: app.client_id, client_secret: app.client_secret } });
  assert.equal(refreshed.status, 200);
  assert.notEqual(refreshed.body.access_token, tokens.access_token);
  assert.equal(refreshed.body.refresh_token, tokens.refresh_token);
  assert.equal((await agentApi("list_chats", {}, refreshed.body.access_token)).status, 200);
  const revoked = await http("DELETE", `${S}/v2/token`, { headers: { authorization: `Bearer ${refreshed.body.access_token}` } });
  assert.equal(revoked.status, 200);
  assert.deepEqual(revoked.body, {});
  const twice = await http("DELETE", `${S}/v2/token?code=${encodeURIComponent(refreshed.body.access_token)}`);
  assert.equal(twice.status, 404);
  const after = await agentApi("list_chats", {}, refreshed.body.access_token);
  assert.equal(after.status, 401);
  assert.deepEqual(after.body, INVALID_TOKEN_BODY);
  const missing = await agentApi("list_chats", {});
  assert.deepEqual(missing.body, INVALID_TOKEN_BODY);
  const otherClient = await newApp();
  const foreign = await http("POST", `${S}/v2/token`, { body: { grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: otherClient.client_id, client_secret: otherClient.client_secret } });
  assert.equal(foreign.body.error, "invalid_client");
});

test("Web API errors: not_found, validation, chat_inactive, unknown method, unsupported version, wrong JSON", async () => {
  const app = await newApp();
  const { tokens } = await oauthInstall(app, "errors-1");
  const t = tokens.access_token;
  const unknownChat = await agentApi("get_chat", { chat_id: "NOSUCHCHAT" }, t);
  assert.equal(unknownChat.status, 404);
  assert.deepEqual(unknownChat.body, { error: { type: "not_found", message: "Chat not found" } });
  const noId = await agentApi("get_chat", {}, t);
  assert.equal(noId.body.error.type, "validation");
  const { chat_id } = await ctl("POST", "/_sim/chats", { license: "errors-1", customer: "Ann", text: "hi" });
  await ctl("POST", `/_sim/chats/${chat_id}/close`, { as: "agent" });
  const inactive = await agentApi("send_event", { chat_id, event: { type: "message", text: "late" } }, t);
  assert.equal(inactive.body.error.type, "chat_inactive");
  assert.equal((await agentApi("no_such_method", {}, t)).body.error.type, "not_found");
  assert.equal((await api("/v3.2/agent/action/list_chats", {}, t)).body.error.type, "unsupported_version");
  const wrongJson = await fetch(`${S}/v3.6/agent/action/list_chats`, { method: "POST", headers: { authorization: `Bearer ${t}`, "content-type": "application/json" }, body: "{nope" });
  assert.equal((await wrongJson.json()).error.type, "validation");
  const names = await configApi("list_webhook_names", { version: "3.6" });
  assert.equal(names.status, 200, "list_webhook_names needs no auth");
  assert.ok(names.body.some((n) => n.action === "thread_summary_set"));
  assert.ok(!(await configApi("list_webhook_names", { version: "3.5" })).body.some((n) => n.action === "event_deleted"));
});

test("Bots: create_bot, issue_bot_token (24 h JWT), acting as the bot; presence and scope rules", async () => {
  const app = await newApp();
  const { tokens } = await oauthInstall(app, "bots-1");
  const bot = await botFor(app, "bots-1", tokens.access_token);
  assert.equal(bot.token.split(".").length, 3);
  const claims = JSON.parse(Buffer.from(bot.token.split(".")[1], "base64url").toString());
  assert.equal(claims.exp - claims.iat, 86400);
  const got = await configApi("get_bot", { id: bot.id }, tokens.access_token);
  assert.equal(got.body.owner_client_id, app.client_id);
  assert.deepEqual(Object.keys(got.body).sort(), ["avatar_path", "default_group_priority", "groups", "id", "max_chats_count", "name", "owner_client_id"]);
  assert.deepEqual((await configApi("list_bots", {}, tokens.access_token)).body.map((b) => b.id), [bot.id]);
  const wrongSecret = await configApi("issue_bot_token", { bot_id: bot.id, client_id: app.client_id, bot_secret: "nope", organization_id: tokens.organization_id }, tokens.access_token);
  assert.equal(wrongSecret.body.error.type, "authorization");
  const own = await agentApi("set_routing_status", { status: "accepting_chats", agent_id: bot.id }, bot.token);
  assert.equal(own.status, 200, JSON.stringify(own.body));
  const statuses = await agentApi("list_routing_statuses", {}, tokens.access_token);
  assert.ok(statuses.body.some((s) => s.agent_id === bot.id && s.status === "accepting_chats"));
  // Route new chats to the human (not_accepting for the bot) so the bot has to join by itself.
  await agentApi("set_routing_status", { status: "not_accepting_chats", agent_id: bot.id }, bot.token);
  const { chat_id } = await ctl("POST", "/_sim/chats", { license: "bots-1", customer: "Ann", text: "hi" });
  const early = await agentApi("send_event", { chat_id, event: { type: "message", text: "hello" } }, bot.token);
  assert.equal(early.status, 403, "the sender must be added to the chat first");
  assert.equal(early.body.error.type, "authorization");
  const joinNoFlag = await agentApi("add_user_to_chat", { chat_id, user_id: bot.id, user_type: "agent", visibility: "agents" }, bot.token);
  assert.equal(joinNoFlag.body.error.type, "authorization", "requester presence needed without ignore_requester_presence");
  const join = await agentApi("add_user_to_chat", { chat_id, user_id: bot.id, user_type: "agent", visibility: "agents", ignore_requester_presence: true }, bot.token);
  assert.equal(join.status, 200, JSON.stringify(join.body));
  const allVis = await agentApi("send_event", { chat_id, event: { type: "message", text: "hello", visibility: "all" } }, bot.token);
  assert.equal(allVis.body.error.type, "validation", "visibility:agents users can't send visibility:all");
  const sent = await agentApi("send_event", { chat_id, event: { type: "message", text: "internal hint", visibility: "agents" } }, bot.token);
  assert.equal(sent.status, 200);
  assert.match(sent.body.event_id, /_\d+$/);
  const chat = await agentApi("get_chat", { chat_id }, tokens.access_token);
  const event = chat.body.thread.events.find((e) => e.id === sent.body.event_id);
  assert.equal(event.author_id, bot.id);
  const botUser = chat.body.users.find((u) => u.id === bot.id);
  assert.equal(botUser.type, "agent");
  // A bot token has chats--access:rw, agents-bot--my:rw, customers:rw only.
  const register = await configApi("register_webhook", { url: `${rx.url}/x`, action: "incoming_event", secret_key: "s", owner_client_id: app.client_id, type: "license" }, bot.token);
  assert.equal(register.body.error.type, "authorization");
  const agentStatus = await agentApi("set_routing_status", { status: "not_accepting_chats" }, bot.token);
  assert.equal(agentStatus.status, 200, "agent_id defaults to the bot itself");
  // v3.6 ignores X-Author-Id: the agent's token acts as the agent (who is in the chat, routed there).
  const asAgent = await agentApi("send_event", { chat_id, event: { type: "message", text: "from the agent token" } }, tokens.access_token, { "x-author-id": bot.id });
  const last = (await agentApi("get_chat", { chat_id }, tokens.access_token)).body.thread.events.find((e) => e.id === asAgent.body.event_id);
  assert.notEqual(last.author_id, bot.id);
  // v3.5 still honours X-Author-Id on an agent token.
  const v35 = await api("/v3.5/agent/action/send_event", { chat_id, event: { type: "message", text: "v3.5 as bot", visibility: "agents" } }, tokens.access_token, { "x-author-id": bot.id });
  assert.equal(v35.status, 200, JSON.stringify(v35.body));
  const v35event = (await agentApi("get_chat", { chat_id }, tokens.access_token)).body.thread.events.find((e) => e.id === v35.body.event_id);
  assert.equal(v35event.author_id, bot.id);
  const transcript = await ctl("GET", `/_sim/chats/${chat_id}/transcript?format=text`);
  assert.match(transcript.text, /ReplyBot \(bot\) \[agents only\]: internal hint/);
});

test("Webhooks: envelope, secret, 500 then 200 retried, gives up after 3 retries, per-chat order", async () => {
  const app = await newApp();
  const { tokens } = await oauthInstall(app, "hooks-1");
  const id = await registerHook(app, tokens.access_token, "incoming_event", "/hooks-1", { additional_data: ["chat_properties", "chat_presence_user_ids"] });
  const listed = await configApi("list_webhooks", { owner_client_id: app.client_id }, tokens.access_token);
  assert.deepEqual(listed.body.map((w) => w.id), [id]);
  assert.equal(listed.body[0].secret_key, undefined, "list_webhooks does not return secrets");
  rx.fail((e) => e.path === "/hooks-1", 500, 1);
  const { chat_id } = await ctl("POST", "/_sim/chats", { license: "hooks-1", customer: "Ann" });
  await ctl("POST", `/_sim/chats/${chat_id}/messages`, { as: "customer", text: "first" });
  const both = await rx.waitFor((e) => e.path === "/hooks-1", 2);
  assert.deepEqual(both[0].body, both[1].body, "a retry repeats the same body");
  const envelope = both[1].body;
  assert.deepEqual(Object.keys(envelope), ["webhook_id", "secret_key", "action", "organization_id", "payload", "additional_data"]);
  assert.equal(envelope.webhook_id, id);
  assert.equal(envelope.secret_key, "sk-/hooks-1");
  assert.equal(envelope.action, "incoming_event");
  assert.equal(envelope.organization_id, tokens.organization_id);
  assert.equal(envelope.payload.chat_id, chat_id);
  assert.equal(envelope.payload.event.text, "first");
  assert.deepEqual(envelope.additional_data.chat_properties, { source: { client_id: "livechat-widget-sim" } });
  assert.ok(envelope.additional_data.chat_presence_user_ids.length >= 1);
  const [delivery] = await ctl("GET", `/_sim/deliveries?chat_id=${chat_id}&action=incoming_event`);
  assert.deepEqual(delivery.attempts.map((a) => a.status), [500, 200]);
  assert.equal(delivery.state, "delivered");
  // Always failing: 1 + 3 attempts, then given up.
  rx.fail((e) => e.path === "/hooks-1", 503, 10);
  await ctl("POST", `/_sim/chats/${chat_id}/messages`, { as: "customer", text: "second" });
  await ctl("POST", "/_sim/idle", { timeout_ms: 5000 });
  const failed = (await ctl("GET", `/_sim/deliveries?chat_id=${chat_id}&state=failed`))[0];
  assert.deepEqual(failed.attempts.map((a) => a.status), [503, 503, 503, 503]);
  // Order within a chat: first attempts go out in the order things happened.
  rx.fail(() => false, 200, 0);
  rx.received.length = 0;
  const { chat_id: ordered } = await ctl("POST", "/_sim/chats", { license: "hooks-1", customer: "Bo" });
  for (const text of ["1", "2", "3", "4", "5"]) await ctl("POST", `/_sim/chats/${ordered}/messages`, { as: "customer", text });
  const got = await rx.waitFor((e) => e.path === "/hooks-1" && e.body.payload.chat_id === ordered && e.body.payload.event.text.length === 1, 5);
  assert.deepEqual(got.map((e) => e.body.payload.event.text), ["1", "2", "3", "4", "5"]);
});

test("Webhooks: filters author_type, source_type, chat_presence, only_my_chats; incoming_chat carries the first message", async () => {
  const app = await newApp();
  const { tokens } = await oauthInstall(app, "filters-1");
  const t = tokens.access_token;
  await registerHook(app, t, "incoming_event", "/f-customer", { filters: { author_type: "customer" } });
  await registerHook(app, t, "incoming_event", "/f-mine", { filters: { source_type: ["my_client"] } });
  await registerHook(app, t, "incoming_event", "/f-system", { filters: { source_type: ["system"] } });
  await registerHook(app, t, "incoming_chat", "/f-chat");
  await registerHook(app, t, "incoming_chat", "/f-only-mine", { filters: { only_my_chats: true } });
  const tooMany = await configApi("register_webhook", { url: `${rx.url}/x`, action: "incoming_event", secret_key: "s", owner_client_id: app.client_id, type: "license" }, t);
  assert.equal(tooMany.body.error.type, "limit_reached", "3 webhooks per action and client");
  const badFilter = await configApi("register_webhook", { url: `${rx.url}/x`, action: "thread_tagged", secret_key: "s", owner_client_id: app.client_id, type: "license", filters: { author_type: "agent" } }, t);
  assert.equal(badFilter.body.error.type, "validation", "author_type is for incoming_event/event_updated only");
  const { chat_id } = await ctl("POST", "/_sim/chats", { license: "filters-1", customer: "Ann", text: "hello" });
  const [incoming] = await rx.waitFor((e) => e.path === "/f-chat");
  assert.equal(incoming.body.payload.chat.id, chat_id);
  assert.equal(incoming.body.payload.chat.thread.events[0].text, "hello");
  assert.ok(incoming.body.payload.chat.users.some((u) => u.type === "customer" && u.name === "Ann"));
  await ctl("POST", `/_sim/chats/${chat_id}/messages`, { as: "agent", text: "agent says" });
  await agentApi("send_event", { chat_id, event: { type: "message", text: "app says" } }, t);
  await ctl("POST", `/_sim/chats/${chat_id}/messages`, { as: "customer", text: "customer says" });
  await ctl("POST", `/_sim/chats/${chat_id}/rating`, { score: "good" });
  await settle();
  assert.deepEqual(rx.at("/f-customer").map((e) => e.body.payload.event.text), ["customer says"]);
  assert.deepEqual(rx.at("/f-mine").map((e) => e.body.payload.event.text), ["app says"]);
  assert.deepEqual(rx.at("/f-system").map((e) => e.body.payload.event.system_message_type), ["rating.chat_rated"]);
  assert.equal(rx.at("/f-only-mine").length, 0, "widget chats are not the app's chats");
  // chat_presence.my_bots on a bot webhook: only chats where a bot of the app is present.
  const bot = await botFor(app, "filters-1", t);
  await configApi("register_webhook", { url: `${rx.url}/f-bots`, action: "thread_tagged", secret_key: "s", owner_client_id: app.client_id, type: "bot", filters: { chat_presence: { my_bots: true } } }, t);
  await agentApi("set_routing_status", { status: "not_accepting_chats" }, bot.token);
  await ctl("POST", `/_sim/chats/${chat_id}/tags`, { tag: "sales" });
  await settle();
  assert.equal(rx.at("/f-bots").length, 0, "bot not in the chat");
  await agentApi("add_user_to_chat", { chat_id, user_id: bot.id, user_type: "agent", visibility: "agents", ignore_requester_presence: true }, bot.token);
  await ctl("POST", `/_sim/chats/${chat_id}/tags`, { tag: "support" });
  const [tagged] = await rx.waitFor((e) => e.path === "/f-bots");
  assert.equal(tagged.body.payload.tag, "support");
});

test("Bot webhooks: delivered while the client's bot is not offline, license webhooks while enabled; withheld ones logged with the reason", async () => {
  const app = await newApp();
  const { tokens } = await oauthInstall(app, "botwh-1");
  const t = tokens.access_token;
  await registerHook(app, t, "incoming_event", "/bw-bot", { type: "bot" });
  await registerHook(app, t, "incoming_event", "/bw-license");
  const { chat_id } = await ctl("POST", "/_sim/chats", { license: "botwh-1", customer: "Ann", text: "hello" });
  const say = async (text) => {
    await ctl("POST", `/_sim/chats/${chat_id}/messages`, { as: "customer", text });
    await settle();
  };
  const texts = (path) => rx.at(path).map((e) => e.body.payload.event.text);
  await say("no bot yet");
  const bot = await botFor(app, "botwh-1", t);
  await say("bot offline"); // a new bot is offline until its status is set
  await agentApi("set_routing_status", { status: "not_accepting_chats" }, bot.token);
  await say("not accepting");
  await ctl("POST", "/_sim/licenses/botwh-1/routing", { status: "accepting_chats", agent_id: bot.id });
  await say("accepting");
  await ctl("POST", "/_sim/licenses/botwh-1/routing", { status: "offline", agent_id: bot.id }); // the owner, in the Agent App
  await say("offline again");
  await configApi("disable_license_webhooks", {}, t);
  await ctl("POST", "/_sim/licenses/botwh-1/routing", { status: "accepting_chats", agent_id: bot.id });
  await say("license webhooks disabled");
  assert.deepEqual(texts("/bw-bot"), ["not accepting", "accepting", "license webhooks disabled"]);
  assert.deepEqual(texts("/bw-license"), ["no bot yet", "bot offline", "not accepting", "accepting", "offline again"]);
  const withheld = await ctl("GET", `/_sim/deliveries?chat_id=${chat_id}&action=incoming_event&state=withheld`);
  assert.deepEqual(
    withheld.map((d) => `${d.webhook_type}: ${d.reason}`),
    [
      "bot: bot webhook: the client has no bot on the license",
      `bot: bot webhook: the client's bot is offline (${bot.id})`,
      `bot: bot webhook: the client's bot is offline (${bot.id})`,
      "license: license webhooks disabled",
    ],
  );
  assert.ok(withheld.every((d) => d.attempts.length === 0 && !("secret_key" in d.body)));
});

test("Agent Chat API: list_chats filters and pages, list_threads, transfer_chat, remove_user_from_chat; bot lifecycle", async () => {
  const app = await newApp();
  const { tokens } = await oauthInstall(app, "chats-1");
  const t = tokens.access_token;
  const ids = [];
  for (const name of ["A", "B", "C"]) ids.push((await ctl("POST", "/_sim/chats", { license: "chats-1", customer: name, text: `hi from ${name}` })).chat_id);
  await ctl("POST", `/_sim/chats/${ids[0]}/close`, {});
  const page1 = await agentApi("list_chats", { limit: 2 }, t);
  assert.equal(page1.body.found_chats, 3);
  assert.deepEqual(page1.body.chats_summary.map((c) => c.id), [ids[2], ids[1]], "newest first");
  assert.equal(page1.body.chats_summary[0].last_event_per_type.message.event.text, "hi from C");
  const page2 = await agentApi("list_chats", { page_id: page1.body.next_page_id }, t);
  assert.deepEqual(page2.body.chats_summary.map((c) => c.id), [ids[0]]);
  assert.ok(page2.body.previous_page_id);
  assert.equal((await agentApi("list_chats", { page_id: page1.body.next_page_id, limit: 1 }, t)).body.error.type, "validation");
  assert.deepEqual((await agentApi("list_chats", { filters: { active: false } }, t)).body.chats_summary.map((c) => c.id), [ids[0]]);
  await ctl("POST", `/_sim/chats/${ids[0]}/messages`, { text: "back again" });
  const threads = await agentApi("list_threads", { chat_id: ids[0] }, t);
  assert.equal(threads.body.found_threads, 2);
  assert.equal(threads.body.threads[0].events[0].text, "back again");
  assert.equal(threads.body.threads[0].previous_thread_id, threads.body.threads[1].id);
  // transfer to the bot, then the bot leaves again.
  const bot = await botFor(app, "chats-1", t);
  await registerHook(app, t, "chat_transferred", "/c-transferred");
  const offline = await agentApi("transfer_chat", { id: ids[1], target: { type: "agent", ids: [bot.id] } }, t);
  assert.equal(offline.body.error.type, "validation", "the bot is offline");
  await agentApi("set_routing_status", { status: "accepting_chats" }, bot.token);
  assert.equal((await agentApi("transfer_chat", { id: ids[1], target: { type: "agent", ids: [bot.id] } }, t)).status, 200);
  const [moved] = await rx.waitFor((e) => e.path === "/c-transferred");
  assert.deepEqual(moved.body.payload.transferred_to, { agent_ids: [bot.id] });
  const users = (await agentApi("get_chat", { chat_id: ids[1] }, t)).body.users;
  assert.ok(users.some((u) => u.id === bot.id && u.present));
  assert.ok(users.some((u) => u.type === "agent" && u.id !== bot.id && !u.present), "the human left");
  const removeCustomer = await agentApi("remove_user_from_chat", { chat_id: ids[1], user_id: users.find((u) => u.type === "customer").id, user_type: "customer" }, bot.token);
  assert.equal(removeCustomer.body.error.type, "validation");
  assert.equal((await agentApi("remove_user_from_chat", { chat_id: ids[1], user_id: bot.id, user_type: "agent" }, bot.token)).status, 200);
  // update, reset secret (old secret stops working), batch, delete (its token stops working).
  assert.equal((await configApi("update_bot", { id: bot.id, name: "Renamed" }, t)).status, 200);
  const { secret } = (await configApi("reset_bot_secret", { id: bot.id }, t)).body;
  assert.notEqual(secret, bot.secret);
  const old = await configApi("issue_bot_token", { bot_id: bot.id, client_id: app.client_id, bot_secret: bot.secret, organization_id: tokens.organization_id }, t);
  assert.equal(old.body.error.type, "authorization");
  const batch = await configApi("batch_create_bots", { requests: [{ name: "One" }, {}] }, t);
  assert.equal(typeof batch.body.responses[0].id, "string");
  assert.equal(batch.body.responses[1].error.type, "validation");
  assert.equal((await configApi("delete_bot", { id: bot.id }, t)).status, 200);
  assert.deepEqual((await agentApi("list_chats", {}, bot.token)).body, INVALID_TOKEN_BODY);
});

test("Bot webhooks follow the bot's routing status: offline → none; accepting / not accepting → delivered", async () => {
  const app = await newApp();
  const { tokens } = await oauthInstall(app, "routing-1");
  const t = tokens.access_token;
  const bot = await botFor(app, "routing-1", t);
  await configApi("register_webhook", { url: `${rx.url}/r-bot`, action: "incoming_event", secret_key: "s", owner_client_id: app.client_id, type: "bot" }, t);
  await configApi("register_webhook", { url: `${rx.url}/r-status`, action: "routing_status_set", secret_key: "s", owner_client_id: app.client_id, type: "license", filters: { agent_ids: [bot.id] } }, t);
  const { chat_id } = await ctl("POST", "/_sim/chats", { license: "routing-1", customer: "Ann", route: false });
  await ctl("POST", `/_sim/chats/${chat_id}/messages`, { as: "customer", text: "while offline" });
  await settle();
  assert.equal(rx.at("/r-bot").length, 0, "a new bot is offline");
  await agentApi("set_routing_status", { status: "accepting_chats" }, bot.token);
  const [status] = await rx.waitFor((e) => e.path === "/r-status");
  assert.deepEqual(status.body.payload, { agent_id: bot.id, status: "accepting chats" });
  await ctl("POST", `/_sim/chats/${chat_id}/messages`, { as: "customer", text: "while accepting" });
  await agentApi("set_routing_status", { status: "not_accepting_chats" }, bot.token);
  await ctl("POST", `/_sim/chats/${chat_id}/messages`, { as: "customer", text: "while not accepting" });
  await ctl("POST", "/_sim/licenses/routing-1/routing", { status: "offline" });
  await ctl("POST", `/_sim/chats/${chat_id}/messages`, { as: "customer", text: "offline again" });
  await settle();
  assert.deepEqual(rx.at("/r-bot").map((e) => e.body.payload.event.text), ["while accepting", "while not accepting"]);
  assert.deepEqual(rx.at("/r-status").map((e) => e.body.payload.status), ["accepting chats", "not accepting chats", "offline"]);
  // A chat starting while the bot accepts chats with priority first is routed to it.
  await configApi("update_bot", { id: bot.id, default_group_priority: "first", groups: [{ id: 0, priority: "first" }] }, t);
  await agentApi("set_routing_status", { status: "accepting_chats" }, bot.token);
  const routed = await ctl("POST", "/_sim/chats", { license: "routing-1", customer: "Cy", text: "hi" });
  assert.ok(routed.users.includes(bot.id));
});

test("Ratings, tags, deactivation and app webhooks for uninstall (docs/LIVECHAT.md §5, §7)", async () => {
  const app = await newApp();
  const { tokens } = await oauthInstall(app, "rating-1");
  const t = tokens.access_token;
  for (const action of ["thread_properties_updated", "thread_properties_deleted", "thread_tagged"]) await registerHook(app, t, action, `/p-${action}`);
  await registerHook(app, t, "chat_deactivated", "/p-closed");
  const { chat_id } = await ctl("POST", "/_sim/chats", { license: "rating-1", customer: "Ann", text: "hi" });
  await ctl("POST", `/_sim/chats/${chat_id}/tags`, { tag: "refund" });
  await ctl("POST", `/_sim/chats/${chat_id}/close`, { as: "agent" });
  await ctl("POST", `/_sim/chats/${chat_id}/rating`, { score: "bad" });
  await ctl("DELETE", `/_sim/chats/${chat_id}/rating`);
  await settle();
  assert.equal(rx.at("/p-thread_tagged")[0].body.payload.tag, "refund");
  const closed = rx.at("/p-closed")[0].body.payload;
  assert.equal(closed.chat_id, chat_id);
  assert.equal(typeof closed.user_id, "string");
  assert.deepEqual(rx.at("/p-thread_properties_updated")[0].body.payload.properties, { rating: { score: 0 } });
  assert.deepEqual(rx.at("/p-thread_properties_deleted")[0].body.payload.properties, { rating: ["score", "comment"] });
  const tagRefused = await agentApi("tag_thread", { chat_id, thread_id: closed.thread_id, tag: "vip" }, t);
  assert.equal(tagRefused.body.error.type, "not_found");
  assert.equal((await configApi("create_tag", { name: "vip", group_ids: [0] }, t)).status, 200);
  assert.equal((await configApi("create_tag", { name: "vip" }, t)).body.error.type, "already_exists");
  assert.ok((await configApi("list_tags", {}, t)).body.some((tag) => tag.name === "vip" && tag.author_id));
  assert.equal((await agentApi("tag_thread", { chat_id, thread_id: closed.thread_id, tag: "vip" }, t)).status, 200);
  const ratingByAgent = await agentApi("update_thread_properties", { chat_id, thread_id: closed.thread_id, properties: { rating: { score: 1 } } }, t);
  assert.equal(ratingByAgent.body.error.type, "authorization", "rating is read-only for agents");
  // Uninstall: application_uninstalled, tokens revoked (API 401, refresh invalid_grant), webhooks stop.
  await ctl("POST", "/_sim/licenses/rating-1/uninstall", { client_id: app.client_id });
  const events = (await rx.waitFor((e) => e.path === app.hook, 2)).map((e) => e.body.event);
  assert.deepEqual(events, ["application_installed", "application_uninstalled"]);
  assert.deepEqual((await agentApi("list_chats", {}, t)).body, INVALID_TOKEN_BODY);
  const refresh = await http("POST", `${S}/v2/token`, { body: { grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: app.client_id, client_secret: app.client_secret } });
  assert.equal(refresh.body.error, "invalid_grant");
  await ctl("POST", `/_sim/chats/${chat_id}/tags`, { tag: "sales" });
  await settle();
  assert.equal(rx.at("/p-thread_tagged").length, 2, "no webhooks after uninstall");
});

test("License webhooks: disable/enable per license; disabled state survives a re-install", async () => {
  const app = await newApp();
  const { tokens } = await oauthInstall(app, "state-1");
  const t = tokens.access_token;
  await registerHook(app, t, "incoming_event", "/s-1");
  assert.deepEqual((await configApi("get_license_webhooks_state", {}, t)).body, { license_webhooks_enabled: true });
  await configApi("disable_license_webhooks", {}, t);
  const { chat_id } = await ctl("POST", "/_sim/chats", { license: "state-1", customer: "Ann" });
  await ctl("POST", `/_sim/chats/${chat_id}/messages`, { text: "nobody hears" });
  await ctl("POST", "/_sim/licenses/state-1/uninstall", { client_id: app.client_id });
  const again = await oauthInstall(app, "state-1");
  assert.deepEqual((await configApi("get_license_webhooks_state", {}, again.tokens.access_token)).body, { license_webhooks_enabled: false });
  await configApi("enable_license_webhooks", {}, again.tokens.access_token);
  await ctl("POST", `/_sim/chats/${chat_id}/messages`, { text: "heard" });
  await settle();
  assert.deepEqual(rx.at("/s-1").map((e) => e.body.payload.event.text), ["heard"]);
});

test("Faults: 429 too_many_requests, 500 on /v2/token, slow answers, dropped connections, revoked and expired tokens", async () => {
  const app = await newApp();
  const { tokens } = await oauthInstall(app, "faults-1");
  const t = tokens.access_token;
  await ctl("POST", "/_sim/faults", { match: "list_chats", status: 429, count: 1 });
  const limited = await agentApi("list_chats", {}, t);
  assert.equal(limited.status, 429);
  assert.deepEqual(limited.body, { error: { type: "too_many_requests", message: "Too many requests" } });
  assert.equal((await agentApi("list_chats", {}, t)).status, 200, "count 1: the next call passes");
  await ctl("POST", "/_sim/faults", { match: "/v2/token", status: 500 });
  const down = await http("POST", `${S}/v2/token`, { body: { grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: app.client_id, client_secret: app.client_secret } });
  assert.equal(down.status, 500);
  assert.equal(down.body.error, "server_error");
  await ctl("POST", "/_sim/faults", { match: "get_chat", status: 500, count: 1 });
  const internal = await agentApi("get_chat", { chat_id: "X" }, t);
  assert.deepEqual(internal.body.error.type, "internal");
  await ctl("POST", "/_sim/faults", { match: "list_threads", delay_ms: 300 });
  const started = Date.now();
  await agentApi("list_threads", { chat_id: "X" }, t);
  assert.ok(Date.now() - started >= 290, "slow answer");
  await ctl("POST", "/_sim/faults", { match: "list_routing_statuses", reset: true });
  await assert.rejects(agentApi("list_routing_statuses", {}, t));
  await ctl("POST", "/_sim/faults", { match: "send_event", status: 503, count: null });
  assert.equal((await ctl("GET", "/_sim/faults")).length, 1);
  await ctl("DELETE", "/_sim/faults");
  // Expired: API says authentication, refresh still works. Revoked: both fail.
  await ctl("POST", "/_sim/licenses/faults-1/expire-tokens", {});
  assert.deepEqual((await agentApi("list_chats", {}, t)).body, INVALID_TOKEN_BODY);
  const refreshed = await http("POST", `${S}/v2/token`, { body: { grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: app.client_id, client_secret: app.client_secret } });
  assert.equal(refreshed.status, 200);
  const { revoked } = await ctl("POST", "/_sim/licenses/faults-1/revoke-tokens", {});
  assert.ok(revoked >= 2);
  assert.deepEqual((await agentApi("list_chats", {}, refreshed.body.access_token)).body, INVALID_TOKEN_BODY);
  const gone = await http("POST", `${S}/v2/token`, { body: { grant_type: "refresh_token", refresh_token: tokens.refresh_token, client_id: app.client_id, client_secret: app.client_secret } });
  assert.equal(gone.body.error, "invalid_grant");
});

test("Regions and PATs: fra tokens, X-Region mismatch → misdirected_request, Basic auth with a PAT", async () => {
  const app = await newApp();
  const { tokens } = await oauthInstall(app, "europe-1", { region: "fra" });
  assert.match(tokens.access_token, /^fra:/);
  assert.equal((await agentApi("list_chats", {}, tokens.access_token, { "x-region": "fra" })).status, 200);
  const wrong = await agentApi("list_chats", {}, tokens.access_token, { "x-region": "dal" });
  assert.equal(wrong.status, 421);
  assert.deepEqual(wrong.body, { error: { type: "misdirected_request", message: "Wrong region", data: { region: "fra" } } });
  const pat = await ctl("POST", "/_sim/licenses/europe-1/pats", {});
  const viaPat = await configApi("list_webhooks", { owner_client_id: app.client_id }, pat.authorization, { "x-region": "fra" });
  assert.equal(viaPat.status, 200, JSON.stringify(viaPat.body));
  const patNoOwner = await configApi("create_bot", { name: "PatBot" }, pat.authorization);
  assert.equal(patNoOwner.body.error.type, "validation", "owner_client_id is required with a PAT");
});

test("State persists to a file; the CLI prints transcripts", async () => {
  const dir = mkdtempSync(join(tmpdir(), "sim-state-"));
  const file = join(dir, "state.json");
  try {
    const first = await startSimulator({ stateFile: file, app: { client_id: "persisted", client_secret: "s" } });
    const started = /** @type {any} */ (await first.control.call("POST", "/_sim/chats", { license: "keep", customer: "Dee", text: "still here?" }));
    const pat = /** @type {any} */ (await first.control.call("POST", "/_sim/licenses/keep/pats", {}));
    await first.close();
    const second = await startSimulator({ stateFile: file });
    try {
      const r = await http("POST", `${second.url}/v3.6/agent/action/get_chat`, { body: { chat_id: started.chat_id }, headers: { authorization: pat.authorization } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.thread.events[0].text, "still here?");
      const run = promisify(execFile);
      const cli = new URL("./cli.mjs", import.meta.url).pathname;
      await run(process.execPath, [cli, "say", "--chat", started.chat_id, "--as", "agent", "--text", "yes", "--sim", second.url]);
      const { stdout } = await run(process.execPath, [cli, "transcript", "--chat", started.chat_id, "--sim", second.url]);
      assert.match(stdout, /Dee \(customer\): still here\?/);
      assert.match(stdout, /Alex Agent \(agent\): yes/);
      await second.control.call("POST", "/_sim/reset", {});
      assert.deepEqual(Object.keys(second.state.apps), ["persisted"], "reset keeps the registered apps");
      assert.deepEqual(Object.keys(second.state.licenses), ["demo"]);
    } finally {
      await second.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("A webhook answer slower than the timeout counts as a failure and is retried", async () => {
  const quick = await startSimulator({ retryDelaysMs: [50], webhookTimeoutMs: 200, app: { client_id: "slowpoke", client_secret: "s" } });
  try {
    const installed = await quick.control.call("POST", "/_sim/licenses/slow/install", { client_id: "slowpoke" });
    await http("POST", `${quick.url}/v3.6/configuration/action/register_webhook`, {
      body: { url: `${rx.url}/slow`, action: "incoming_chat", secret_key: "s", owner_client_id: "slowpoke", type: "license" },
      headers: { authorization: `Bearer ${/** @type {any} */ (installed).tokens.access_token}` },
    });
    rx.fail((e) => e.path === "/slow", 200, 1, 600);
    await quick.control.call("POST", "/_sim/chats", { license: "slow", customer: "Ed" });
    await quick.control.call("POST", "/_sim/idle", { timeout_ms: 3000 });
    const [d] = /** @type {any[]} */ (await quick.control.call("GET", "/_sim/deliveries?action=incoming_chat"));
    assert.equal(d.attempts[0].error, "timeout");
    assert.equal(d.attempts[1].status, 200);
    assert.equal(d.state, "delivered");
  } finally {
    await quick.close();
  }
});

// ------------------------------------------------------------------ runner

let passed = 0;
let failed = 0;
const started = Date.now();
for (const { name, fn } of tests) {
  const t0 = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok   ${name} (${Date.now() - t0} ms)`);
  } catch (err) {
    failed++;
    console.log(`FAIL ${name}\n     ${String(/** @type {any} */ (err)?.stack ?? err).split("\n").slice(0, 6).join("\n     ")}`);
  }
}
await sim.close();
await rx.close();
console.log(`\nselftest took ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(`${passed} passed, ${failed} failed`);
if (argv.json) writeFileSync(argv.json, JSON.stringify({ passed, failed }));
process.exit(failed ? 1 : 0);
