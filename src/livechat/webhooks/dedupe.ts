import { canonicalAction, type WebhookAction } from "./actions";
import { isRecord } from "./schemas/common";

/**
 * Dedupe keys: LiveChat retries a webhook until it gets HTTP 200 (docs/LIVECHAT.md §1.4), with the same
 * body, and a Client ID may register up to 3 webhooks per action (§1.1), so the same event can arrive
 * several times. The key is derived from the payload only (not `webhook_id` or `secret_key`), is
 * stable across redeliveries and differs for genuinely different events.
 *
 * Two kinds of keys (see {@link dedupeKeyKind}):
 * - `identity`: built from ids that LiveChat never reuses (event id, thread id): unique forever.
 * - `content`: ids plus a SHA-256 of the payload (or part of it). A genuinely repeated identical change
 *   (tag → untag → tag the same thread, accepting → not accepting → accepting) yields the same key
 *   again, so a claim of such a key recognises redeliveries only within LiveChat's retry span (~1 minute
 *   in today's docs, §1.4; `REDELIVERY_WINDOW_MS` in src/webhooks/admit.ts). The legacy docs' retries
 *   within 6 hours would be processed again, and handlers are idempotent for that.
 */

const encoder = new TextEncoder();
const SAFE_PART = /^[A-Za-z0-9._@+-]{1,128}$/;

type Frame = { t: "value"; v: unknown } | { t: "text"; s: string } | { t: "exit"; o: object };

/**
 * Canonical JSON: object keys sorted, no whitespace, `undefined`/functions dropped from objects
 * (`null` in arrays), non-finite numbers as `null`, like `JSON.stringify`. Iterative, so 10k-level
 * nesting cannot overflow the stack; a cycle (impossible after `JSON.parse`) becomes `"[circular]"`.
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  const stack: Frame[] = [{ t: "value", v: value }];
  const open = new Set<object>();
  while (stack.length > 0) {
    const frame = stack.pop()!;
    if (frame.t === "text") {
      out.push(frame.s);
      continue;
    }
    if (frame.t === "exit") {
      open.delete(frame.o);
      continue;
    }
    const v = frame.v;
    switch (typeof v) {
      case "string":
        out.push(JSON.stringify(v));
        continue;
      case "number":
        out.push(Number.isFinite(v) ? JSON.stringify(v) : "null");
        continue;
      case "boolean":
        out.push(v ? "true" : "false");
        continue;
      case "bigint":
        out.push(JSON.stringify(String(v)));
        continue;
      case "object":
        break;
      default: // undefined, function, symbol
        out.push("null");
        continue;
    }
    if (v === null) {
      out.push("null");
      continue;
    }
    if (open.has(v)) {
      out.push('"[circular]"');
      continue;
    }
    open.add(v);
    stack.push({ t: "exit", o: v });
    if (Array.isArray(v)) {
      stack.push({ t: "text", s: "]" });
      for (let i = v.length - 1; i >= 0; i--) {
        stack.push({ t: "value", v: v[i] });
        if (i > 0) stack.push({ t: "text", s: "," });
      }
      out.push("[");
    } else {
      const record = v as Record<string, unknown>;
      const keys = Object.keys(record)
        .filter((k) => {
          const kind = typeof record[k];
          return kind !== "undefined" && kind !== "function" && kind !== "symbol";
        })
        .sort();
      stack.push({ t: "text", s: "}" });
      for (let i = keys.length - 1; i >= 0; i--) {
        stack.push({ t: "value", v: record[keys[i]] });
        stack.push({ t: "text", s: `${i > 0 ? "," : ""}${JSON.stringify(keys[i])}:` });
      }
      out.push("{");
    }
  }
  return out.join("");
}

/** Lower-case hex SHA-256 of a string (UTF-8). */
export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
  let hex = "";
  for (const byte of digest) hex += byte.toString(16).padStart(2, "0");
  return hex;
}

/** What a key is built from: id parts (all must be present) and optionally hashed content. */
interface KeySpec {
  parts: unknown[];
  content?: unknown;
}

/** Configuration webhooks about one agent, bot, group or tag (docs/LIVECHAT.md §2.1): `auto_accesses_updated` is none. */
const CONFIGURATION = /^(agent|bot|group|tag)_/;

const get = (value: unknown, key: string): unknown => (isRecord(value) ? value[key] : undefined);

function keySpec(action: WebhookAction, p: Record<string, unknown>): KeySpec {
  const { chat_id, thread_id, event_id } = p;
  switch (action) {
    case "incoming_chat":
      return { parts: [get(p.chat, "id"), get(get(p.chat, "thread"), "id")] };
    case "chat_deactivated":
      return { parts: [chat_id, thread_id] };
    case "incoming_event":
      return { parts: [chat_id, thread_id, get(p.event, "id")] };
    case "event_updated":
      // Updates repeat the event id: the event's content tells the updates apart.
      return { parts: [chat_id, thread_id, get(p.event, "id")], content: p.event };
    case "event_deleted":
      return { parts: [chat_id, thread_id, event_id] };
    case "incoming_rich_message_postback":
      return { parts: [chat_id, thread_id, event_id, p.user_id], content: p.postback };
    case "chat_properties_updated":
    case "chat_properties_deleted":
      return { parts: [chat_id], content: p.properties };
    case "thread_properties_updated":
    case "thread_properties_deleted":
      return { parts: [chat_id, thread_id], content: p.properties };
    case "event_properties_updated":
    case "event_properties_deleted":
      return { parts: [chat_id, thread_id, event_id], content: p.properties };
    case "thread_tagged":
    case "thread_untagged":
      return { parts: [chat_id, thread_id, p.tag] };
    case "thread_summary_set":
      return { parts: [chat_id, thread_id], content: p.summary };
    case "user_added_to_chat":
      return { parts: [chat_id, thread_id, get(p.user, "id")], content: p };
    case "user_removed_from_chat":
      return { parts: [chat_id, thread_id, p.user_id], content: p };
    case "chat_transferred":
    case "events_marked_as_seen":
      return { parts: [chat_id], content: p };
    case "chat_access_updated":
    case "customer_session_fields_updated":
      return { parts: [p.id], content: p };
    case "routing_status_set":
      return { parts: [p.agent_id], content: p };
    default:
      // An agent, bot or group of the configuration by its id, a tag by its name (tag_* payloads
      // carry no id, docs/LIVECHAT.md §2.3).
      return CONFIGURATION.test(action) ? { parts: [action[0] === "t" ? p.name : p.id], content: p } : { parts: [], content: p };
  }
}

const identityActions: ReadonlySet<WebhookAction> = new Set<WebhookAction>([
  "incoming_chat",
  "chat_deactivated",
  "incoming_event",
  "event_deleted",
]);

/**
 * `identity` when the action's dedupe key is made of ids LiveChat never reuses (claims can be kept
 * indefinitely), `content` when it includes a payload hash (expire claims after the retry window).
 */
export function dedupeKeyKind(action: string): "identity" | "content" {
  const name = canonicalAction(action);
  return name && identityActions.has(name) ? "identity" : "content";
}

/**
 * Actions that change the same subject: tagging and untagging a thread, setting and deleting
 * properties, adding and removing a user; an agent, bot, group or tag of the license's
 * configuration (suspended, unsuspended, suspended again is three changes).
 */
const subjectFamilies: Partial<Record<WebhookAction, string>> = {
  thread_tagged: "thread_tags",
  thread_untagged: "thread_tags",
  chat_properties_updated: "chat_properties",
  chat_properties_deleted: "chat_properties",
  thread_properties_updated: "thread_properties",
  thread_properties_deleted: "thread_properties",
  event_properties_updated: "event_properties",
  event_properties_deleted: "event_properties",
  user_added_to_chat: "chat_users",
  user_removed_from_chat: "chat_users",
};

/**
 * The subject a state-like webhook changes (e.g. `thread_tags:<chat>:<thread>:<tag>`,
 * `routing_status_set:<agent>`), or undefined (identity keys, and actions whose key has no ids). Its
 * {@link dedupeKey} names the state it sets: the same key seen again right after is a redelivery,
 * but seen again after another state of the same subject (tag, untag, tag; accepting, not
 * accepting, accepting) it is a genuine repeat. Never rejects.
 */
export async function dedupeSubject(action: string, payload: unknown): Promise<string | undefined> {
  const name = canonicalAction(action);
  if (!name || identityActions.has(name) || !isRecord(payload)) return undefined;
  try {
    const spec = keySpec(name, payload);
    if (spec.parts.length === 0 || !spec.parts.every(isIdPart)) return undefined;
    const family = subjectFamilies[name] ?? (CONFIGURATION.test(name) ? name.slice(0, name.indexOf("_")) : name);
    return [family, ...(await keyParts(spec.parts as (string | number)[]))].join(":");
  } catch {
    return undefined; // unreachable for JSON input, as in dedupeKey
  }
}

/**
 * Id parts as-is when short and plain; otherwise (colons, spaces, huge) a short hash, so keys stay
 * unambiguous and bounded. Plain ids (the usual case) are not awaited at all: this runs on every ack.
 */
async function keyParts(values: (string | number)[]): Promise<string[]> {
  const parts: string[] = [];
  for (const value of values) {
    const text = String(value);
    parts.push(SAFE_PART.test(text) ? text : `~${(await sha256Hex(text)).slice(0, 32)}`);
  }
  return parts;
}

function isIdPart(value: unknown): value is string | number {
  return (typeof value === "string" && value.length > 0) || (typeof value === "number" && Number.isSafeInteger(value));
}

/**
 * The dedupe key of a webhook, e.g. `incoming_event:PJ0MRSHTDG:K600PKZON8:K600PKZON8_4`,
 * `thread_tagged:PJ0MRSHTDG:K600PKZON8:bug_report`, `thread_properties_updated:PJ0MRSHTDG:K600PKZON8:<sha256>`,
 * `agent_created:<sha256 of the canonical payload>`. Works on raw payloads: when an id it needs is missing,
 * the key falls back to `<action>:<sha256 of the canonical payload>`. Never contains the secret: the envelope
 * is not part of the key (its `webhook_id` differs between registrations of the same event). The caller
 * prefixes the webhook kind (license/bot). Never rejects.
 */
export async function dedupeKey(action: string, payload: unknown): Promise<string> {
  const name = canonicalAction(action);
  const label = name ?? (typeof action === "string" && /^[a-z0-9_]{1,64}$/.test(action) ? action : `~${(await sha256Hex(String(action))).slice(0, 16)}`);
  try {
    const spec: KeySpec = name && isRecord(payload) ? keySpec(name, payload) : { parts: [], content: payload };
    if (spec.parts.every(isIdPart)) {
      const parts = await keyParts(spec.parts as (string | number)[]);
      if ("content" in spec) parts.push(await sha256Hex(canonicalJson(spec.content)));
      // A status report carries no id: a switch back (offline, then accepting again) repeats an
      // earlier body exactly. Dropping it would leave the bot's status wrong, handling a retry twice
      // is harmless (the License DO confirms the status with LiveChat), so it is never a duplicate.
      if (name === "routing_status_set") parts.push(crypto.randomUUID());
      return [label, ...parts].join(":");
    }
    return `${label}:${await sha256Hex(canonicalJson(payload))}`;
  } catch {
    // Unreachable for JSON input; keep the promise from rejecting for exotic objects.
    return `${label}:unhashable`;
  }
}
