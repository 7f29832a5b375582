// What the story and fault steps share: the simulator's control API, the Worker's URLs, the
// app's bot messages in a transcript, the admin settings API, the cron trigger, and the
// Worker → LiveChat calls seen by the simulator.
import { installThroughWorker, runNode, setupAgainstSimulator, simCall } from "../../../scripts/local-stack.mjs";
import { expect, sleep, waitFor } from "./harness.mjs";

/** Settings the suite gives each license through the admin API, so it can recognise every bot message. */
export const E2E_SETTINGS = {
  replyMessage: "E2E nudge: thanks for waiting, an agent will be with you shortly.",
  tagSuggestions: { refund: ["E2E suggestion: refunds reach the card within 5 business days."] },
  rating: {
    goodMessage: "E2E good rating: ask for a review at {reviewUrl}",
    badMessage: "E2E bad rating: ask what went wrong.",
    reviewUrl: "https://reviews.example.com/e2e",
  },
};

/** A Worker → LiveChat API call as the simulator logged it. */
const API_LINE = /^(GET|POST|DELETE) (\/v\d+\.\d+\/(?:agent|configuration)\/action\/\w+|\/v2\/token|\/v2\/info) (\d{3})/;

/**
 * @param {{ stack: any, replyTimeoutSeconds: number }} o
 */
export function createContext({ stack, replyTimeoutSeconds }) {
  const sim = stack.sim;
  const clientId = stack.secrets.LIVECHAT_CLIENT_ID;
  const control = (method, path, body) => sim.control.call(method, path, body);
  /** Per license name: whether the admin API took the E2E settings. */
  const configured = new Map();

  const ctx = {
    stack,
    sim,
    proxy: stack.proxy,
    clientId,
    workerUrl: stack.workerUrl,
    replyTimeoutSeconds,
    control,

    /** `npm run setup` against the simulator, webhooks at the proxy. */
    setup: async (license) => {
      await control("POST", "/_sim/licenses", { name: license });
      return setupAgainstSimulator({
        simUrl: sim.url,
        workerUrl: stack.proxy.url,
        license,
        clientId,
        webhookSecret: stack.secrets.LIVECHAT_WEBHOOK_SECRET,
        json: true,
      });
    },

    /**
     * `npm run doctor` against the stack, as an operator would run it: a PAT of `license`, the
     * admin token in the environment, the webhooks expected at `webhooksUrl` (default: the proxy).
     */
    doctor: async (license, { webhooksUrl = stack.proxy.url, adminToken = stack.secrets.ADMIN_TOKEN } = {}) => {
      const pat = await simCall(sim.url, "POST", `/_sim/licenses/${encodeURIComponent(license)}/pats`, {});
      return runNode(["scripts/doctor.mjs", "--url", stack.workerUrl, "--webhooks-url", webhooksUrl, "--json"], {
        LIVECHAT_PAT: pat.token,
        LIVECHAT_ACCOUNT_ID: pat.account_id,
        LIVECHAT_TOKEN: undefined,
        LIVECHAT_API_URL: sim.url,
        ADMIN_TOKEN: adminToken,
      });
    },

    /** The real install through the Worker for a simulator license. */
    install: (license) => installThroughWorker({ simUrl: sim.url, workerUrl: stack.workerUrl, license }),

    license: (name) => control("GET", `/_sim/licenses/${encodeURIComponent(name)}`),

    /** The app's bots on a license (owned by our client id). */
    async bots(name) {
      const lic = await ctx.license(name);
      return lic.bots.filter((b) => b.owner_client_id === clientId);
    },

    /** Wait until the app's bot on `name` accepts chats; resolves with it. */
    async waitBotAccepting(name, timeoutMs = 20_000) {
      return waitFor("the app's bot to accept chats", async () => (await ctx.bots(name)).find((b) => b.status === "accepting_chats"), {
        timeoutMs,
        describe: async () => {
          const bots = await ctx.bots(name);
          return bots.length ? `bots: ${bots.map((b) => `${b.id} ${b.status}`).join(", ")}` : "the app has no bot on the license";
        },
      });
    },

    transcript: (chatId) => control("GET", `/_sim/chats/${encodeURIComponent(chatId)}/transcript`),
    transcriptText: async (chatId) => (await control("GET", `/_sim/chats/${encodeURIComponent(chatId)}/transcript?format=text`)).text,

    /** Messages of the app's bots in a chat, split by visibility. */
    async botMessages(chatId) {
      const t = await ctx.transcript(chatId);
      const lic = await ctx.license(t.license);
      const ours = new Set(lic.bots.filter((b) => b.owner_client_id === clientId).map((b) => b.id));
      const events = t.threads.flatMap((th) => th.events.map((e) => ({ ...e, thread_id: th.id })));
      const mine = events.filter((e) => e.type === "message" && ours.has(e.author_id));
      return { customer: mine.filter((e) => e.visibility === "all"), agents: mine.filter((e) => e.visibility === "agents"), events };
    },

    /** Nudges: the bot's customer-visible messages (the configured text when the admin API took it). */
    async nudges(chatId) {
      const { customer, events } = await ctx.botMessages(chatId);
      const licenseName = (await ctx.transcript(chatId)).license;
      const text = configured.get(licenseName) ? E2E_SETTINGS.replyMessage : undefined;
      return { nudges: customer.filter((e) => !text || e.text === text), events };
    },

    /** Agents-only bot messages whose text satisfies `accept`. */
    async agentNotes(chatId, accept = () => true) {
      const { agents } = await ctx.botMessages(chatId);
      return agents.filter((e) => accept(e.text));
    },

    /** Whether the E2E settings are in force on a license. */
    configured: (name) => Boolean(configured.get(name)),

    /** PUT the E2E settings through the admin API; resolves with what the Worker answered. */
    async configure(name, organizationId) {
      const res = await fetch(`${stack.workerUrl}/admin/api/licenses/${encodeURIComponent(organizationId)}/settings`, {
        method: "PUT",
        headers: { authorization: `Bearer ${stack.secrets.ADMIN_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ replyTimeoutSeconds: replyTimeoutSeconds, ...E2E_SETTINGS }),
      });
      const text = await res.text();
      configured.set(name, res.ok);
      return { ok: res.ok, status: res.status, text: text.slice(0, 300) };
    },

    /** PUT a settings patch through the admin API. */
    async settings(organizationId, patch) {
      const res = await fetch(`${stack.workerUrl}/admin/api/licenses/${encodeURIComponent(organizationId)}/settings`, {
        method: "PUT",
        headers: { authorization: `Bearer ${stack.secrets.ADMIN_TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify(patch),
      });
      return { ok: res.ok, status: res.status, text: (await res.text()).slice(0, 300) };
    },

    /** Run the Worker's cron like the Cron Trigger would (docs/TOOLCHAIN.md §3.3). */
    async cron() {
      const res = await fetch(`${stack.workerUrl}/cdn-cgi/handler/scheduled?cron=${encodeURIComponent("*/5 * * * *")}`);
      return { status: res.status, text: (await res.text()).trim().slice(0, 200) };
    },

    /** Worker → LiveChat API calls the simulator saw since `since` (ms). */
    apiCalls(since = 0) {
      return stack.simLines
        .filter((l) => l.at >= since)
        .map((l) => ({ at: l.at, m: API_LINE.exec(l.line) }))
        .filter((x) => x.m)
        .map((x) => ({ at: x.at, method: x.m[1], path: x.m[2], status: Number(x.m[3]) }));
    },

    /** Start a chat as a customer; resolves with its id. */
    async startChat(license, text, customer = "E2E Customer") {
      const r = await control("POST", "/_sim/chats", { license, customer, text });
      return r.chat_id;
    },

    /** A message as the customer or the human agent; resolves with the event id. */
    async say(chatId, as, text) {
      const r = await control("POST", `/_sim/chats/${encodeURIComponent(chatId)}/messages`, { as, text });
      return r.event_id;
    },

    /** Wait until the Worker accepted the delivery carrying event `eventId` (through the proxy). */
    async waitAccepted(eventId, timeoutMs = 10_000) {
      return waitFor(`the Worker to accept the webhook carrying event ${eventId}`, () =>
        ctx.proxy.find((a) => a.eventIds.includes(eventId) && a.workerStatus === 200 && a.workerOutcome === "accepted")[0],
      { timeoutMs, describe: () => describeAttempts(ctx.proxy.find((a) => a.eventIds.includes(eventId))) });
    },

    /** Let the simulator's pending deliveries settle. */
    idle: (timeoutMs = 10_000) => control("POST", "/_sim/idle", { timeout_ms: timeoutMs }),

    /**
     * Wait for exactly one item: poll until at least one shows, then watch `settleMs` longer and
     * fail when there is more than one.
     * @template T
     * @param {string} what
     * @param {() => Promise<T[]>} list
     * @param {{ timeoutMs: number, settleMs?: number, describe?: () => Promise<string> }} o
     */
    async exactlyOne(what, list, { timeoutMs, settleMs = 2_000, describe }) {
      const first = await waitFor(what, async () => ((await list()).length ? await list() : undefined), { timeoutMs, describe });
      await sleep(settleMs);
      const after = await list();
      expect(after.length === 1, `${what}: expected exactly one, found ${after.length}: ${after.map((e) => JSON.stringify(e.text ?? e)).join(", ")}`);
      return first[0];
    },
  };
  return ctx;
}

/** One line per proxy attempt, for failure messages. */
export function describeAttempts(attempts) {
  if (!attempts.length) return "no delivery reached the proxy";
  return attempts
    .map((a) => `${a.path} ${a.action} attempt ${a.attempt}: ${a.injected ? `injected ${a.injected}, ` : ""}Worker ${a.workerStatus ?? "-"} ${a.workerOutcome ?? ""}`)
    .join("; ");
}
