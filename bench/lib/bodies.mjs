/**
 * Realistic webhook bodies for the load: the documented v3.6 samples from
 * test/fixtures/livechat, filled with the documented Chat, User and Event structures
 * (the webhook samples leave `event`, `users` and `thread` empty), and with markers where
 * every request gets its own organization, chat, thread and event ids.
 *
 * The same templates feed the wrk Lua script (see load.mjs), the probes and the
 * micro-benchmark, so all of them send the same bytes.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

/** Markers replaced per request. Each sits inside a JSON string, so templates stay valid JSON. */
export const MARKERS = ["ORG", "CHAT", "THREAD", "CHATTHREAD", "EVENT", "TAG"];
const markerRe = new RegExp(`@@(${MARKERS.join("|")})@@`, "g");

/** How many organizations and chats per organization the load spreads over. */
export const POOL = { orgs: 20, chatsPerOrg: 100 };

/**
 * The action mix, as a cycle the load walks through: per chat one incoming_chat, one
 * thread_tagged and one chat_deactivated for every ten incoming_event (10/13 ≈ 77 % events).
 */
export const MIX = [
  "incoming_chat",
  "incoming_event",
  "incoming_event",
  "thread_tagged",
  "incoming_event",
  "incoming_event",
  "incoming_event",
  "incoming_event",
  "chat_deactivated",
  "incoming_event",
  "incoming_event",
  "incoming_event",
  "incoming_event",
];

export const TAGS = ["sales", "support", "bug_report", "positive feedback", "billing"];

const hex = (n, width) => n.toString(16).padStart(width, "0").slice(-width);

/** Deterministic organization ids (UUID-shaped, like LiveChat's). */
export function orgIds() {
  return Array.from({ length: POOL.orgs }, (_, i) => `${hex(0xbe0c0000 + i, 8)}-b3c4-4d5e-8f60-${hex(0x1a2b0000 + i, 12)}`);
}

/** Chats as [orgIndex, chatId, the chat's current thread id] (LiveChat-shaped 10-character ids). */
export function chatPool() {
  const chats = [];
  for (let o = 0; o < POOL.orgs; o++) {
    for (let c = 0; c < POOL.chatsPerOrg; c++) {
      const n = o * POOL.chatsPerOrg + c;
      chats.push([o, `PJ${n.toString(36).toUpperCase().padStart(8, "0")}`, `K6${n.toString(36).toUpperCase().padStart(8, "0")}`]);
    }
  }
  return chats;
}

/**
 * Build the four templates. Unique per request: `THREAD` (a new thread id, the dedupe key of
 * incoming_chat / thread_tagged / chat_deactivated) and `EVENT` (the new event's id, the dedupe
 * key of incoming_event). `CHATTHREAD` is the chat's current thread, which events arrive in.
 */
export function buildTemplates({ examplesDir, secret }) {
  const read = (name) => JSON.parse(readFileSync(join(examplesDir, name), "utf8"));
  const chat = read("structure.v3.6.chat.json");
  const thread = read("structure.v3.6.thread.json");
  const message = read("event.v3.6.message.json");
  const customer = chat.users.find((u) => u.type === "customer");
  const agent = chat.users.find((u) => u.type === "agent");

  // A customer's plain message: the documented Event without the rich-message postback.
  const { postback: _postback, ...event } = message;
  const newEvent = { ...event, id: "@@EVENT@@", author_id: customer.id, text: "Hi, I have a question about my order" };

  const additional = {
    chat_properties: { source: { client_id: "0805e283233042b37f460ed8fbf22160" }, ...thread.properties },
    chat_presence_user_ids: [customer.id, agent.id],
  };
  const envelope = (action, payload) => ({
    webhook_id: `wh-${action}-00000000000000000000`,
    secret_key: secret,
    action,
    organization_id: "@@ORG@@",
    payload,
    additional_data: additional,
  });

  const docs = {
    incoming_event: read("webhook.v3.6.incoming_event.json"),
    incoming_chat: read("webhook.v3.6.incoming_chat.json"),
    thread_tagged: read("webhook.v3.6.thread_tagged.json"),
    chat_deactivated: read("webhook.v3.6.chat_deactivated.json"),
  };
  const bodies = {
    incoming_event: envelope("incoming_event", {
      ...docs.incoming_event.payload,
      chat_id: "@@CHAT@@",
      thread_id: "@@CHATTHREAD@@",
      event: newEvent,
    }),
    incoming_chat: envelope("incoming_chat", {
      chat: {
        ...docs.incoming_chat.payload.chat,
        id: "@@CHAT@@",
        users: chat.users,
        properties: thread.properties,
        access: chat.access,
        is_followed: false,
        thread: {
          id: "@@THREAD@@",
          active: true,
          user_ids: [customer.id, agent.id],
          events: [newEvent],
          properties: thread.properties,
          access: thread.access,
          tags: [],
          created_at: thread.created_at,
        },
      },
    }),
    thread_tagged: envelope("thread_tagged", {
      ...docs.thread_tagged.payload,
      chat_id: "@@CHAT@@",
      thread_id: "@@THREAD@@",
      tag: "@@TAG@@",
    }),
    chat_deactivated: envelope("chat_deactivated", {
      ...docs.chat_deactivated.payload,
      chat_id: "@@CHAT@@",
      thread_id: "@@THREAD@@",
      user_id: agent.id,
    }),
  };

  /** Each template as literal parts interleaved with marker names: parts.length === keys.length + 1. */
  const templates = {};
  for (const [action, body] of Object.entries(bodies)) {
    const text = JSON.stringify(body);
    const parts = [];
    const keys = [];
    let last = 0;
    for (const m of text.matchAll(markerRe)) {
      parts.push(text.slice(last, m.index));
      keys.push(m[1]);
      last = m.index + m[0].length;
    }
    parts.push(text.slice(last));
    templates[action] = { action, parts, keys };
  }
  return templates;
}

/** Fill a template. */
export function render(template, values) {
  let out = template.parts[0];
  for (let i = 0; i < template.keys.length; i++) out += values[template.keys[i]] + template.parts[i + 1];
  return out;
}

/**
 * A generator of unique bodies in the load's mix, for Node-side use (probes, cold start,
 * micro-benchmark). `run` keeps ids from different runs apart; the wrk script mirrors this.
 */
export function bodyStream(templates, run) {
  const orgs = orgIds();
  const chats = chatPool();
  let counter = 0;
  let seed = 0x9e3779b1 ^ run;
  const rand = (n) => {
    // xorshift32: deterministic and cheap
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return (seed >>> 0) % n;
  };
  return function next() {
    counter++;
    const action = MIX[counter % MIX.length];
    const [o, chatId, chatThread] = chats[rand(chats.length)];
    const values = {
      ORG: orgs[o],
      CHAT: chatId,
      CHATTHREAD: chatThread,
      THREAD: `T${hex(run, 2).toUpperCase()}N${counter.toString(16).toUpperCase().padStart(7, "0")}`,
      EVENT: `${hex(run, 8)}-0000-4000-8000-${hex(counter, 12)}`,
      TAG: TAGS[counter % TAGS.length],
    };
    return { action, body: render(templates[action], values) };
  };
}

/**
 * A generator of incoming_chat bodies, each for a chat no other run or call has used: every one
 * creates its Chat DO (`AB_MIX=new-chats npm run bench:ab`). Organizations in turn.
 */
export function newChats(templates, run) {
  const orgs = orgIds();
  let counter = 0;
  return function next() {
    const i = counter++;
    const id = `${run.toString(36)}X${i.toString(36)}`.toUpperCase().padStart(8, "0");
    const values = { ORG: orgs[i % orgs.length], CHAT: `NC${id}`, CHATTHREAD: "", THREAD: `NT${id}`, EVENT: `${hex(run, 8)}-6666-4000-8000-${hex(i, 12)}`, TAG: "" };
    return { action: "incoming_chat", body: render(templates.incoming_chat, values) };
  };
}

/**
 * One incoming_chat per chat of the pool, in order: how every chat starts. The bench sends these
 * before the timed warm-up so that every Chat DO exists when the measurement starts.
 */
export function chatStarts(templates, run) {
  const orgs = orgIds();
  return chatPool().map(([o, chatId], i) =>
    render(templates.incoming_chat, {
      ORG: orgs[o],
      CHAT: chatId,
      CHATTHREAD: "",
      THREAD: `S${hex(run, 2).toUpperCase()}N${i.toString(16).toUpperCase().padStart(7, "0")}`,
      EVENT: `${hex(run, 8)}-5555-4000-8000-${hex(i, 12)}`,
      TAG: "",
    }),
  );
}
