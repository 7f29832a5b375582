import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { chatStub } from "../../src/chats/stub";
import { NamedAlarms } from "../../src/durable/alarms";

// A clock far in the future: the storage alarms these tests arm never fire on their own.
const T0 = 4_000_000_000_000;
let n = 0;
const freshChat = () => chatStub(env, `org-alarms-${++n}-${crypto.randomUUID()}`, "CHAT");

/** Run `fn` with a NamedAlarms over a fresh DO's storage and a controllable clock. */
function withAlarms<T>(fn: (alarms: NamedAlarms, clock: { now: number }, storage: DurableObjectStorage) => Promise<T>) {
  return runInDurableObject(freshChat(), async (_instance, state) => {
    const clock = { now: T0 };
    const alarms = new NamedAlarms(state.storage, { now: () => clock.now, retryDelayMs: (f) => f * 1_000 });
    return fn(alarms, clock, state.storage);
  });
}

describe("NamedAlarms", () => {
  it("arms the storage alarm for the earliest deadline and runs due ones in time order", async () => {
    await withAlarms(async (alarms, clock, storage) => {
      const ran: string[] = [];
      alarms.handle("a", (name) => void ran.push(name)).handle("b", (name) => void ran.push(name));
      await alarms.schedule("b", T0 + 2_000);
      await alarms.schedule("a", T0 + 1_000);
      expect(await storage.getAlarm()).toBe(T0 + 1_000);
      expect(alarms.list()).toEqual([
        { name: "a", at: T0 + 1_000 },
        { name: "b", at: T0 + 2_000 },
      ]);

      await alarms.run(); // nothing due yet (an early or spurious alarm)
      expect(ran).toEqual([]);
      expect(await storage.getAlarm()).toBe(T0 + 1_000);

      clock.now = T0 + 1_500;
      await alarms.run();
      expect(ran).toEqual(["a"]);
      expect(await storage.getAlarm()).toBe(T0 + 2_000);

      clock.now = T0 + 5_000;
      await alarms.run();
      await alarms.run(); // at-least-once: a repeated alarm runs nothing twice
      expect(ran).toEqual(["a", "b"]);
      expect(alarms.list()).toEqual([]);
      expect(await storage.getAlarm()).toBeNull();
    });
  });

  it("replace moves a deadline, earliest keeps the earlier one, cancel re-arms", async () => {
    await withAlarms(async (alarms, _clock, storage) => {
      await alarms.schedule("x", T0 + 5_000);
      await alarms.schedule("x", T0 + 9_000, "earliest");
      expect(alarms.deadline("x")).toBe(T0 + 5_000);
      await alarms.schedule("x", T0 + 3_000, "earliest");
      expect(alarms.deadline("x")).toBe(T0 + 3_000);
      await alarms.schedule("x", T0 + 8_000);
      expect(alarms.deadline("x")).toBe(T0 + 8_000);
      expect(await storage.getAlarm()).toBe(T0 + 8_000);

      await alarms.schedule("y", T0 + 4_000);
      expect(await storage.getAlarm()).toBe(T0 + 4_000);
      await alarms.cancel("y");
      expect(alarms.deadline("y")).toBeUndefined();
      expect(await storage.getAlarm()).toBe(T0 + 8_000);
      await alarms.cancel("x");
      expect(await storage.getAlarm()).toBeNull();
    });
  });

  it("routes names to the longest matching prefix and lists by prefix", async () => {
    await withAlarms(async (alarms, clock) => {
      const ran: string[] = [];
      alarms.handle("timer:", (name) => void ran.push(`timer ${name}`));
      alarms.handle("timer:reply", (name) => void ran.push(`reply ${name}`));
      await alarms.schedule("timer:reply:chat1", T0);
      await alarms.schedule("timer:other", T0);
      await alarms.schedule("unrelated", T0 + 10);
      expect(alarms.list("timer:").map((d) => d.name)).toEqual(["timer:other", "timer:reply:chat1"]);
      clock.now = T0;
      await alarms.run();
      expect(ran.sort()).toEqual(["reply timer:reply:chat1", "timer timer:other"]);
    });
  });

  it("retries a throwing handler with backoff while the other deadlines still run", async () => {
    await withAlarms(async (alarms, clock, storage) => {
      let failures = 2;
      const ran: string[] = [];
      alarms.handle("flaky", () => {
        if (failures-- > 0) throw new Error("boom");
        ran.push("flaky");
      });
      alarms.handle("steady", () => void ran.push("steady"));
      await alarms.schedule("flaky", T0);
      await alarms.schedule("steady", T0);

      await alarms.run();
      expect(ran).toEqual(["steady"]);
      expect(alarms.deadline("flaky")).toBe(T0 + 1_000); // first retry after 1 s
      expect(await storage.getAlarm()).toBe(T0 + 1_000);

      clock.now = T0 + 1_000;
      await alarms.run();
      expect(alarms.deadline("flaky")).toBe(T0 + 1_000 + 2_000); // second failure: 2 s

      clock.now = T0 + 3_000;
      await alarms.run();
      expect(ran).toEqual(["steady", "flaky"]);
      expect(alarms.list()).toEqual([]);
    });
  });

  it("an unknown deadline name does not block the others", async () => {
    await withAlarms(async (alarms, clock) => {
      const ran: string[] = [];
      alarms.handle("known", () => void ran.push("known"));
      await alarms.schedule("orphan", T0);
      await alarms.schedule("known", T0);
      await alarms.run();
      expect(ran).toEqual(["known"]);
      expect(alarms.deadline("orphan")).toBe(clock.now + 1_000);
    });
  });

  it("keeps a deadline that its handler rescheduled while running", async () => {
    await withAlarms(async (alarms, clock) => {
      let runs = 0;
      alarms.handle("tick", async () => {
        runs++;
        if (runs === 1) await alarms.schedule("tick", clock.now + 60_000);
      });
      await alarms.schedule("tick", T0);
      await alarms.run();
      expect(runs).toBe(1);
      expect(alarms.deadline("tick")).toBe(T0 + 60_000);
      clock.now = T0 + 60_000;
      await alarms.run();
      expect(runs).toBe(2);
      expect(alarms.deadline("tick")).toBeUndefined();
    });
  });

  it("keeps a deadline cancelled and scheduled again while its handler ran (a new version, not the old one reused)", async () => {
    await withAlarms(async (alarms, clock) => {
      let runs = 0;
      alarms.handle("tick", async () => {
        runs++;
        // e.g. the reply timer fires while an agent answers (cancel) and the customer writes again (start)
        if (runs === 1) {
          await alarms.cancel("tick");
          await alarms.schedule("tick", clock.now + 60_000);
        }
      });
      await alarms.schedule("tick", T0);
      await alarms.run();
      expect(runs).toBe(1);
      expect(alarms.deadline("tick")).toBe(T0 + 60_000);
    });
  });

  it("scheduled again for the same time while its handler runs: kept for the next pass, with no second write", async () => {
    await withAlarms(async (alarms, clock, storage) => {
      let runs = 0;
      let writesDuringRun = 0;
      alarms.handle("process", async () => {
        runs++;
        // e.g. a delivery accepted while the processing pass is ending: same deadline, same time
        if (runs === 1) {
          const exec = vi.spyOn(storage.sql, "exec");
          await alarms.schedule("process", T0, "earliest");
          writesDuringRun = exec.mock.calls.filter(([query]) => /INSERT|UPDATE/.test(String(query))).length;
          exec.mockRestore();
        }
      });
      await alarms.schedule("process", T0, "earliest");
      await alarms.run();
      expect(writesDuringRun).toBe(0); // the stored row already says T0: only the in-memory version moved
      expect(runs).toBe(1);
      // The pass did not delete the rescheduled deadline, in memory or in storage, and re-armed for it.
      expect(alarms.deadline("process")).toBe(T0);
      expect(new NamedAlarms(storage, { now: () => clock.now }).list()).toEqual([{ name: "process", at: T0 }]);
      expect(await storage.getAlarm()).toBe(T0);
      await alarms.run();
      expect(runs).toBe(2);
      expect(alarms.deadline("process")).toBeUndefined();
    });
  });

  it("concurrent runs share a pass: a due deadline runs once", async () => {
    await withAlarms(async (alarms) => {
      let runs = 0;
      alarms.handle("once", async () => {
        runs++;
        await scheduler.wait(5);
      });
      await alarms.schedule("once", T0);
      await Promise.all([alarms.run(), alarms.run(), alarms.run()]);
      expect(runs).toBe(1);
    });
  });

  it("survives a restart: deadlines live in storage, a new instance runs them", async () => {
    await withAlarms(async (alarms, clock, storage) => {
      await alarms.schedule("persisted", T0 + 10);
      // A crash mid-handler leaves the row: the next instance (after restart) runs it again.
      alarms.handle("persisted", () => {
        throw new Error("crashed");
      });
      const restarted = new NamedAlarms(storage, { now: () => clock.now });
      const ran: string[] = [];
      restarted.handle("persisted", (name, at) => void ran.push(`${name}@${at - T0}`));
      clock.now = T0 + 10;
      await restarted.run();
      expect(ran).toEqual(["persisted@10"]);
      expect(await storage.getAlarm()).toBeNull();
    });
  });

  it("a new instance re-arms a due deadline whose storage alarm the runtime gave up on", async () => {
    await withAlarms(async (alarms, clock, storage) => {
      await alarms.schedule("process", T0, "earliest");
      // alarm() failed through all its retries (e.g. the constructor threw): the runtime dropped it.
      await storage.deleteAlarm();
      clock.now = T0 + 60_000;
      const restarted = new NamedAlarms(storage, { now: () => clock.now });
      await restarted.schedule("process", clock.now, "earliest"); // the next accepted delivery
      expect(restarted.deadline("process")).toBe(T0);
      expect(await storage.getAlarm()).not.toBeNull();
    });
  });

  it("a live instance re-arms an overdue deadline whose storage alarm is gone, when no pass runs", async () => {
    await withAlarms(async (alarms, clock, storage) => {
      await alarms.schedule("process", T0, "earliest");
      await storage.deleteAlarm();
      clock.now = T0 + 60_000;
      await alarms.schedule("process", clock.now, "earliest");
      expect(await storage.getAlarm()).toBe(T0);
    });
  });

  it("a future, unchanged earliest deadline costs one getAlarm per instance and no setAlarm", async () => {
    await withAlarms(async (alarms, clock, storage) => {
      await alarms.schedule("later", T0 + 60_000);
      const restarted = new NamedAlarms(storage, { now: () => clock.now });
      const getAlarm = vi.spyOn(storage, "getAlarm");
      const setAlarm = vi.spyOn(storage, "setAlarm");
      for (let i = 0; i < 3; i++) await restarted.schedule("process", T0 + 120_000, "earliest");
      expect(getAlarm).toHaveBeenCalledTimes(1); // the new instance checks the alarm once
      expect(setAlarm).not.toHaveBeenCalled(); // it was armed for T0 + 60 s all along
      vi.restoreAllMocks();
      expect(await storage.getAlarm()).toBe(T0 + 60_000);
    });
  });

  it("does not run a deadline that an earlier handler of the same pass moved later", async () => {
    await withAlarms(async (alarms, clock) => {
      const ran: string[] = [];
      alarms.handle("a", async () => {
        ran.push("a");
        await alarms.schedule("b", T0 + 60_000); // e.g. an agent answered: the reply timer moves
      });
      alarms.handle("b", (_name, at) => void ran.push(`b@${at - T0}`));
      await alarms.schedule("a", T0);
      await alarms.schedule("b", T0 + 1);
      clock.now = T0 + 1;
      await alarms.run();
      expect(ran).toEqual(["a"]);
      expect(alarms.deadline("b")).toBe(T0 + 60_000);
      clock.now = T0 + 60_000;
      await alarms.run();
      expect(ran).toEqual(["a", "b@60000"]);
      expect(alarms.list()).toEqual([]);
    });
  });

  it("does not run a deadline that an earlier handler of the same pass cancelled", async () => {
    await withAlarms(async (alarms, clock, storage) => {
      const ran: string[] = [];
      alarms.handle("a", async () => {
        ran.push("a");
        await alarms.cancel("b");
      });
      alarms.handle("b", () => void ran.push("b"));
      await alarms.schedule("a", T0);
      await alarms.schedule("b", T0 + 1);
      clock.now = T0 + 1;
      await alarms.run();
      expect(ran).toEqual(["a"]);
      expect(alarms.list()).toEqual([]);
      expect(await storage.getAlarm()).toBeNull();
    });
  });

  it("backs off a throwing handler even when its deadline was scheduled again ('earliest') during the pass", async () => {
    await withAlarms(async (alarms, clock, storage) => {
      let runs = 0;
      alarms.handle("process", async (name) => {
        runs++;
        await alarms.schedule(name, T0, "earliest"); // e.g. a delivery accepted while the pass runs
        throw new Error("boom");
      });
      const failures = () =>
        storage.sql.exec<{ failures: number }>("SELECT failures FROM alarm_deadlines WHERE name = 'process'").one().failures;
      await alarms.schedule("process", T0, "earliest");
      await alarms.run();
      expect(runs).toBe(1);
      expect(alarms.deadline("process")).toBe(T0 + 1_000); // first retry after 1 s, not due now
      expect(failures()).toBe(1);
      expect(alarms.backingOff("process")).toBe(true);
      await alarms.run(); // an alarm before the retry time runs nothing
      expect(runs).toBe(1);

      clock.now = T0 + 1_000;
      await alarms.run();
      expect(runs).toBe(2);
      expect(alarms.deadline("process")).toBe(T0 + 1_000 + 2_000); // second failure: 2 s
      expect(failures()).toBe(2);
      expect(await storage.getAlarm()).toBe(T0 + 3_000);
      clock.now = T0 + 3_000;
      expect(alarms.backingOff("process")).toBe(false); // the retry is due
    });
  });

  it("is the Chat DO's alarm(): a due deadline runs once, a later one waits for its time", async () => {
    const stub = freshChat();
    const ran: string[] = [];
    await runInDurableObject(stub, async (instance) => {
      const { alarms } = instance as unknown as { alarms: NamedAlarms };
      alarms.handle("test:", (name) => void ran.push(name));
      await alarms.schedule("test:later", Date.now() + 3_600_000);
      await alarms.schedule("test:now", Date.now());
    });
    await runDurableObjectAlarm(stub); // fires it now unless the runtime already did
    await vi.waitUntil(() => ran.length > 0, { timeout: 5_000 });
    expect(ran).toEqual(["test:now"]);
    // The alarm is re-armed for the later deadline; firing it early runs nothing.
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(ran).toEqual(["test:now"]);
    const left = await runInDurableObject(stub, (instance) => (instance as unknown as { alarms: NamedAlarms }).alarms.list());
    expect(left.map((d) => d.name)).toEqual(["test:later"]);
  });
});
