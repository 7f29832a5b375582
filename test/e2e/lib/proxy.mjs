// The webhook path between the simulator and the Worker: the simulator delivers to this proxy
// (webhooks are registered at its URL), which forwards to the Worker and records every attempt
// with the Worker's answer. Fault rules make chosen deliveries fail like a flaky network or an
// overloaded edge would, so the simulator retries them:
//   - "before": answer the error without forwarding (the Worker never saw this attempt);
//   - "after":  forward, then answer the error anyway (the Worker stored it; the retry must be
//               recognised as a duplicate).
import { createHash } from "node:crypto";
import { createServer } from "node:http";

/**
 * @typedef {object} Attempt
 * @property {number} at
 * @property {string} path           /webhooks/license, /webhooks/bot, /webhooks/app
 * @property {string} signature      hash of the body: the same for every retry of one delivery
 * @property {number} attempt        1 for the first attempt of this signature
 * @property {string} [action]
 * @property {string} [organizationId]
 * @property {string} [chatId]
 * @property {string[]} eventIds     events the payload carries (incoming_event, incoming_chat)
 * @property {string[]} texts        their texts
 * @property {string} [injected]     e.g. "500 before"
 * @property {number} [workerStatus]
 * @property {string} [workerOutcome] the Worker's `outcome` (accepted, duplicate, …)
 * @property {string} [workerBody]   the start of a 5xx answer: whose answer it was (the Worker's
 *                                   JSON, or wrangler dev's text while it reloads the Worker)
 * @property {number} status         what the simulator got
 */

/**
 * @typedef {object} FaultRule
 * @property {(a: Attempt) => boolean} match
 * @property {"before" | "after"} mode
 * @property {number} status
 * @property {number} times           fail the first `times` attempts of each matching delivery
 * @property {string} [label]
 */

export class WebhookProxy {
  /** @param {string} target  the Worker's origin */
  constructor(target) {
    this.target = target;
    /** @type {Attempt[]} */
    this.attempts = [];
    /** @type {FaultRule[]} */
    this.rules = [];
    /** @type {Map<string, number>} */
    this.seen = new Map();
    this.url = "";
  }

  async start() {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise((resolve) => this.server.listen(0, "127.0.0.1", () => resolve(undefined)));
    this.url = `http://127.0.0.1:${this.server.address().port}`;
    return this;
  }

  /** @param {FaultRule} rule */
  addRule(rule) {
    this.rules.push(rule);
    return rule;
  }

  clearRules() {
    this.rules = [];
  }

  /** Attempts matching a filter. */
  find(filter = () => true) {
    return this.attempts.filter(filter);
  }

  async handle(req, res) {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const raw = Buffer.concat(chunks);
    const signature = createHash("sha256").update(req.url ?? "").update(raw).digest("hex").slice(0, 16);
    const attemptNo = (this.seen.get(signature) ?? 0) + 1;
    this.seen.set(signature, attemptNo);
    /** @type {Attempt} */
    const attempt = { at: Date.now(), path: req.url ?? "", signature, attempt: attemptNo, eventIds: [], texts: [], status: 0, ...describeBody(raw) };
    this.attempts.push(attempt);

    const rule = this.rules.find((r) => attemptNo <= r.times && r.match(attempt));
    if (rule) attempt.injected = `${rule.status} ${rule.mode}${rule.label ? ` (${rule.label})` : ""}`;
    if (rule?.mode === "before") return this.answer(res, attempt, rule.status, { error: { type: "injected", message: "injected by the e2e proxy" } });

    let status = 502;
    let body = "";
    let contentType = "application/json";
    try {
      const forwarded = await fetch(`${this.target}${req.url}`, {
        method: req.method,
        headers: { "content-type": String(req.headers["content-type"] ?? "application/json") },
        body: raw,
        signal: AbortSignal.timeout(15_000),
      });
      status = forwarded.status;
      body = await forwarded.text();
      contentType = forwarded.headers.get("content-type") ?? contentType;
      attempt.workerStatus = status;
      if (status >= 500) attempt.workerBody = body.slice(0, 300);
      try {
        attempt.workerOutcome = JSON.parse(body)?.outcome;
      } catch {
        // not JSON
      }
    } catch (err) {
      attempt.workerOutcome = `proxy error: ${err.message}`;
    }
    if (rule?.mode === "after") return this.answer(res, attempt, rule.status, { error: { type: "injected", message: "injected by the e2e proxy" } });
    res.writeHead(status, { "content-type": contentType });
    res.end(body);
    attempt.status = status;
  }

  answer(res, attempt, status, body) {
    attempt.status = status;
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  }

  async close() {
    await new Promise((resolve) => {
      if (!this.server) return resolve(undefined);
      this.server.close(() => resolve(undefined));
      this.server.closeAllConnections();
    });
  }
}

/** What a webhook body is about: action, organization, chat, events (never the secret). */
function describeBody(raw) {
  let body;
  try {
    body = JSON.parse(raw.toString("utf8"));
  } catch {
    return {};
  }
  if (body && typeof body.event === "string" && body.organizationID) {
    return { action: `app:${body.event}`, organizationId: body.organizationID };
  }
  const payload = body?.payload ?? {};
  const events = [payload.event, ...(payload.chat?.thread?.events ?? [])].filter((e) => e && typeof e === "object");
  return {
    action: body?.action,
    organizationId: body?.organization_id,
    chatId: payload.chat_id ?? payload.chat?.id,
    eventIds: events.map((e) => e.id).filter(Boolean),
    texts: events.map((e) => e.text).filter((t) => typeof t === "string"),
  };
}
