/**
 * Baseline (b): the honest floor for durable acceptance. Parse the JSON body, compare the
 * secret, write the body to a SQLite-backed Durable Object, then answer 200. Routing is the
 * same as livechat-edge's: chat-scoped actions go to a Chat DO per organization + chat, all
 * others to the License DO of the organization. No dedupe, no schema validation, no
 * redaction: anything livechat-edge does on top of this is its own cost.
 */
import { DurableObject } from "cloudflare:workers";

class Inbox extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS deliveries(id INTEGER PRIMARY KEY AUTOINCREMENT, action TEXT NOT NULL, body TEXT NOT NULL, received_at INTEGER NOT NULL)",
    );
  }

  /** Store one delivery; resolves once the write is durable (output gate). */
  record(action, body) {
    this.ctx.storage.sql.exec("INSERT INTO deliveries(action, body, received_at) VALUES (?, ?, ?)", action, body, Date.now());
    return true;
  }
}

export class License extends Inbox {}
export class Chat extends Inbox {}

const json = (status, body) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

export default {
  async fetch(request, env) {
    if (request.method !== "POST") return json(405, { ok: false });
    const text = await request.text();
    let body;
    try {
      body = JSON.parse(text);
    } catch {
      return json(400, { ok: false });
    }
    if (typeof body !== "object" || body === null || body.secret_key !== env.LIVECHAT_WEBHOOK_SECRET) {
      return json(401, { ok: false });
    }
    const org = String(body.organization_id);
    const payload = body.payload ?? {};
    const chatId = payload.chat_id ?? payload.chat?.id;
    const ns = chatId ? env.CHATS : env.LICENSES;
    const stub = ns.get(ns.idFromName(chatId ? `${org}:${chatId}` : org));
    await stub.record(String(body.action), text);
    return json(200, { ok: true, outcome: "accepted" });
  },
};
