import { Hono } from "hono/tiny";
import { chatStub } from "../chats/stub";
import { loadWebhookSecrets } from "../config";
import type { WebhookKind } from "../deliveries/types";
import { configErrorResponse } from "../http/config-middleware";
import { internalError } from "../http/internal-error";
import { MAX_BODY_BYTES, readJsonBody } from "../http/json-body";
import type { AppEnv } from "../http/types";
import { organizationOfLicense } from "../licenses/license-number";
import { licenseStub } from "../licenses/stub";
import { createLogger } from "../log";
import { logRejection, reject, type WebhookResult } from "../webhooks/answer";
import { type ReceiveDeps, receiveWebhook } from "../webhooks/receive";

/** Largest webhook body accepted (bytes). */
export const MAX_WEBHOOK_BODY_BYTES = MAX_BODY_BYTES;

const log = createLogger({ component: "webhooks" });

const PATHS: Record<string, WebhookKind> = { "/webhooks/license": "license", "/webhooks/bot": "bot" };

/**
 * `POST /webhooks/license` and `POST /webhooks/bot` (docs/ARCHITECTURE.md "Routes"), for the router.
 * The Worker entry serves them first through {@link webhookKindOf} and {@link serveWebhook}.
 */
export const webhooks = new Hono<AppEnv>();
for (const [path, kind] of Object.entries(PATHS)) webhooks.post(path, (c) => serveWebhook(kind, c.req.raw, c.env));

/**
 * Which webhook endpoint a request is for, or undefined: POST to exactly one of the two paths
 * (any query string ignored). Read from the URL string, without parsing it: this runs for every
 * request the Worker gets.
 */
export function webhookKindOf(request: Request): WebhookKind | undefined {
  if (request.method !== "POST") return undefined;
  const url = request.url;
  const start = url.indexOf("/", url.indexOf("://") + 3);
  if (start < 0) return undefined;
  const query = url.indexOf("?", start);
  return PATHS[query < 0 ? url.slice(start) : url.slice(start, query)];
}

/**
 * Serve one webhook request: HTTP transport only, cheapest check first: body size (413, from
 * Content-Length, then a capped read), content type (415), JSON (400); the rest is the receive
 * pipeline in `src/webhooks/`. A rejection is logged; a stored webhook is logged by its processing.
 * Never rejects: a Worker without webhook secrets answers 500 naming them (any other configuration
 * problem only holds processing back), an unexpected failure (e.g. storage) 500, and LiveChat
 * retries both (docs/LIVECHAT.md §1.4).
 */
export async function serveWebhook(kind: WebhookKind, request: Request, env: Env): Promise<Response> {
  const started = Date.now();
  try {
    const secrets = loadWebhookSecrets(env);
    if (!secrets.ok) return configErrorResponse(secrets.problems);
    const result = await handle(kind, request, {
      secrets: secrets.secrets,
      append: ({ kind, organizationId, chatId, body }) =>
        chatId !== undefined ? chatStub(env, organizationId, chatId).append(kind, body) : licenseStub(env, organizationId).append(kind, body),
      organizationOf: (licenseId) => organizationOfLicense(env.TOKENS, licenseId),
    });
    logRejection(log, result, Date.now() - started);
    return Response.json(result.body, { status: result.status });
  } catch (error) {
    return internalError(`/webhooks/${kind}`, error);
  }
}

async function handle(kind: WebhookKind, request: Request, deps: ReceiveDeps): Promise<WebhookResult> {
  const body = await readJsonBody(request, MAX_WEBHOOK_BODY_BYTES);
  if (!body.ok) return reject(kind, body.type, body.message);
  return receiveWebhook(kind, body.value, body.text, deps);
}
