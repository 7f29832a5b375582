import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { SqlChatStore } from "../../src/chats/chat-store";
import { chatStub } from "../../src/chats/stub";
import { MAX_TIMER_FAILURES, SqlChatTimers } from "../../src/chats/timers";
import { type TimerContext, TimerRegistry } from "../../src/framework/timers";
import { NamedAlarms } from "../../src/durable/alarms";
import type { LicenseRpc } from "../../src/framework";
import { createLogger } from "../../src/log";

// A clock far in the future: the storage alarms these tests arm never fire on their own.
const T0 = 4_100_000_000_000;
let n = 0;
const freshChat = () => {
  const org = `org-timers-${++n}-${crypto.randomUUID()}`;
  return { org, stub: chatStub(env, org, "CHAT") };
};

/** SqlChatTimers over a Chat DO's storage with its own clock; `boot()` builds a new instance (a restart). */
function harness(storage: DurableObjectStorage, registry: TimerRegistry, installed = true) {
  const clock = { now: T0 };
  const boot = () => {
    const alarms = new NamedAlarms(storage, { now: () => clock.now, retryDelayMs: () => 1_000 });
    const timers = new SqlChatTimers({
      alarms,
      storage,
      store: new SqlChatStore(storage),
      registry,
      license: () => ({ installation: async () => ({ installed }) }) as LicenseRpc,
      config: () => ({ apiUrl: "https://api.livechat.test", apiVersion: "3.6" }),
      log: createLogger({ test: "timers" }),
    });
    return { alarms, timers };
  };
  return { clock, boot };
}

describe("SqlChatTimers", () => {
  it("start/keep/replace/cancel, listed with their data; a new instance (restart) sees and fires them", async () => {
    const { stub, org } = freshChat();
    const fired: TimerContext[] = [];
    const registry = new TimerRegistry();
    registry.on("reply", (ctx) => void fired.push(ctx));
    registry.on("other", () => {});
    await runInDurableObject(stub, async (_i, state) => {
      const { clock, boot } = harness(state.storage, registry);
      let { alarms, timers } = boot();
      const ids = { organizationId: org, chatId: "CHAT" };
      expect(await timers.start("reply", T0 + 5_000, { ...ids, data: { stretch: "E1" } })).toBe(true);
      expect(await timers.start("reply", T0 + 9_000, { ...ids, data: { stretch: "E2" } }, "keep")).toBe(false);
      await timers.start("other:1", T0 + 1_000, ids);
      expect(timers.list()).toEqual([
        { name: "other:1", due: T0 + 1_000, ...ids, data: null },
        { name: "reply", due: T0 + 5_000, ...ids, data: { stretch: "E1" } },
      ]);
      await timers.start("reply", T0 + 7_000, { ...ids, data: { stretch: "E3" } });
      expect(timers.get("reply")).toEqual({ name: "reply", due: T0 + 7_000, ...ids, data: { stretch: "E3" } });
      expect(await timers.cancel("other:1")).toBe(true);
      expect(await timers.cancel("other:1")).toBe(false);

      ({ alarms, timers } = boot()); // the DO restarted: everything is in storage
      expect(timers.list().map((t) => t.name)).toEqual(["reply"]);
      clock.now = T0 + 7_000;
      await alarms.run();
      expect(fired.map((c) => [c.timer.name, c.timer.data, c.chatId, c.organizationId, c.chat.id])).toEqual([
        ["reply", { stretch: "E3" }, "CHAT", org, "CHAT"],
      ]);
      expect(timers.list()).toEqual([]);
      await alarms.run(); // a repeated alarm: nothing left to run
      expect(fired).toHaveLength(1);
      expect(state.storage.sql.exec("SELECT COUNT(*) AS c FROM chat_timers").one().c).toBe(0);
    });
  });

  it("a throwing handler keeps the timer and its data for the retry; a handler may re-arm its own timer", async () => {
    const { stub, org } = freshChat();
    const registry = new TimerRegistry();
    let calls = 0;
    registry.on("flaky", async (ctx) => {
      calls++;
      if (calls === 1) throw new Error("LiveChat down");
      if (calls === 2) await ctx.chat.timers.start("flaky", T0 + 60_000, { organizationId: org, chatId: "CHAT", data: { round: 2 } });
    });
    await runInDurableObject(stub, async (_i, state) => {
      const { clock, boot } = harness(state.storage, registry);
      const { alarms, timers } = boot();
      await timers.start("flaky", T0 + 1_000, { organizationId: org, chatId: "CHAT", data: { round: 1 } });
      clock.now = T0 + 1_000;
      await alarms.run();
      expect(timers.get("flaky")).toMatchObject({ due: T0 + 2_000, data: { round: 1 } });
      clock.now = T0 + 2_000;
      await alarms.run();
      expect(timers.get("flaky")).toMatchObject({ due: T0 + 60_000, data: { round: 2 } });
      clock.now = T0 + 60_000;
      await alarms.run();
      expect(calls).toBe(3);
      expect(timers.list()).toEqual([]);
    });
  });

  it("a handler that keeps failing is given up after MAX_TIMER_FAILURES attempts, logged; the timer and its data go", async () => {
    const { stub, org } = freshChat();
    const registry = new TimerRegistry();
    let calls = 0;
    registry.on("broken", () => {
      calls++;
      throw new Error("always");
    });
    await runInDurableObject(stub, async (_i, state) => {
      const { clock, boot } = harness(state.storage, registry);
      const { alarms, timers } = boot();
      await timers.start("broken", T0 + 1_000, { organizationId: org, chatId: "CHAT" });
      for (let i = 0; i < MAX_TIMER_FAILURES + 5; i++) {
        clock.now += 1_000;
        await alarms.run();
      }
      expect(calls).toBe(MAX_TIMER_FAILURES);
      expect(timers.list()).toEqual([]);
      expect(state.storage.sql.exec("SELECT COUNT(*) AS n FROM chat_timers").one().n).toBe(0);
    });
  });

  it("a timer of a license that is not installed (any more) is dropped without running its handler", async () => {
    const { stub, org } = freshChat();
    const registry = new TimerRegistry();
    let calls = 0;
    registry.on("followup", () => void calls++);
    await runInDurableObject(stub, async (_i, state) => {
      const { clock, boot } = harness(state.storage, registry, false);
      const { alarms, timers } = boot();
      await timers.start("followup", T0 + 1_000, { organizationId: org, chatId: "CHAT" });
      clock.now = T0 + 1_000;
      await alarms.run();
      expect(calls).toBe(0);
      expect(timers.list()).toEqual([]);
    });
  });

  it("cancelAll stops every timer but not the DO's other deadlines; a timer without a handler is dropped", async () => {
    const { stub, org } = freshChat();
    await runInDurableObject(stub, async (_i, state) => {
      const { clock, boot } = harness(state.storage, new TimerRegistry());
      const { alarms, timers } = boot();
      alarms.handle("deliveries-test", () => {});
      await alarms.schedule("deliveries-test", T0 + 10_000);
      await timers.start("a", T0 + 1_000, { organizationId: org, chatId: "CHAT" });
      await timers.start("b", T0 + 2_000, { organizationId: org, chatId: "CHAT" });
      expect(await timers.cancelAll()).toBe(2);
      expect(alarms.list().map((d) => d.name)).toEqual(["deliveries-test"]);
      await timers.start("nobody", T0 + 1_000, { organizationId: org, chatId: "CHAT" });
      clock.now = T0 + 1_000;
      await alarms.run();
      expect(timers.list()).toEqual([]);
    });
  });

  it("the registry refuses bad or duplicate kinds and finds handlers by the name's first part", () => {
    const registry = new TimerRegistry();
    const h = () => {};
    const off = registry.on("reply", h);
    expect(() => registry.on("reply", h)).toThrow(/exists/);
    expect(() => registry.on("a:b", h)).toThrow(/invalid/);
    expect(registry.handlerFor("reply")).toBe(h);
    expect(registry.handlerFor("reply:x")).toBe(h);
    expect(registry.handlerFor("replying")).toBeUndefined();
    off();
    expect(registry.handlerFor("reply")).toBeUndefined();
  });

  it("the Chat DO lists its pending timers over RPC (for the admin API)", async () => {
    const { stub, org } = freshChat();
    expect(await stub.pendingTimers()).toEqual([]);
    await runInDurableObject(stub, async (instance) => {
      const timers = (instance as unknown as { timers: SqlChatTimers }).timers;
      await timers.start("reply", T0 + 5_000, { organizationId: org, chatId: "CHAT", data: { stretch: "E9" } });
    });
    expect(await stub.pendingTimers()).toEqual([{ name: "reply", due: T0 + 5_000, organizationId: org, chatId: "CHAT", data: { stretch: "E9" } }]);
  });
});
