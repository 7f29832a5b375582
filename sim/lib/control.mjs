// The control API under /_sim/: what the CLI and tests use to drive the world (the customer in the
// widget, the human agent in the agent app, the license owner in the Marketplace) and to look at it
// (state, transcripts, the webhook delivery log) or break it (faults, revoked tokens).
import { ApiError, invalid, notFound } from "./errors.mjs";
import { install, uninstall } from "./lifecycle.mjs";
import { newApp } from "./state.mjs";
import { transcript, transcriptText } from "./transcript.mjs";
import { AGENT_APP_CLIENT_ID, WIDGET_CLIENT_ID, latestThread } from "./world.mjs";
import { oneOf, optionalBool, optionalString, optionalStrings, requireString } from "./validate.mjs";

/** @typedef {import("../server.mjs").Simulator} Simulator */
/** @typedef {import("./state.mjs").License} License */
/** @typedef {import("./state.mjs").Chat} Chat */

/**
 * @typedef {object} ControlRequest
 * @property {string} method
 * @property {URL} url
 * @property {string[]} params    regex groups of the route
 * @property {Record<string, any>} body
 */

/**
 * @typedef {(sim: Simulator, req: ControlRequest) => unknown | Promise<unknown>} Handler
 */

/**
 * @param {Simulator} sim
 * @param {string} name
 * @returns {License}
 */
function licenseNamed(sim, name) {
  const license = sim.store.license(name);
  if (!license) throw notFound(`License ${name} not found`);
  return license;
}

/**
 * @param {Simulator} sim
 * @param {string} id
 */
function chatNamed(sim, id) {
  const license = sim.store.licenseOfChat(id);
  if (!license) throw notFound(`Chat ${id} not found`);
  return { license, chat: /** @type {Chat} */ (license.chats[id]) };
}

/**
 * The app an action is about: the named one, or the only registered one.
 * @param {Simulator} sim
 * @param {string | undefined} clientId
 */
function appNamed(sim, clientId) {
  const apps = Object.values(sim.store.state.apps);
  const app = clientId ? sim.store.app(clientId) : apps.length === 1 ? apps[0] : undefined;
  if (!app) throw invalid(clientId ? `App ${clientId} is not registered` : "Name the app with `client_id` (none or several are registered)");
  return app;
}

/** @param {License} license */
function licenseSummary(license) {
  return {
    name: license.name,
    license_id: license.license_id,
    organization_id: license.organization_id,
    region: license.region,
    agent: { id: license.owner.id, name: license.owner.name, account_id: license.owner.account_id, status: license.routing[license.owner.id] },
    installs: license.installs,
    webhooks_disabled: Object.keys(license.webhooks_disabled),
    bots: Object.values(license.bots).map((b) => ({ id: b.id, name: b.name, owner_client_id: b.owner_client_id, status: license.routing[b.id] ?? "offline" })),
    chats: Object.keys(license.chats).length,
  };
}

/**
 * The human agent working in LiveChat's agent app.
 * @param {License} license
 */
const agentActor = (license) => ({ kind: /** @type {const} */ ("agent"), id: license.owner.id, clientId: AGENT_APP_CLIENT_ID });

/**
 * @param {Chat} chat
 */
const customerActor = (chat) => ({
  kind: /** @type {const} */ ("customer"),
  id: chat.users.find((u) => u.type === "customer")?.id ?? "",
  clientId: WIDGET_CLIENT_ID,
});

/** @type {[string, RegExp, Handler][]} */
const routes = [
  ["GET", /^\/_sim\/health$/, () => ({ ok: true })],
  ["GET", /^\/_sim\/state$/, (sim) => sim.store.state],
  [
    "POST",
    /^\/_sim\/reset$/,
    (sim) => {
      sim.store.reset();
      sim.faults.clear();
      sim.deliverer.clearLog();
      return { ok: true };
    },
  ],

  // ------------------------------------------------------------------ apps & licenses
  ["GET", /^\/_sim\/apps$/, (sim) => Object.values(sim.store.state.apps)],
  [
    "POST",
    /^\/_sim\/apps$/,
    (sim, { body }) => {
      const clientId = requireString(body, "client_id");
      const existing = sim.store.app(clientId);
      const app = newApp({
        ...existing,
        client_id: clientId,
        client_secret: optionalString(body, "client_secret") ?? existing?.client_secret ?? requireString(body, "client_secret"),
        ...(body.name !== undefined ? { name: requireString(body, "name") } : {}),
        ...(body.app_webhook_url !== undefined ? { app_webhook_url: optionalString(body, "app_webhook_url") ?? null } : {}),
        ...(body.redirect_uris !== undefined ? { redirect_uris: optionalStrings(body, "redirect_uris") } : {}),
        ...(body.scopes !== undefined ? { scopes: requireString(body, "scopes") } : {}),
      });
      sim.store.state.apps[clientId] = app;
      return app;
    },
  ],
  ["GET", /^\/_sim\/licenses$/, (sim) => Object.values(sim.store.state.licenses).map(licenseSummary)],
  [
    "POST",
    /^\/_sim\/licenses$/,
    (sim, { body }) => {
      const name = requireString(body, "name");
      const region = oneOf(body, "region", ["dal", "fra"]);
      const existing = sim.store.license(name);
      if (existing && region && existing.region !== region) throw invalid(`License ${name} exists in region ${existing.region}`);
      const license = sim.store.ensureLicense(name, { region, agentName: optionalString(body, "agent_name") });
      if (optionalBool(body, "current")) sim.store.state.current_license = name;
      return licenseSummary(license);
    },
  ],
  ["GET", /^\/_sim\/licenses\/([^/]+)$/, (sim, { params }) => licenseSummary(licenseNamed(sim, params[0]))],
  [
    "POST",
    /^\/_sim\/current-license$/,
    (sim, { body }) => {
      const name = requireString(body, "name");
      sim.store.ensureLicense(name, { region: oneOf(body, "region", ["dal", "fra"]) });
      sim.store.state.current_license = name;
      return { current_license: name };
    },
  ],
  [
    "POST",
    /^\/_sim\/licenses\/([^/]+)\/install$/,
    (sim, { params, body }) => {
      // Direct install without the browser redirect: as if the owner approved, plus the code
      // exchange a server-side app would make (tests that do not run the Worker).
      const license = sim.store.ensureLicense(params[0], { region: oneOf(body, "region", ["dal", "fra"]) });
      const app = appNamed(sim, optionalString(body, "client_id"));
      const installed = install(sim, license, app);
      const tokens = sim.tokens.issue({ clientId: app.client_id, license, scope: app.scopes, publicClient: false });
      return { installed, license: licenseSummary(license), tokens };
    },
  ],
  [
    "POST",
    /^\/_sim\/licenses\/([^/]+)\/uninstall$/,
    (sim, { params, body }) => {
      const license = licenseNamed(sim, params[0]);
      const app = appNamed(sim, optionalString(body, "client_id"));
      return { uninstalled: uninstall(sim, license, app), license: licenseSummary(license) };
    },
  ],
  [
    "POST",
    /^\/_sim\/licenses\/([^/]+)\/revoke-tokens$/,
    (sim, { params, body }) => ({
      revoked: sim.tokens.revokeLicense(licenseNamed(sim, params[0]), {
        clientId: optionalString(body, "client_id"),
        bots: optionalBool(body, "bots") ?? false,
        refresh: optionalBool(body, "refresh") ?? true,
      }),
    }),
  ],
  ["POST", /^\/_sim\/licenses\/([^/]+)\/expire-tokens$/, (sim, { params }) => ({ expired: sim.tokens.expireLicense(licenseNamed(sim, params[0])) })],
  [
    "POST",
    /^\/_sim\/licenses\/([^/]+)\/pats$/,
    (sim, { params, body }) => {
      const license = licenseNamed(sim, params[0]);
      const pat = sim.tokens.issuePat(license, optionalString(body, "scopes") ?? sim.allScopes);
      return { ...pat, authorization: `Basic ${Buffer.from(`${pat.account_id}:${pat.token}`).toString("base64")}` };
    },
  ],
  [
    "POST",
    /^\/_sim\/licenses\/([^/]+)\/routing$/,
    (sim, { params, body }) => {
      // The license owner sets statuses in the agent app: the human agent, one bot, or every bot.
      const license = licenseNamed(sim, params[0]);
      const status = /** @type {any} */ (oneOf(body, "status", ["accepting_chats", "not_accepting_chats", "offline"], { required: true }));
      const target = optionalString(body, "agent_id") ?? "bots";
      const ids = target === "bots" ? Object.keys(license.bots) : target === "agent" ? [license.owner.id] : [target];
      for (const id of ids) {
        if (id === license.owner.id && status === "offline") throw invalid("`offline` is allowed for bots only");
        if (id !== license.owner.id && !license.bots[id]) throw notFound(`Agent ${id} not found`);
        sim.world.setRoutingStatus(license, id, status, agentActor(license));
      }
      return { set: ids, status };
    },
  ],
  [
    "POST",
    /^\/_sim\/licenses\/([^/]+)\/tags$/,
    (sim, { params, body }) => {
      const license = licenseNamed(sim, params[0]);
      const requester = { user_id: license.owner.id, account_id: license.owner.account_id, client_id: AGENT_APP_CLIENT_ID };
      return sim.world.createTag(license, { name: requireString(body, "name"), groupIds: [0] }, agentActor(license), requester);
    },
  ],

  // ------------------------------------------------------------------ chats
  [
    "GET",
    /^\/_sim\/chats$/,
    (sim, { url }) => {
      const only = url.searchParams.get("license");
      return Object.values(sim.store.state.licenses)
        .filter((l) => !only || l.name === only)
        .flatMap((license) =>
          Object.values(license.chats).map((chat) => {
            const thread = latestThread(chat);
            const last = thread?.events.filter((e) => e.type === "message").at(-1);
            return {
              id: chat.id,
              license: license.name,
              active: Boolean(thread?.active),
              customer: sim.world.nameOf(license, customerActor(chat).id),
              users: chat.users.filter((u) => u.present).map((u) => sim.world.nameOf(license, u.id)),
              threads: chat.threads.length,
              tags: thread?.tags ?? [],
              last_message: last ? { author: sim.world.nameOf(license, last.author_id), text: last.text } : null,
            };
          }),
        );
    },
  ],
  [
    "POST",
    /^\/_sim\/chats$/,
    (sim, { body }) => {
      const license = sim.store.ensureLicense(optionalString(body, "license") ?? sim.store.state.current_license);
      const { chat, thread, customer } = sim.world.startChat(license, {
        customerName: optionalString(body, "customer") ?? "Ann Customer",
        customerEmail: optionalString(body, "email"),
        customerId: optionalString(body, "customer_id"),
        text: optionalString(body, "text"),
        route: optionalBool(body, "route") ?? true,
        firstMessageAsEvent: optionalBool(body, "first_message_as_event") ?? false,
      });
      return { chat_id: chat.id, thread_id: thread.id, customer_id: customer.id, license: license.name, users: chat.users.filter((u) => u.present).map((u) => u.id) };
    },
  ],
  [
    "GET",
    /^\/_sim\/chats\/([^/]+)$/,
    (sim, { params }) => {
      const { license, chat } = chatNamed(sim, params[0]);
      const { thread, ...rest } = sim.world.chatObject(license, chat);
      return { ...rest, threads: chat.threads.map((t) => sim.world.threadObject(t)) };
    },
  ],
  [
    "POST",
    /^\/_sim\/chats\/([^/]+)\/messages$/,
    (sim, { params, body }) => {
      const { license, chat } = chatNamed(sim, params[0]);
      const as = oneOf(body, "as", ["customer", "agent"]) ?? "customer";
      const text = requireString(body, "text");
      const visibility = oneOf(body, "visibility", ["all", "agents"]) ?? "all";
      const thread = latestThread(chat);
      if (as === "customer") {
        if (visibility !== "all") throw invalid("Customers send `visibility: all` only");
        if (!thread?.active) {
          // Writing into a closed chat starts a new thread (the widget's resume_chat).
          const resumed = sim.world.resumeChat(license, chat, { text, route: optionalBool(body, "route") ?? true });
          return { thread_id: resumed.id, event_id: resumed.events.at(-1)?.id, resumed: true };
        }
        const event = sim.world.sendEvent(license, chat, customerActor(chat), { type: "message", text, visibility });
        return { thread_id: thread.id, event_id: event.id };
      }
      if (!thread?.active) throw new ApiError("chat_inactive");
      const agent = agentActor(license);
      if (!chat.users.some((u) => u.id === agent.id && u.present)) {
        sim.world.addUser(license, chat, { userId: agent.id, userType: "agent", visibility: "all" }, agent);
      }
      const event = sim.world.sendEvent(license, chat, agent, { type: "message", text, visibility });
      return { thread_id: thread.id, event_id: event.id };
    },
  ],
  [
    "POST",
    /^\/_sim\/chats\/([^/]+)\/tags$/,
    (sim, { params, body }) => {
      const { license, chat } = chatNamed(sim, params[0]);
      const tag = requireString(body, "tag");
      const remove = optionalBool(body, "remove") ?? false;
      if (!remove && !license.tags.some((t) => t.name === tag)) throw notFound(`Tag ${tag} not found (create it with POST /_sim/licenses/${license.name}/tags)`);
      const thread = latestThread(chat);
      if (!thread) throw notFound("Chat has no thread");
      return { changed: sim.world.tag(license, chat, thread, tag, !remove, agentActor(license)), thread_id: thread.id, tags: thread.tags };
    },
  ],
  [
    "POST",
    /^\/_sim\/chats\/([^/]+)\/rating$/,
    (sim, { params, body }) => {
      const { license, chat } = chatNamed(sim, params[0]);
      const raw = body.score;
      const score = raw === "good" || raw === 1 ? 1 : raw === "bad" || raw === 0 ? 0 : undefined;
      if (score === undefined) throw invalid("`score` must be good, bad, 1 or 0");
      sim.world.rate(license, chat, { score, comment: optionalString(body, "comment") });
      return { thread_id: latestThread(chat)?.id, rating: latestThread(chat)?.properties.rating };
    },
  ],
  [
    "DELETE",
    /^\/_sim\/chats\/([^/]+)\/rating$/,
    (sim, { params }) => {
      const { license, chat } = chatNamed(sim, params[0]);
      if (!latestThread(chat)?.properties.rating) throw notFound("The chat is not rated");
      sim.world.unrate(license, chat);
      return { thread_id: latestThread(chat)?.id };
    },
  ],
  [
    "POST",
    /^\/_sim\/chats\/([^/]+)\/close$/,
    (sim, { params, body }) => {
      const { license, chat } = chatNamed(sim, params[0]);
      if (!latestThread(chat)?.active) throw new ApiError("chat_inactive");
      const as = oneOf(body, "as", ["customer", "agent"]) ?? "agent";
      sim.world.deactivate(license, chat, as === "agent" ? agentActor(license) : customerActor(chat));
      return { thread_id: latestThread(chat)?.id };
    },
  ],
  [
    "GET",
    /^\/_sim\/chats\/([^/]+)\/transcript$/,
    (sim, { params, url }) => {
      const { license, chat } = chatNamed(sim, params[0]);
      const t = transcript(sim.world, license, chat);
      return url.searchParams.get("format") === "text" ? { text: transcriptText(t) } : t;
    },
  ],

  // ------------------------------------------------------------------ webhooks & faults
  [
    "GET",
    /^\/_sim\/deliveries$/,
    (sim, { url }) => {
      const q = url.searchParams;
      const since = Number(q.get("since") ?? 0);
      return sim.deliverer.entries.filter(
        (d) =>
          (!q.get("action") || d.action === q.get("action")) &&
          (!q.get("chat_id") || d.chat_id === q.get("chat_id")) &&
          (!q.get("license") || d.license === q.get("license")) &&
          (!q.get("state") || d.state === q.get("state")) &&
          (!q.get("kind") || d.kind === q.get("kind")) &&
          Number(d.id.slice(1)) > since,
      );
    },
  ],
  [
    "DELETE",
    /^\/_sim\/deliveries$/,
    (sim) => {
      sim.deliverer.clearLog();
      return { ok: true };
    },
  ],
  [
    "POST",
    /^\/_sim\/idle$/,
    async (sim, { body }) => {
      const idle = await sim.deliverer.idle({
        timeoutMs: Number.isInteger(body.timeout_ms) ? body.timeout_ms : 30_000,
        firstAttemptsOnly: optionalBool(body, "first_attempts_only") ?? false,
      });
      return { idle, pending: sim.deliverer.pendingCount() };
    },
  ],
  ["GET", /^\/_sim\/faults$/, (sim) => sim.faults.list],
  ["POST", /^\/_sim\/faults$/, (sim, { body }) => sim.faults.add(body)],
  [
    "DELETE",
    /^\/_sim\/faults$/,
    (sim) => {
      sim.faults.clear();
      return { ok: true };
    },
  ],
  [
    "DELETE",
    /^\/_sim\/faults\/([^/]+)$/,
    (sim, { params }) => {
      if (!sim.faults.remove(params[0])) throw notFound(`Fault ${params[0]} not found`);
      return { ok: true };
    },
  ],
];

/**
 * Find the control route for a request.
 * @param {string} method
 * @param {string} path
 * @returns {{ handler: Handler, params: string[] } | { allowed: string[] } | undefined}
 */
export function matchControl(method, path) {
  const allowed = [];
  for (const [m, pattern, handler] of routes) {
    const match = pattern.exec(path);
    if (!match) continue;
    if (m === method) return { handler, params: match.slice(1).map(decodeURIComponent) };
    allowed.push(m);
  }
  return allowed.length ? { allowed } : undefined;
}
