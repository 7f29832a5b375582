import { Hono } from "hono/tiny";
import * as z from "zod/mini";
import { withConfig } from "../http/config-middleware";
import { readJsonBody } from "../http/json-body";
import type { AppEnv } from "../http/types";
import { createLogger } from "../log";
import { licenseStub } from "../licenses/stub";
import { licenseKey } from "../licenses/token-store";
import { nestingDepth } from "../livechat/webhooks/envelope";
import { MAX_ID_LENGTH } from "../livechat/webhooks/schemas/common";

/**
 * Largest App Webhook body (bytes). Documented bodies are under 1 KiB (docs/LIVECHAT.md §7 / APPWH);
 * 64 KiB leaves room for larger payments payloads and keeps an unauthenticated sender's cost small.
 */
export const MAX_APP_WEBHOOK_BYTES = 64 * 1024;
/** Deepest nesting accepted: documented bodies are 2 levels deep. Bounded here, before anything crosses to a Durable Object. */
export const MAX_APP_WEBHOOK_DEPTH = 16;

const id = () => z.string().check(z.minLength(1), z.maxLength(MAX_ID_LENGTH));

/**
 * App Webhooks body (docs/LIVECHAT.md §7 / APPWH): `applicationID`, `clientID`, `date` (RFC 3339),
 * `event`, `licenseID` (number), `organizationID`, `payload`, `userID`. Unknown fields pass.
 * Lengths are bounded: the body is unauthenticated, and what it names is stored (the payload as a
 * bounded copy, src/licenses/app-events.ts).
 */
const appWebhookSchema = z.looseObject({
  clientID: z.string().check(z.maxLength(MAX_ID_LENGTH)),
  event: z.string().check(z.minLength(1), z.maxLength(64)),
  organizationID: id(),
  date: z.optional(z.string().check(z.maxLength(64))),
  licenseID: z.optional(z.number()),
  userID: z.optional(id()),
  applicationID: z.optional(id()),
  payload: z.optional(z.record(z.string(), z.unknown())),
});

/**
 * `POST /webhooks/app`. App Webhooks carry no secret (docs/LIVECHAT.md §7) and name public ids,
 * so nothing in one is believed: events for other client ids, and for organizations with no grant
 * in KV (read without waking any Durable Object), are answered 200 and create nothing. For an
 * installed license, `application_uninstalled` is a hint its License DO confirms with LiveChat (at
 * most once per few minutes, src/licenses/uninstall-check.ts); other events are recorded.
 */
export const appWebhooks = new Hono<AppEnv>().post("/webhooks/app", withConfig(), async (c) => {
  const log = createLogger({ route: "webhooks/app" });
  const body = await readJsonBody(c.req.raw, MAX_APP_WEBHOOK_BYTES);
  if (!body.ok) return c.json({ error: { type: body.type, message: body.message } }, body.status);
  if (nestingDepth(body.value, MAX_APP_WEBHOOK_DEPTH) > MAX_APP_WEBHOOK_DEPTH) {
    return c.json({ error: { type: "invalid_app_webhook", message: `Body nested deeper than ${MAX_APP_WEBHOOK_DEPTH} levels` } }, 400);
  }
  const parsed = appWebhookSchema.safeParse(body.value);
  if (!parsed.success) {
    const fields = parsed.error.issues.map((i) => i.path.join(".") || "body").join(", ");
    return c.json({ error: { type: "invalid_app_webhook", message: `Missing or malformed: ${fields}` } }, 400);
  }
  const event = parsed.data;
  if (event.clientID !== c.var.config.clientId) {
    log.info("app webhook for another client ignored", { event: event.event });
    return c.json({ ok: true, outcome: "ignored" });
  }
  if ((await c.env.TOKENS.get(licenseKey(event.organizationID))) === null) {
    log.info("app webhook for an organization not installed ignored", { event: event.event });
    return c.json({ ok: true, outcome: "ignored_not_installed" });
  }

  const outcome = await licenseStub(c.env, event.organizationID).receiveAppEvent({
    event: event.event,
    date: event.date,
    receivedAt: Date.now(),
    licenseId: event.licenseID,
    userId: event.userID,
    payload: event.payload,
  });
  // An uninstall that was not acted on is worth an operator's look: a spoof, or LiveChat unreachable.
  const level = outcome === "ignored_grant_alive" || outcome === "unconfirmed" ? "warn" : "info";
  log[level]("app webhook", { organization_id: event.organizationID, event: event.event, outcome });
  return c.json({ ok: true, outcome });
});
