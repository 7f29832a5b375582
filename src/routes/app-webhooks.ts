import { Hono } from "hono/tiny";
import * as z from "zod/mini";
import { withConfig } from "../http/config-middleware";
import { readJsonBody } from "../http/json-body";
import type { AppEnv } from "../http/types";
import { createLogger } from "../log";
import { licenseStub } from "../licenses/stub";
import { MAX_ID_LENGTH } from "../livechat/webhooks/schemas/common";

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
 * `POST /webhooks/app`: `application_uninstalled` for our client id revokes and deletes the
 * license's tokens once LiveChat confirms the grant is gone; `application_installed` and
 * `payment_*` are recorded. Events for other client ids are answered 200 and ignored. App
 * Webhooks carry no secret (docs/LIVECHAT.md §7), so an uninstall is a hint: one older than the
 * current installation, or one LiveChat refutes (the license's token still works) or cannot
 * confirm, is recorded but not acted on.
 */
export const appWebhooks = new Hono<AppEnv>().post("/webhooks/app", withConfig(), async (c) => {
  const log = createLogger({ route: "webhooks/app" });
  const body = await readJsonBody(c.req.raw);
  if (!body.ok) return c.json({ error: { type: body.type, message: body.message } }, body.status);
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

  const license = licenseStub(c.env, event.organizationID);
  let outcome = "recorded";
  if (event.event === "application_uninstalled") {
    const installation = await license.installation();
    const eventTime = event.date ? Date.parse(event.date) : NaN;
    if (installation.installed && installation.installedAt && eventTime < installation.installedAt) {
      outcome = "ignored_stale"; // an uninstall from before the current (re)installation
    } else {
      outcome = await license.uninstallIfRevoked();
    }
  }
  await license.recordAppEvent({
    event: event.event,
    date: event.date,
    receivedAt: Date.now(),
    outcome,
    licenseId: event.licenseID,
    userId: event.userID,
    payload: event.payload,
  });
  // An uninstall that was not acted on is worth an operator's look: a spoof, or LiveChat unreachable.
  const level = outcome === "ignored_grant_alive" || outcome === "unconfirmed" ? "warn" : "info";
  log[level]("app webhook", { organization_id: event.organizationID, event: event.event, outcome });
  return c.json({ ok: true, outcome });
});
