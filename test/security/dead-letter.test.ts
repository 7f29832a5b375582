import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { chatStub } from "../../src/chats/stub";
import { router } from "../../src/handlers";
import { MAX_WEBHOOK_BODY_BYTES } from "../../src/routes/webhooks";
import { chatDeliveries, fastRetries, incomingEvent, install, post, settled, uniqueOrg } from "../webhooks/helpers";

const offs: (() => void)[] = [];
afterEach(() => {
  offs.splice(0).forEach((off) => off());
  vi.restoreAllMocks();
});

/**
 * Cloudflare's limit on a string, BLOB or row in a Durable Object's SQLite ("2 MB", Durable Objects
 * limits). Local workerd allows a little more (about 2.2 MB), so this test checks what is written
 * against the production limit instead of waiting for local SQLite to refuse it.
 */
const SQLITE_VALUE_LIMIT = 2_000_000;

/** An authentic `incoming_event` whose text fills the body cap with characters JSON escapes (`\`). */
function escapedToTheCap(org: string, chat: string, id: string): string {
  const probe = JSON.stringify(incomingEvent(org, chat, id, ""));
  const room = MAX_WEBHOOK_BODY_BYTES - new TextEncoder().encode(probe).byteLength;
  return JSON.stringify(incomingEvent(org, chat, id, "\\".repeat(Math.floor(room / 2))));
}

describe("threat: one oversized dead letter wedges a DO's queue", () => {
  it("a delivery at the body cap, full of escapes, whose handlers fail is dead-lettered and the chat's later events still run", async () => {
    const org = uniqueOrg("wedge");
    await install(org);
    const stub = chatStub(env, org, "WEDGE");
    await fastRetries(stub, 2);
    const ran: string[] = [];
    offs.push(
      router.on(
        "incoming_event",
        (p, ctx) => {
          if (ctx.organizationId !== org) return;
          ran.push(`${p.event.id}#${ctx.delivery.attempt}`);
          if (p.event.id === "HUGE") throw new Error("handler failed");
        },
        { name: "test:fails-on-huge" },
      ),
    );
    const body = escapedToTheCap(org, "WEDGE", "HUGE");
    expect(new TextEncoder().encode(body).byteLength).toBeGreaterThan(MAX_WEBHOOK_BODY_BYTES - 64);
    expect((await post("license", body)).status).toBe(200);
    expect((await post("license", incomingEvent(org, "WEDGE", "AFTER"))).status).toBe(200);

    const list = await settled(() => chatDeliveries(org, "WEDGE"), 2);
    expect(ran).toEqual(["HUGE#1", "HUGE#2", "AFTER#1"]);
    const huge = list.find((d) => (d.payload as { event: { id: string } }).event.id === "HUGE");
    expect(huge).toMatchObject({ status: "dead", attempts: 2 });
    expect((await stub.deadLetters()).map((l) => l.deliveryId)).toEqual([huge?.id]);
    expect(await stub.inboxSummary()).toEqual({ pending: 0, deadLetters: 1 });

    // Nothing written for it comes near the limit: the dead letter refers to the delivery, no copy.
    const largest = await runInDurableObject(stub, (_instance, state) =>
      state.storage.sql
        .exec<{ body: number; letter: number }>(
          "SELECT (SELECT MAX(length(CAST(body AS BLOB))) FROM deliveries) AS body, (SELECT MAX(length(CAST(delivery AS BLOB))) FROM delivery_dead_letters) AS letter",
        )
        .one(),
    );
    expect(largest.body).toBeGreaterThan(MAX_WEBHOOK_BODY_BYTES * 0.9);
    expect(largest.body).toBeLessThan(SQLITE_VALUE_LIMIT);
    expect(largest.letter).toBeLessThan(1024);
  });
});
