import { Hono } from "hono";
import { chatStub } from "../chats/stub";
import type { WebhookKind } from "../deliveries/types";
import { withConfig } from "../http/config-middleware";
import type { AppEnv } from "../http/types";
import { licenseStub } from "../licenses/stub";
import { createLogger } from "../log";
import { logDelivery, reject, type WebhookResult } from "../webhooks/answer";
import { receiveWebhook } from "../webhooks/receive";

/** Largest webhook body accepted (bytes). LiveChat payloads are a few KiB; 1 MiB leaves room for big chats. */
export const MAX_WEBHOOK_BODY_BYTES = 1024 * 1024;

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
  const declared = request.headers.get("content-length");
  if (declared !== null && !(Number(declared) <= MAX_WEBHOOK_BODY_BYTES)) return tooLarge(kind);

  // PLATFORM.md §1.1: LiveChat sends Content-Type: application/json.
  if (!isJsonContentType(request.headers.get("content-type"))) {
    return reject(kind, "unsupported_media_type", "Content-Type must be application/json");
  }

  const bytes = await readCapped(request, MAX_WEBHOOK_BODY_BYTES);
  if (bytes === undefined) return tooLarge(kind);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return reject(kind, "invalid_json", "Body is not valid UTF-8");
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return reject(kind, "invalid_json", text.trim() === "" ? "Body is empty" : "Body is not valid JSON");
  }
  return receiveWebhook(kind, body, deps);
}

function tooLarge(kind: WebhookKind): WebhookResult {
  return reject(kind, "payload_too_large", `Body exceeds ${MAX_WEBHOOK_BODY_BYTES} bytes`);
}

/** `application/json`, optionally with `charset=utf-8` (any case, optionally quoted). */
export function isJsonContentType(value: string | null): boolean {
  if (!value) return false;
  const [type, ...params] = value.split(";").map((p) => p.trim().toLowerCase());
  if (type !== "application/json") return false;
  return params.every((p) => {
    if (p === "") return true;
    const [name, raw = ""] = p.split("=").map((s) => s.trim());
    return name !== "charset" || ["utf-8", "utf8"].includes(raw.replace(/^"(.*)"$/, "$1"));
  });
}

/**
 * The body's bytes, or undefined once more than `max` bytes arrived (the stream is cancelled, so
 * a body without Content-Length, e.g. chunked, cannot make the Worker buffer more than `max`).
 */
export async function readCapped(request: Request, max: number): Promise<Uint8Array | undefined> {
  if (!request.body) return new Uint8Array(0);
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => {});
      return undefined;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}
