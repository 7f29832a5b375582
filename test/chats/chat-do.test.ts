import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { chatStub } from "../../src/chats/stub";
import type { StoredDelivery } from "../../src/deliveries";
import { router } from "../../src/handlers";
import { licenseStub } from "../../src/licenses/stub";
import { rawSample } from "../livechat/webhooks/samples";
import { chatDeliveries, fastRetries, incomingEvent, install, licenseDeliveries, post, SECRET, settled, uniqueOrg } from "../webhooks/helpers";

const offs: (() => void)[] = [];
afterEach(() => {
  offs.splice(0).forEach((off) => off());
  vi.restoreAllMocks();
});


describe("Chat DO", () => {
  it("100 concurrent deliveries for one chat (plus redeliveries) are processed exactly once each, in arrival order", async () => {
    const org = uniqueOrg("burst");
    await install(org);
    const processed: string[] = [];
    let inFlight = 0;
    let overlap = false;
    offs.push(
      router.on("incoming_event", async (p, ctx) => {
        if (ctx.organizationId !== org) return;
        if (inFlight++ > 0) overlap = true;
        await scheduler.wait(Math.random() * 2); // real I/O-like pauses between events
        processed.push(p.event.id);
        inFlight--;
      }),
    );
    const ids = Array.from({ length: 100 }, (_, i) => `E${String(i).padStart(3, "0")}`);
    const redeliveries = ids.filter((_, i) => i % 5 === 0);
    const responses = await Promise.all([...ids, ...redeliveries].map((id) => post("license", incomingEvent(org, "BURST", id))));
    const outcomes = await Promise.all(responses.map(async (r) => ((await r.json()) as { outcome: string }).outcome));
    expect(responses.every((r) => r.status === 200)).toBe(true);
    // Every one is stored; the redeliveries are found out after the 200, and never run.
    expect(outcomes.filter((o) => o === "accepted")).toHaveLength(100 + redeliveries.length);

    const all = await settled(() => chatDeliveries(org, "BURST"), 100 + redeliveries.length, 20_000);
    expect(all.filter((d) => d.status === "duplicate")).toHaveLength(redeliveries.length);
    const list = all.filter((d) => d.status !== "duplicate");
    expect(list).toHaveLength(100);
    expect(list.every((d) => d.status === "processed" && d.attempts === 1)).toBe(true);
    const arrival = [...list].sort((a, b) => a.seq - b.seq).map((d) => (d.payload as { event: { id: string } }).event.id);
    expect(processed).toEqual(arrival); // in the order the Chat DO accepted them
    expect([...processed].sort()).toEqual(ids); // each exactly once
    expect(overlap).toBe(false); // one at a time
  });

  it("gives handlers the chat: id and a store that persists between deliveries", async () => {
    const org = uniqueOrg("store");
    await install(org);
    offs.push(
      router.on("incoming_event", async (_p, ctx) => {
        if (ctx.organizationId !== org || !ctx.chat) return;
        expect(ctx.chat.id).toBe("KV");
        expect(ctx.chatId).toBe("KV");
        const count = ((await ctx.chat.store.get<number>("count")) ?? 0) + 1;
        await ctx.chat.store.put("count", count);
        await ctx.chat.store.put(`event:${count}`, { n: count });
      }),
    );
    for (const id of ["A", "B", "C"]) await post("license", incomingEvent(org, "KV", id));
    await settled(() => chatDeliveries(org, "KV"), 3);
    const stored = await runInDurableObject(chatStub(env, org, "KV"), async (instance) => {
      const store = (instance as unknown as { store: import("../../src/framework/context").ChatStore }).store;
      return { count: await store.get("count"), events: await store.list("event:"), gone: await store.delete("nope") };
    });
    expect(stored).toEqual({ count: 3, events: [["event:1", { n: 1 }], ["event:2", { n: 2 }], ["event:3", { n: 3 }]], gone: false });
  });

  it("lists by a prefix with characters outside the BMP (tags are free text: emoji)", async () => {
    const listed = await runInDurableObject(chatStub(env, uniqueOrg("kv-emoji"), "KV2"), async (instance) => {
      const store = (instance as unknown as { store: import("../../src/framework/context").ChatStore }).store;
      await store.put("tag:😀:T1", 1);
      await store.put("tag:😀x:T1", 2);
      await store.put("tag:a:T1", 3);
      return { emoji: await store.list("tag:😀:"), all: (await store.list("tag:")).length };
    });
    expect(listed).toEqual({ emoji: [["tag:😀:T1", 1]], all: 3 });
  });

  it("retries a failing handler, then dead-letters the delivery with the error; later events wait, then run; replay re-runs it", async () => {
    const org = uniqueOrg("dead");
    await install(org);
    const stub = chatStub(env, org, "DL");
    await fastRetries(stub, 3);
    let healthy = false;
    const attempts: string[] = [];
    offs.push(
      router.on(
        "incoming_event",
        (p, ctx) => {
          if (ctx.organizationId !== org) return;
          attempts.push(`${p.event.id}#${ctx.delivery.attempt}`);
          if (p.event.id === "BAD" && !healthy) throw new Error("LiveChat said no");
        },
        { name: "test:flaky" },
      ),
    );
    await post("license", incomingEvent(org, "DL", "BAD"));
    await post("license", incomingEvent(org, "DL", "GOOD"));
    const list = await settled(() => chatDeliveries(org, "DL"), 2);
    expect(attempts).toEqual(["BAD#1", "BAD#2", "BAD#3", "GOOD#1"]);
    const bad = list.find((d) => d.status === "dead") as StoredDelivery;
    expect(bad).toMatchObject({ attempts: 3, lastError: "HandlerError: handler test:flaky failed: Error: LiveChat said no" });

    const letters = await stub.deadLetters();
    expect(letters).toEqual([
      expect.objectContaining({ deliveryId: bad.id, action: "incoming_event", chatId: "DL", attempts: 3, error: bad.lastError }),
    ]);
    expect(await stub.inboxSummary()).toEqual({ pending: 0, deadLetters: 1 });

    healthy = true;
    expect(await stub.replayDelivery(bad.id)).toEqual({ ok: true, deliveryId: bad.id });
    await vi.waitUntil(async () => (await stub.delivery(bad.id))?.status === "processed", { timeout: 5_000, interval: 20 });
    expect(attempts.at(-1)).toBe("BAD#1");
    expect(await stub.deadLetters()).toEqual([]);
    expect(await stub.replayDelivery(bad.id)).toEqual({ ok: false, reason: "not_dead" });
    // Still a duplicate for LiveChat's redeliveries: stored, and never run.
    expect(await (await post("license", incomingEvent(org, "DL", "BAD"))).json()).toEqual({ ok: true, outcome: "accepted" });
    const again = await settled(() => chatDeliveries(org, "DL"), 3);
    expect(again[0]).toMatchObject({ status: "duplicate", note: `duplicate of ${bad.id}` });
    expect(attempts.at(-1)).toBe("BAD#1");
  });

  it("a handler that fails once succeeds on the retry (default backoff ≈ 1 s)", async () => {
    const org = uniqueOrg("once");
    await install(org);
    let calls = 0;
    offs.push(
      router.on("incoming_event", (_p, ctx) => {
        if (ctx.organizationId !== org) return;
        if (++calls === 1) throw new Error("transient");
      }),
    );
    await post("license", incomingEvent(org, "ONCE", "E1"));
    const [delivery] = await settled(() => chatDeliveries(org, "ONCE"), 1, 10_000);
    expect(delivery).toMatchObject({ status: "processed", attempts: 2 });
    expect(delivery.lastError).toBeUndefined();
    expect(calls).toBe(2);
  });

  it("lists deliveries by status", async () => {
    const org = uniqueOrg("list");
    const stub = chatStub(env, org, "L");
    await post("license", incomingEvent(org, "L", "E1"));
    await settled(() => chatDeliveries(org, "L"), 1);
    expect(await stub.recentDeliveries({ status: "not_installed" })).toHaveLength(1);
    expect(await stub.recentDeliveries({ status: "processed" })).toHaveLength(0);
  });
});

describe("License DO deliveries", () => {
  it("processes license-scoped actions with the same machinery; no chat in the context", async () => {
    const org = uniqueOrg("lic");
    await install(org);
    const seen: unknown[] = [];
    offs.push(
      router.on(["agent_created", "agent_deleted"], (p, ctx) => {
        if (ctx.organizationId === org) seen.push([ctx.action, p.id, ctx.chat, ctx.chatId]);
      }),
    );
    for (const name of ["webhook.v3.6.agent_created", "webhook.v3.6.agent_deleted"]) {
      await post("license", { ...rawSample(name), secret_key: SECRET, organization_id: org });
    }
    const list = await settled(() => licenseDeliveries(org), 2);
    expect(list.map((d) => d.status)).toEqual(["processed", "processed"]);
    expect(seen).toEqual([
      ["agent_created", "smith@example.com", undefined, undefined],
      ["agent_deleted", "smith@example.com", undefined, undefined],
    ]);
  });

  it("dead-letters and replays in the License DO too", async () => {
    const org = uniqueOrg("licdead");
    await install(org);
    const stub = licenseStub(env, org);
    await fastRetries(stub, 2);
    let fail = true;
    offs.push(
      router.on("tag_created", (_p, ctx) => {
        if (ctx.organizationId === org && fail) throw new Error("tag sync down");
      }),
    );
    await post("license", { ...rawSample("webhook.v3.6.tag_created"), secret_key: SECRET, organization_id: org });
    const [dead] = await settled(() => licenseDeliveries(org), 1);
    expect(dead).toMatchObject({ status: "dead", attempts: 2 });
    expect((await stub.deadLetters())[0].error).toContain("tag sync down");
    fail = false;
    expect((await stub.replayDelivery(dead.id)).ok).toBe(true);
    await vi.waitUntil(async () => (await stub.delivery(dead.id))?.status === "processed", { timeout: 5_000, interval: 20 });
  });
});
