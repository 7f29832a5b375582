import { env, exports } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { vi } from "vitest";
import { backoff } from "../../src/deliveries";
import type { DeliveryHost } from "../../src/framework";
import { chatStub } from "../../src/chats/stub";
import { licenseStub } from "../../src/licenses/stub";
import type { StoredDelivery } from "../../src/deliveries";
import { fixture } from "../helpers/fixtures";
import { tokenResponse } from "../helpers/install";

/** The webhook secret the test Worker is configured with (vitest.config.mts). */
export const SECRET = "test-webhook-secret";
export const ORIGIN = "https://edge.example.test";

let counter = 0;
/** A unique organization id per test (storage is shared within a file, docs/TOOLCHAIN.md G6). */
export const uniqueOrg = (label = "org") => `${label}-${++counter}-${crypto.randomUUID()}`;

/** A documented sample body with the test secret and the given organization. */
export function sample(name: string, organizationId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...fixture<Record<string, unknown>>(name), secret_key: SECRET, organization_id: organizationId, ...overrides };
}

/** An `incoming_event` body for one chat with a distinct event id. */
export function incomingEvent(organizationId: string, chatId: string, eventId: string, text = eventId): Record<string, unknown> {
  return sample("webhook.v3.6.incoming_event", organizationId, {
    payload: {
      chat_id: chatId,
      thread_id: "THREAD1",
      event: { id: eventId, type: "message", text, author_id: "customer-1", created_at: "2026-11-21T08:00:00.000000Z", visibility: "all" },
    },
  });
}

/** POST a webhook through the Worker's fetch handler. */
export function post(kind: "license" | "bot", body: unknown, init: RequestInit = {}): Promise<Response> {
  return exports.default.fetch(`${ORIGIN}/webhooks/${kind}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(init.headers as Record<string, string> | undefined) },
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...Object.fromEntries(Object.entries(init).filter(([k]) => k !== "headers")),
  });
}

/** Install the app on `organizationId` directly through its License DO (no network). */
export async function install(organizationId: string): Promise<void> {
  await licenseStub(env, organizationId).install(tokenResponse(organizationId) as never);
}

/** Deliveries of a chat's DO (newest first). */
export async function chatDeliveries(organizationId: string, chatId: string): Promise<StoredDelivery[]> {
  return chatStub(env, organizationId, chatId).recentDeliveries({ limit: 500 });
}

/** Deliveries of a license's DO (newest first). */
export async function licenseDeliveries(organizationId: string): Promise<StoredDelivery[]> {
  return licenseStub(env, organizationId).recentDeliveries({ limit: 500 });
}

/** Wait until every listed delivery left `pending`. */
export async function settled(list: () => Promise<StoredDelivery[]>, count: number, timeout = 10_000): Promise<StoredDelivery[]> {
  let last: StoredDelivery[] = [];
  await vi.waitUntil(
    async () => {
      last = await list();
      return last.length >= count && last.every((d) => d.status !== "pending");
    },
    { timeout, interval: 20 },
  );
  return last;
}

/** Make a DO retry at once (no backoff) and give up after `maxAttempts`. */
export async function fastRetries(stub: DurableObjectStub, maxAttempts: number): Promise<void> {
  await runInDurableObject(stub, (instance) => {
    (instance as unknown as { deliveries: DeliveryHost }).deliveries.inbox.retry = backoff({ maxAttempts, baseMs: 0, jitter: 0 });
  });
}
