import { Hono } from "hono/tiny";
import { chatStub } from "../chats/stub";
import type { WebhookKind } from "../deliveries/types";
import { withConfig } from "../http/config-middleware";
import { MAX_BODY_BYTES, readJsonBody } from "../http/json-body";
import type { AppEnv } from "../http/types";
import { licenseStub } from "../licenses/stub";
import { createLogger } from "../log";
import { logDelivery, reject, type WebhookResult } from "../webhooks/answer";
import { receiveWebhook } from "../webhooks/receive";

/** Largest webhook body accepted (bytes). */
export const MAX_WEBHOOK_BODY_BYTES = MAX_BODY_BYTES;

const log = createLogger({ component: "webhooks" });

/**
 * `POST /webhooks/license` and `POST /webhooks/bot` (ARCHITECTURE.md "Routes"): HTTP transport
 * only, cheapest check first: body size (413, from Content-Length, then a capped read), content
 * type (415), JSON (400); the rest is the receive pipeline in `src/webhooks/`.
 */
export const webhooks = new Hono<AppEnv>();

for (const kind of ["license", "bot"] as const) {
  webhooks.post(`/webhooks/${kind}`, withConfig(), async (c) => {
    const started = Date.now();
    const result = await handle(kind, c.req.raw, {
      secrets: c.var.config.webhookSecrets,
      // Chat-scoped deliveries go to the chat's DO, everything else to the license's.
      inboxFor: (d) => ({
        accept: (delivery) =>
          d.chatId !== undefined
            ? chatStub(c.env, d.organizationId, d.chatId).accept(delivery)
            : licenseStub(c.env, d.organizationId).accept(delivery),
      }),
    });
    logDelivery(log, result, Date.now() - started);
    return c.json(result.body, result.status);
  });
}

async function handle(kind: WebhookKind, request: Request, deps: Parameters<typeof receiveWebhook>[2]): Promise<WebhookResult> {
  const body = await readJsonBody(request, MAX_WEBHOOK_BODY_BYTES);
  if (!body.ok) return reject(kind, body.type, body.message);
  return receiveWebhook(kind, body.value, deps);
}
