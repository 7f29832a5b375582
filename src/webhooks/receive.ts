import type { WebhookKind } from "../deliveries/types";
import { chatIdOf, parseEnvelope, secretMatches, storedBody, withOrganizationId } from "../livechat/webhooks";
import { isRecord } from "../livechat/webhooks/schemas/common";
import { reject, type WebhookResult } from "./answer";

/** Where a webhook goes: the Durable Object that owns it, and what it stores there. */
export interface Append {
  kind: WebhookKind;
  organizationId: string;
  /** Chat-scoped deliveries go to the chat's DO, everything else to the license's. */
  chatId?: string;
  /** The body as received, without its `secret_key` ({@link storedBody}). */
  body: string;
}

/** What the pipeline needs from its host (the route). */
export interface ReceiveDeps {
  /** Accepted webhook secrets: current first, previous during a rotation (`loadWebhookSecrets`). */
  secrets: readonly string[];
  /** Store a delivery durably in the DO that owns it; resolves once it is stored. */
  append(delivery: Append): Promise<void>;
  /** The organization of a numeric license id, when an installed license named it (src/licenses/license-number.ts). */
  organizationOf?(licenseId: number): Promise<string | undefined>;
}

/** The 200's body: stored (docs/ARCHITECTURE.md "Webhook answers"). */
const STORED: WebhookResult = { status: 200, body: { ok: true, outcome: "accepted" } };

/**
 * Receive one webhook (`body` is `text` parsed): envelope (400) → secret, constant time (401) →
 * route (a body with only a numeric `license_id`: to the organization it maps to) → one durable
 * append of the body to the DO that owns it → 200. That is all before the
 * answer, because LiveChat waits for it (~10 s, then retries and gives up, docs/LIVECHAT.md §1.4):
 * the action's schema, the dedupe key and its claim, the handlers and the delivery's log line come
 * after the 200, in the DO's processing (src/deliveries/inbox.ts). An authentic webhook with an
 * unknown action or an invalid payload is answered 200 too, and recorded as unprocessable there.
 * Never throws on bad input; a storage failure rejects (→ 500, and LiveChat retries).
 *
 * @example
 * const result = await receiveWebhook("license", JSON.parse(text), text, { secrets, append });
 * return Response.json(result.body, { status: result.status });
 */
export async function receiveWebhook(kind: WebhookKind, body: unknown, text: string, deps: ReceiveDeps): Promise<WebhookResult> {
  const parsedEnvelope = parseEnvelope(body);
  if (!parsedEnvelope.ok) {
    // A body that is a valid envelope but for its secret is unauthenticated, not malformed (401).
    if (isRecord(body) && parseEnvelope({ ...body, secret_key: "-" }).ok) return unauthorized(kind, body);
    return reject(kind, "invalid_envelope", parsedEnvelope.error);
  }
  const envelope = parsedEnvelope.envelope;
  const record = body as Record<string, unknown>; // parseEnvelope accepts JSON objects only
  // docs/LIVECHAT.md §1.3: the body's secret_key is the only proof of origin; compared in constant time.
  if (!secretMatches(envelope.secretKey, deps.secrets)) return unauthorized(kind, record);
  // Scope: chat-scoped actions go to the chat's DO, the rest to the license's. chatIdOf reads raw
  // payloads, so an invalid payload of a chat-scoped action still goes to its chat when its id is
  // readable: a rerun after a schema fix runs in the chat's order, with the chat's state.
  const chatId = chatIdOf(envelope.action, envelope.payload);
  let organizationId = envelope.organizationId;
  let stored = storedBody(text, record);
  // A v3.3-style body names its license only by number (docs/LIVECHAT.md §1.2): routed to the
  // organization that number maps to, and stored with it. A current body reads nothing here.
  if (typeof record.organization_id !== "string" && envelope.licenseId !== undefined && deps.organizationOf) {
    const mapped = await deps.organizationOf(envelope.licenseId);
    if (mapped !== undefined) {
      organizationId = mapped;
      stored = withOrganizationId(stored, mapped);
    }
  }
  await deps.append({ kind, organizationId, ...(chatId !== undefined ? { chatId } : {}), body: stored });
  return STORED;
}

function unauthorized(kind: WebhookKind, body: Record<string, unknown>): WebhookResult {
  // Nothing about the expected secret, in the answer or in the log line (docs/ARCHITECTURE.md).
  const org = body.organization_id ?? body.license_id;
  return reject(kind, "unauthorized", "Missing or invalid webhook secret", {
    ...(typeof org === "string" || typeof org === "number" ? { organization_id: String(org).slice(0, 128) } : {}),
    ...(typeof body.action === "string" ? { action: body.action.slice(0, 128) } : {}),
  });
}

