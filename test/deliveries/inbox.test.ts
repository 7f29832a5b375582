import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { chatStub } from "../../src/chats/stub";
import { NamedAlarms } from "../../src/durable/alarms";
import {
  AcceptPressure,
  backoff,
  DEAD_LETTER_TTL_MS,
  DELIVERY_RETENTION_MS,
  Inbox,
  type InboxOptions,
  MAX_HEAD_BLOCK_MS,
  MAX_PROCESSING_LAG_MS,
  MIN_HOLD_MS,
  PROCESS_DEADLINE,
  PRUNE_DEADLINE,
  STALLED_WAKE_UP_MS,
  PRUNE_INTERVAL_MS,
} from "../../src/deliveries";
import type { JsonObject, ProcessAttempt, ProcessOutcome } from "../../src/deliveries";
import { openTestInbox, T0, testRules } from "../helpers/test-inbox";

const WINDOW_MS = 60_000;
let n = 0;

/** The payload names its dedupe key (`key`) and, optionally, its window and the subject it changes. */
const rules = testRules(async (delivery) => {
  const p = delivery.payload as { key: string; window?: number; subject?: string };
  return { key: p.key, windowMs: p.window ?? WINDOW_MS, ...(p.subject ? { subject: p.subject } : {}) };
});

interface Rig {
  inbox: Inbox;
  alarms: NamedAlarms;
  clock: { now: number };
  storage: DurableObjectStorage;
  /** Store a webhook whose dedupe key is `key` (as the ack does), at the clock's time; its delivery id. */
  add(key: string, payload?: JsonObject): Promise<string>;
}

function body(key: string, payload: JsonObject = {}): string {
  return JSON.stringify({ webhook_id: "wh-1", action: "incoming_event", organization_id: "org-1", payload: { key, ...payload } });
}

function withInbox<T>(fn: (rig: Rig) => Promise<T>, options: Partial<InboxOptions> = {}) {
  return runInDurableObject(chatStub(env, `org-inbox-${++n}`, crypto.randomUUID()), async (_i, state) => {
    const rig = openTestInbox(state.storage, { rules, retry: backoff({ maxAttempts: 3, baseMs: 1_000, jitter: 0 }), ...options });
    const { inbox } = rig;
    const add = async (key: string, payload?: JsonObject) => {
      await inbox.append("license", body(key, payload));
      return inbox.recent({ limit: 1 })[0].id;
    };
    return fn({ ...rig, add });
  });
}

/** A processor that records what it ran and fails as told. */
function recorder(failFor: (a: ProcessAttempt) => unknown = () => undefined) {
  const seen: string[] = [];
  const processor = async (a: ProcessAttempt): Promise<ProcessOutcome> => {
    seen.push(`${a.delivery.dedupeKey}#${a.attempt}`);
    const failure = failFor(a);
    if (failure) throw failure;
    return { status: "processed" };
  };
  return { seen, processor };
}

const count = (storage: DurableObjectStorage, table: string) =>
  storage.sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).one().n;

describe("Inbox.append (the ack)", () => {
  it("arms again a processing wake-up whose alarm stopped (the runtime gave up on it), a redelivery included", async () => {
    await withInbox(async ({ clock, storage, add }) => {
      await add("stuck");
      expect(await storage.getAlarm()).toBe(T0);
      await storage.deleteAlarm(); // the runtime gave up on it after its retries
      clock.now = T0 + STALLED_WAKE_UP_MS - 1;
      await add("stuck"); // recently overdue: a pass may just be starting; nothing is written
      expect(await storage.getAlarm()).toBeNull();
      clock.now = T0 + STALLED_WAKE_UP_MS + 1;
      await add("stuck"); // LiveChat's redelivery
      expect(await storage.getAlarm()).toBe(T0);
    });
  });

  it("stores the body as one row, nothing else, and arms the alarm for processing (in memory)", async () => {
    await withInbox(async ({ inbox, alarms, storage, add }) => {
      const id = await add("k1");
      expect(inbox.get(id)).toMatchObject({ status: "pending", attempts: 0, action: "incoming_event", chatId: "CHAT1", receivedAt: T0 });
      expect(inbox.get(id)?.dedupeKey).toBeUndefined(); // found out after the 200
      expect(count(storage, "deliveries")).toBe(1);
      expect(count(storage, "delivery_dedupe")).toBe(0);
      expect(count(storage, "alarm_deadlines")).toBe(0);
      expect(alarms.deadline(PROCESS_DEADLINE)).toBe(T0);
      expect(await storage.getAlarm()).toBe(T0);
    });
  });

  it("a failed insert stores nothing", async () => {
    await withInbox(async ({ inbox, storage }) => {
      expect(() => inbox.append("license", null as unknown as string)).toThrow(/NOT NULL/);
      expect(count(storage, "deliveries")).toBe(0);
    });
  });

  it("a restarted DO finds the deliveries its lost in-memory wake-up was for, when its alarm fires", async () => {
    await withInbox(async ({ clock, storage, add }) => {
      await add("lost");
      // The instance is gone; the storage alarm (durable) fires in a new one.
      const alarms = new NamedAlarms(storage, { now: () => clock.now });
      const restarted = new Inbox(storage, alarms, { rules, now: () => clock.now, pressure: new AcceptPressure() });
      const { seen, processor } = recorder();
      alarms.handle(PROCESS_DEADLINE, () => restarted.process(processor));
      expect(alarms.deadline(PROCESS_DEADLINE)).toBeUndefined();
      await restarted.recover();
      await alarms.run();
      expect(seen).toEqual(["lost#1"]);
    });
  });
});

describe("Inbox dedupe (after the 200)", () => {
  it("a redelivery is stored twice and processed once; the other is recorded as its duplicate", async () => {
    await withInbox(async ({ inbox, add, clock }) => {
      const first = await add("k1");
      clock.now += 20_000;
      const again = await add("k1");
      const { seen, processor } = recorder();
      await inbox.process(processor);
      expect(seen).toEqual(["k1#1"]);
      expect(inbox.get(first)).toMatchObject({ status: "processed", dedupeKey: "k1" });
      expect(inbox.get(again)).toMatchObject({ status: "duplicate", dedupeKey: "k1", note: `duplicate of ${first}` });
    });
  });

  it("a duplicate arriving after its original was processed is recorded, not run", async () => {
    await withInbox(async ({ inbox, add, clock }) => {
      const first = await add("k1");
      const { seen, processor } = recorder();
      await inbox.process(processor);
      clock.now += 30_000;
      const late = await add("k1");
      await inbox.process(processor);
      expect(seen).toEqual(["k1#1"]);
      expect(inbox.get(late)).toMatchObject({ status: "duplicate", note: `duplicate of ${first}` });
    });
  });

  it("a duplicate arriving while the original is retrying waits behind it and is never run", async () => {
    await withInbox(async ({ inbox, add, clock }) => {
      const first = await add("k1");
      let healthy = false;
      const { seen, processor } = recorder(() => !healthy && new Error("down"));
      await inbox.process(processor);
      expect(inbox.get(first)).toMatchObject({ status: "pending", attempts: 1 });
      clock.now += 500;
      const dup = await add("k1");
      healthy = true;
      clock.now = T0 + 1_000;
      await inbox.process(processor);
      expect(seen).toEqual(["k1#1", "k1#2"]);
      expect(inbox.get(first)?.status).toBe("processed");
      expect(inbox.get(dup)).toMatchObject({ status: "duplicate", note: `duplicate of ${first}` });
    });
  });

  it("compares arrival times: a webhook received within the window is a duplicate however late processing runs", async () => {
    await withInbox(async ({ inbox, add, clock }) => {
      const first = await add("content");
      clock.now = T0 + WINDOW_MS - 1;
      const redelivery = await add("content");
      clock.now = T0 + WINDOW_MS;
      const repeat = await add("content");
      clock.now = T0 + 3 * 60 * 60_000; // processing three hours late (e.g. a configuration problem)
      const { seen, processor } = recorder();
      await inbox.process(processor);
      expect(seen).toEqual(["content#1", "content#1"]);
      expect(inbox.get(first)?.status).toBe("processed");
      expect(inbox.get(redelivery)).toMatchObject({ status: "duplicate", note: `duplicate of ${first}` });
      expect(inbox.get(repeat)?.status).toBe("processed");
    });
  });

  it("a state-like change repeated after another state of its subject is run again; the same state twice is a redelivery", async () => {
    await withInbox(async ({ inbox, add, clock }) => {
      const ids: string[] = [];
      for (const key of ["accepting", "not_accepting", "accepting", "accepting"]) {
        ids.push(await add(key, { subject: "agent-1" }));
        clock.now += 1_000;
      }
      const { seen, processor } = recorder();
      await inbox.process(processor);
      expect(seen).toEqual(["accepting#1", "not_accepting#1", "accepting#1"]);
      expect(inbox.get(ids[3])).toMatchObject({ status: "duplicate", note: `duplicate of ${ids[2]}` });
    });
  });

  it("a replayed dead letter keeps its claim: its redeliveries stay duplicates", async () => {
    await withInbox(async ({ inbox, add, clock }) => {
      const id = await add("dl");
      let healthy = false;
      const { seen, processor } = recorder(() => !healthy && new Error("down"));
      for (let i = 0; i < 3; i++) {
        await inbox.process(processor);
        clock.now += 10_000;
      }
      expect(inbox.get(id)?.status).toBe("dead");
      healthy = true;
      expect(await inbox.replay(id)).toEqual({ ok: true, deliveryId: id });
      expect(await inbox.replay(id)).toEqual({ ok: false, reason: "not_dead" });
      await inbox.process(processor);
      expect(seen.at(-1)).toBe("dl#1");
      expect(inbox.get(id)).toMatchObject({ status: "processed" });
      expect(await inbox.replay("no-such-id")).toEqual({ ok: false, reason: "not_found" });
      clock.now = T0 + 40_000;
      const redelivery = await add("dl");
      await inbox.process(processor);
      expect(inbox.get(redelivery)?.status).toBe("duplicate");
    });
  });
});

describe("Inbox.process", () => {
  it("processes pending deliveries in arrival order, once", async () => {
    await withInbox(async ({ inbox, add }) => {
      for (const k of ["a", "b", "c"]) await add(k);
      const { seen, processor } = recorder();
      await inbox.process(processor);
      await inbox.process(processor);
      expect(seen).toEqual(["a#1", "b#1", "c#1"]);
      expect(inbox.recent().map((d) => [d.dedupeKey, d.status])).toEqual([
        ["c", "processed"],
        ["b", "processed"],
        ["a", "processed"],
      ]);
    });
  });

  it("records the processor's terminal status and note; an unprocessable one with its validation error", async () => {
    await withInbox(async ({ inbox, add }) => {
      const skipped = await add("s");
      const bad = await add("bad");
      await inbox.process(async (a) =>
        a.delivery.dedupeKey === "bad"
          ? { status: "unprocessable", note: "invalid_payload", error: "event.id: required" }
          : { status: "skipped", note: "bot not accepting chats" },
      );
      expect(inbox.get(skipped)).toMatchObject({ status: "skipped", note: "bot not accepting chats", attempts: 1 });
      expect(inbox.get(bad)).toMatchObject({
        status: "unprocessable",
        lastError: "event.id: required",
        note: "invalid_payload",
        unprocessable: { reason: "invalid_payload", error: "event.id: required" },
      });
    });
  });

  it("retries a failure with backoff, holding later deliveries back, then dead-letters it with the error", async () => {
    await withInbox(async ({ inbox, alarms, clock, add }) => {
      const deliveryId = await add("fails");
      await add("next");
      const { seen, processor } = recorder((a) => a.delivery.dedupeKey === "fails" && new Error(`nope ${a.attempt}`));

      await inbox.process(processor);
      expect(seen).toEqual(["fails#1"]); // "next" waits: order per chat is kept
      expect(inbox.get(deliveryId)).toMatchObject({ status: "pending", attempts: 1, lastError: "Error: nope 1", nextAttemptAt: T0 + 1_000 });
      expect(alarms.deadline(PROCESS_DEADLINE)).toBe(T0 + 1_000);

      clock.now = T0 + 999;
      await inbox.process(processor);
      expect(seen).toEqual(["fails#1"]); // not due yet

      clock.now = T0 + 1_000;
      await inbox.process(processor);
      expect(seen).toEqual(["fails#1", "fails#2"]);
      expect(alarms.deadline(PROCESS_DEADLINE)).toBe(T0 + 1_000 + 2_000);

      clock.now = T0 + 3_000;
      await inbox.process(processor);
      expect(seen).toEqual(["fails#1", "fails#2", "fails#3", "next#1"]);
      expect(inbox.get(deliveryId)).toMatchObject({ status: "dead", attempts: 3, lastError: "Error: nope 3" });
      expect(inbox.deadLetters()).toEqual([
        expect.objectContaining({ deliveryId, action: "incoming_event", chatId: "CHAT1", dedupeKey: "fails", error: "Error: nope 3", attempts: 3 }),
      ]);
      expect(inbox.summary()).toEqual({ pending: 0, deadLetters: 1 });
      expect(alarms.deadline(PRUNE_DEADLINE)).toBeDefined();
    });
  });

  it("waits as long as a failure asks (LiveChat's Retry-After on a 429), also when a handler error wraps it", async () => {
    await withInbox(async ({ inbox, alarms, clock, add }) => {
      const deliveryId = await add("limited");
      const rateLimited = Object.assign(new Error("LiveChat agent/get_chat failed (too_many_requests): HTTP 429"), { retryAfterMs: 50_000 });
      const { seen, processor } = recorder((a) =>
        a.attempt === 1 ? rateLimited : a.attempt === 2 ? Object.assign(new Error("handler bot:x failed"), { cause: rateLimited }) : undefined,
      );
      await inbox.process(processor);
      expect(inbox.get(deliveryId)).toMatchObject({ status: "pending", attempts: 1, nextAttemptAt: T0 + 50_000 });
      expect(alarms.deadline(PROCESS_DEADLINE)).toBe(T0 + 50_000);
      clock.now = T0 + 3_000; // the policy's own retry time: not yet
      await inbox.process(processor);
      expect(seen).toEqual(["limited#1"]);
      clock.now = T0 + 50_000;
      await inbox.process(processor);
      expect(inbox.get(deliveryId)).toMatchObject({ status: "pending", attempts: 2, nextAttemptAt: T0 + 100_000 });
      clock.now = T0 + 100_000;
      await inbox.process(processor);
      expect(seen).toEqual(["limited#1", "limited#2", "limited#3"]);
      expect(inbox.get(deliveryId)?.status).toBe("processed");
    });
  });

  it(`parks a head whose retry would hold its queue past ${MAX_HEAD_BLOCK_MS / 60_000} minutes: the rest goes on, it is retried out of order`, async () => {
    await withInbox(async ({ inbox, alarms, clock, add }) => {
      const slow = await add("slow");
      const next = await add("next");
      // An hour's Retry-After, twice: the chat's queue must not wait for it.
      const limited = Object.assign(new Error("HTTP 429"), { retryAfterMs: 60 * 60_000 });
      const { seen, processor } = recorder((a) => a.delivery.dedupeKey === "slow" && a.attempt < 3 && limited);
      await inbox.process(processor);
      expect(seen).toEqual(["slow#1", "next#1"]);
      expect(inbox.get(slow)).toMatchObject({ status: "parked", attempts: 1, nextAttemptAt: T0 + 60 * 60_000 });
      expect(inbox.get(slow)?.note).toMatch(/^parked: retried out of order/);
      expect(inbox.get(next)?.status).toBe("processed");
      expect(inbox.summary()).toEqual({ pending: 1, parked: 1, deadLetters: 0, oldestPendingAt: T0 });
      expect(alarms.deadline(PROCESS_DEADLINE)).toBe(T0 + 60 * 60_000);

      clock.now = T0 + 10 * 60_000;
      const later = await add("later");
      await inbox.process(processor);
      expect(seen).toEqual(["slow#1", "next#1", "later#1"]); // not due: the parked one waits on its own

      clock.now = T0 + 60 * 60_000;
      await inbox.process(processor);
      expect(inbox.get(slow)).toMatchObject({ status: "parked", attempts: 2 });
      clock.now = T0 + 2 * 60 * 60_000;
      await inbox.process(processor);
      expect(seen).toEqual(["slow#1", "next#1", "later#1", "slow#2", "slow#3"]);
      expect(inbox.get(slow)).toMatchObject({ status: "processed", note: "processed out of order (parked)" });
      expect(inbox.get(later)?.status).toBe("processed");
    });
  });

  it("the default backoff never parks: a head holds its queue through every attempt", async () => {
    await withInbox(
      async ({ inbox, clock, add }) => {
        const head = await add("head");
        await add("behind");
        const { seen, processor } = recorder((a) => a.delivery.dedupeKey === "head" && new Error("down"));
        for (let i = 0; i < 6; i++) {
          await inbox.process(processor);
          clock.now += 20_000;
        }
        expect(seen).toEqual(["head#1", "head#2", "head#3", "head#4", "head#5", "behind#1"]);
        expect(inbox.get(head)?.status).toBe("dead");
      },
      { retry: backoff({ maxAttempts: 5, jitter: 0 }) },
    );
  });

  it("succeeds on a retry and skips the handlers a failed attempt already completed", async () => {
    await withInbox(async ({ inbox, clock, add }) => {
      const deliveryId = await add("partial");
      const runs: string[] = [];
      const processor = async (a: ProcessAttempt): Promise<ProcessOutcome> => {
        for (const name of ["first", "second"]) {
          if (a.delivery.handled.includes(name)) continue;
          if (name === "second" && a.attempt === 1) throw new Error("second failed");
          runs.push(`${name}#${a.attempt}`);
          a.markHandled(name);
        }
        return { status: "processed" };
      };
      await inbox.process(processor);
      expect(inbox.get(deliveryId)?.handled).toEqual(["first"]);
      clock.now += 60_000;
      await inbox.process(processor);
      expect(runs).toEqual(["first#1", "second#2"]);
      expect(inbox.get(deliveryId)).toMatchObject({ status: "processed", handled: ["first", "second"], attempts: 2 });
      expect(inbox.get(deliveryId)?.lastError).toBeUndefined();
    });
  });

  it("counts an attempt interrupted by a restart, and dead-letters when none are left", async () => {
    await withInbox(async ({ inbox, clock, storage, alarms, add }) => {
      const deliveryId = await add("crash");
      // Attempt 1 never finishes (the DO is evicted mid-handler).
      void inbox.process(() => new Promise<ProcessOutcome>(() => {}));
      await scheduler.wait(1);
      expect(inbox.get(deliveryId)).toMatchObject({ status: "pending", attempts: 1 });

      // After the restart, a new inbox over the same storage sees the attempt as spent.
      const restarted = new Inbox(storage, alarms, { rules, now: () => clock.now, retry: backoff({ maxAttempts: 2, baseMs: 1_000, jitter: 0 }) });
      const { seen, processor } = recorder(() => new Error("still failing"));
      clock.now = T0 + 1_000;
      await restarted.process(processor);
      expect(seen).toEqual(["crash#2"]);
      expect(restarted.get(deliveryId)).toMatchObject({ status: "dead", attempts: 2 });

      // Same situation with no attempt left: dead-lettered as interrupted without running.
      await restarted.append("license", body("crash-2"));
      const other = restarted.recent({ limit: 1 })[0].id;
      void restarted.process(() => new Promise<ProcessOutcome>(() => {}));
      await scheduler.wait(1);
      const last = new Inbox(storage, alarms, { rules, now: () => clock.now, retry: backoff({ maxAttempts: 1, jitter: 0 }) });
      clock.now += 10_000;
      await last.process(processor);
      expect(seen).toEqual(["crash#2"]);
      expect(last.get(other)).toMatchObject({ status: "dead", lastError: "processing interrupted" });
    });
  });

  it("yields after a batch and re-arms itself immediately", async () => {
    await withInbox(
      async ({ inbox, alarms, clock, add }) => {
        for (const k of ["1", "2", "3", "4", "5"]) await add(k);
        clock.now = T0 + 5;
        const { seen, processor } = recorder();
        await inbox.process(processor);
        expect(seen).toEqual(["1#1", "2#1"]);
        expect(alarms.deadline(PROCESS_DEADLINE)).toBe(T0 + 5);
        await inbox.process(processor);
        await inbox.process(processor);
        expect(seen).toHaveLength(5);
      },
      { batch: 2 },
    );
  });
});

describe("Inbox under a burst (acks first)", () => {
  /** A pressure gauge that other DOs of the isolate already made busy at T0. */
  function busyAt(t: number): AcceptPressure {
    const pressure = new AcceptPressure({ busyAcceptsPerSecond: 3 });
    for (let i = 0; i < 3; i++) pressure.noteAccept(t);
    return pressure;
  }

  it("schedules processing later while the isolate is busy, holds a due pass, and processes within the lag bound", async () => {
    await withInbox(
      async ({ inbox, alarms, clock, add }) => {
        for (const key of ["b1", "b2", "b3"]) await add(key);
        expect(alarms.deadline(PROCESS_DEADLINE)).toBe(T0 + MIN_HOLD_MS); // busy: later, not now

        // Due, but the burst goes on: the pass holds back without running anything.
        const { seen, processor } = recorder();
        clock.now = T0 + MIN_HOLD_MS;
        for (const key of ["b4", "b5", "b6"]) await add(key);
        await inbox.process(processor);
        expect(seen).toEqual([]);
        expect(alarms.deadline(PROCESS_DEADLINE)).toBe(clock.now + MIN_HOLD_MS);

        // Never past the lag bound of the oldest pending delivery, however long the burst.
        clock.now = T0 + MAX_PROCESSING_LAG_MS - 500;
        for (const key of ["b7", "b8", "b9"]) await add(key);
        await inbox.process(processor);
        expect(seen).toEqual([]);
        expect(alarms.deadline(PROCESS_DEADLINE)).toBe(T0 + MAX_PROCESSING_LAG_MS);
        clock.now = T0 + MAX_PROCESSING_LAG_MS;
        for (const key of ["c1", "c2", "c3"]) await add(key);
        await inbox.process(processor);
        // All of them, in arrival order, in the one pass that ran.
        expect(seen).toEqual(["b1", "b2", "b3", "b4", "b5", "b6", "b7", "b8", "b9", "c1", "c2", "c3"].map((k) => `${k}#1`));
      },
      { pressure: busyAt(T0) },
    );
  });

  it("a long burst never schedules a new delivery's processing past the lag bound", async () => {
    // Busy for the last 60 s: the hold (as long as the burst so far) is 60 s by now.
    const pressure = new AcceptPressure({ busyAcceptsPerSecond: 3 });
    for (let t = T0 - 60_000; t < T0; t += 1_000) {
      for (let i = 0; i < 3; i++) pressure.noteAccept(t);
      expect(pressure.holdMs(t)).toBeGreaterThan(0);
    }
    await withInbox(
      async ({ alarms, storage, add }) => {
        await add("first-of-its-chat");
        expect(alarms.deadline(PROCESS_DEADLINE)).toBe(T0 + MAX_PROCESSING_LAG_MS);
        expect(await storage.getAlarm()).toBe(T0 + MAX_PROCESSING_LAG_MS);
      },
      { pressure },
    );
  });

  it("processes at once again when the burst is over", async () => {
    await withInbox(
      async ({ inbox, alarms, clock, add }) => {
        await add("b1");
        expect(alarms.deadline(PROCESS_DEADLINE)).toBe(T0 + MIN_HOLD_MS);
        clock.now = T0 + MIN_HOLD_MS; // no accepts for two seconds
        const { seen, processor } = recorder();
        await inbox.process(processor);
        expect(seen).toEqual(["b1#1"]);
        await alarms.cancel(PROCESS_DEADLINE); // as the alarm pass does once its handler returned
        await add("after");
        expect(alarms.deadline(PROCESS_DEADLINE)).toBe(clock.now);
      },
      { pressure: busyAt(T0) },
    );
  });
});

describe("Inbox with a failing processing pass", () => {
  it("an appended delivery waits for the retry of a pass that threw instead of running it again at once", async () => {
    await withInbox(async ({ inbox, alarms, clock, storage, add }) => {
      let passes = 0;
      // A pass that throws as a whole (e.g. the configuration is invalid), not a processor failure.
      alarms.handle(PROCESS_DEADLINE, () => {
        passes++;
        throw new Error("pass failed");
      });
      await add("k1");
      await alarms.run();
      expect(passes).toBe(1);
      const retryAt = alarms.deadline(PROCESS_DEADLINE)!;
      expect(retryAt).toBeGreaterThan(clock.now);
      // The failed in-memory wake-up is stored now: its backoff survives a restart.
      expect(count(storage, "alarm_deadlines")).toBe(1);

      // Steady traffic before the retry: each delivery is stored and acked, and none pulls the pass back.
      for (const key of ["k2", "k3"]) {
        clock.now += 100;
        await add(key);
        expect(alarms.deadline(PROCESS_DEADLINE)).toBe(retryAt);
        await alarms.run();
      }
      expect(passes).toBe(1);
      expect(await storage.getAlarm()).toBe(retryAt);

      clock.now = retryAt;
      await alarms.run();
      expect(passes).toBe(2);
      expect(inbox.summary().pending).toBe(3);
    });
  });
});

describe("Inbox.replay", () => {
  it("keeps a dead letter's delivery past the recent list, and restores a letter an older version stored as a copy", async () => {
    await withInbox(
      async ({ inbox, clock, storage, add }) => {
        const deliveryId = await add("old-dead");
        await inbox.process(async () => {
          throw new Error("fatal");
        });
        for (const k of ["x", "y", "z"]) await add(k);
        clock.now += 1;
        await inbox.process(async () => ({ status: "processed" }));
        // Only the newest 2 finished rows are kept, and the row a dead letter refers to.
        expect(inbox.recent().map((d) => d.dedupeKey)).toEqual(["z", "y", "old-dead"]);
        expect(inbox.deadLetters().map((d) => d.deliveryId)).toEqual([deliveryId]);

        // An older version's letter: a JSON copy of a row that has been pruned since.
        const row = storage.sql.exec<Record<string, SqlStorageValue>>("SELECT * FROM deliveries WHERE id = ?", deliveryId).one();
        storage.sql.exec("UPDATE delivery_dead_letters SET delivery = ? WHERE delivery_id = ?", JSON.stringify(row), deliveryId);
        storage.sql.exec("DELETE FROM deliveries WHERE id = ?", deliveryId);
        expect(await inbox.replay(deliveryId)).toEqual({ ok: true, deliveryId });
        expect(inbox.get(deliveryId)).toMatchObject({ status: "pending", attempts: 0, dedupeKey: "old-dead" });
        const { seen, processor } = recorder();
        await inbox.process(processor);
        expect(seen).toEqual(["old-dead#1"]);
      },
      { keepFinished: 2, retry: backoff({ maxAttempts: 1 }) },
    );
  });
});

describe("Inbox dead letters", () => {
  it("dead-letters a delivery near the body cap whose copy would outgrow a SQLite row, and the queue moves on", async () => {
    await withInbox(
      async ({ inbox, storage, add }) => {
        // ~1 MiB of backslashes: stored as JSON it doubles, and a dead letter holding a JSON copy
        // of the row doubles it again, past SQLite's 2 MB value limit.
        const big = await add("huge", { text: "\\".repeat(1000 * 1024) });
        const next = await add("after");
        const { seen, processor } = recorder((a) => a.delivery.dedupeKey === "huge" && new Error("handler down"));
        await inbox.process(processor);
        expect(seen).toEqual(["huge#1", "after#1"]);
        expect(inbox.get(big)).toMatchObject({ status: "dead", lastError: "Error: handler down" });
        expect(inbox.get(next)?.status).toBe("processed");
        expect(inbox.deadLetters().map((d) => d.deliveryId)).toEqual([big]);
        const letter = storage.sql.exec<{ n: number }>("SELECT length(delivery) AS n FROM delivery_dead_letters").one();
        expect(letter.n).toBeLessThan(1024); // by reference: the body is not copied

        expect(await inbox.replay(big)).toEqual({ ok: true, deliveryId: big });
        const again = recorder();
        await inbox.process(again.processor);
        expect(again.seen).toEqual(["huge#1"]);
        expect(inbox.get(big)?.payload).toEqual({ key: "huge", text: "\\".repeat(1000 * 1024) });
      },
      { retry: backoff({ maxAttempts: 1 }) },
    );
  });

  it("takes a delivery out of the queue even when its dead letter cannot be written", async () => {
    await withInbox(
      async ({ inbox, storage, add }) => {
        const failed = await add("unlettered");
        const next = await add("behind");
        // Any failure of the dead-letter insert (here: refused by a trigger).
        storage.sql.exec("CREATE TRIGGER refuse BEFORE INSERT ON delivery_dead_letters BEGIN SELECT RAISE(ABORT, 'refused'); END");
        const { seen, processor } = recorder((a) => a.delivery.dedupeKey === "unlettered" && new Error("handler down"));
        await inbox.process(processor);
        await inbox.process(processor);
        expect(seen).toEqual(["unlettered#1", "behind#1"]);
        expect(inbox.get(failed)).toMatchObject({ status: "dead", attempts: 1 });
        expect(inbox.get(failed)?.lastError).toMatch(/^Error: handler down \(no dead letter: .*refused/);
        expect(inbox.get(next)?.status).toBe("processed");
      },
      { retry: backoff({ maxAttempts: 1 }) },
    );
  });
});

describe("Inbox queue head", () => {
  it("processes a replayed dead letter and a re-run delivery that lie behind deliveries processed since", async () => {
    await withInbox(
      async ({ inbox, add }) => {
        const dead = await add("head-dead");
        const done = await add("head-done");
        let healthy = false;
        const { seen, processor } = recorder((a) => !healthy && a.delivery.dedupeKey === "head-dead" && new Error("down"));
        await inbox.process(processor);
        expect(seen).toEqual(["head-dead#1", "head-done#1"]);
        expect(inbox.get(dead)?.status).toBe("dead");

        healthy = true;
        expect(await inbox.replay(dead)).toEqual({ ok: true, deliveryId: dead });
        await inbox.process(processor);
        expect(seen.at(-1)).toBe("head-dead#1");
        expect(inbox.get(dead)?.status).toBe("processed");

        expect(await inbox.rerun(done)).toMatchObject({ ok: true, from: "processed" });
        await inbox.process(processor);
        expect(seen.slice(2)).toEqual(["head-dead#1", "head-done#1"]);
        expect(inbox.recent({ status: "pending" })).toEqual([]);
      },
      { retry: backoff({ maxAttempts: 1 }) },
    );
  });

  it("upgrades an inbox created by an older version: rebuilds its tables, keeps its rows and claims", async () => {
    await runInDurableObject(chatStub(env, "org-inbox-upgrade", crypto.randomUUID()), async (_i, state) => {
      const sql = state.storage.sql;
      // The tables as the previous version created them (admission columns NOT NULL, a claim
      // trigger), in place of any this version's Chat DO created (it creates them on first use).
      sql.exec("DROP TABLE IF EXISTS deliveries; DROP TABLE IF EXISTS delivery_dedupe;");
      sql.exec(`CREATE TABLE deliveries (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, kind TEXT NOT NULL,
        organization_id TEXT NOT NULL, license_id INTEGER, chat_id TEXT, action TEXT NOT NULL, webhook_id TEXT NOT NULL,
        dedupe_key TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER, last_error TEXT, note TEXT, handled TEXT NOT NULL DEFAULT '[]',
        received_at INTEGER NOT NULL, finished_at INTEGER, claim_expires_at INTEGER);
        CREATE TABLE delivery_dedupe (key TEXT PRIMARY KEY, delivery_id TEXT NOT NULL, claimed_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL) WITHOUT ROWID;
        CREATE TRIGGER deliveries_claim AFTER INSERT ON deliveries WHEN NEW.claim_expires_at IS NOT NULL BEGIN
          INSERT OR REPLACE INTO delivery_dedupe (key, delivery_id, claimed_at, expires_at)
          VALUES (NEW.dedupe_key, NEW.id, NEW.received_at, NEW.claim_expires_at);
        END;`);
      // An admitted, pending row of the old version: its body is the content, not the webhook.
      const content = JSON.stringify({ payload: { key: "old" }, additionalData: { a: 1 } });
      sql.exec(
        `INSERT INTO deliveries (id, kind, organization_id, chat_id, action, webhook_id, dedupe_key, body, status, received_at, claim_expires_at)
         VALUES ('old-id', 'license', 'org-1', 'CHAT1', 'incoming_event', 'wh-0', 'old', ?, 'pending', ?, ?)`,
        content,
        T0,
        T0 + WINDOW_MS,
      );

      const clock = { now: T0 + 1_000 };
      const alarms = new NamedAlarms(state.storage, { now: () => clock.now });
      const inbox = new Inbox(state.storage, alarms, { rules, now: () => clock.now, pressure: new AcceptPressure() });
      expect(sql.exec("SELECT name FROM sqlite_master WHERE type = 'trigger'").toArray()).toEqual([]);
      expect(inbox.get("old-id")).toMatchObject({ status: "pending", dedupeKey: "old", payload: { key: "old" }, additionalData: { a: 1 } });
      await inbox.append("license", body("old"));
      await inbox.append("license", body("new"));
      const { seen, processor } = recorder();
      await inbox.process(processor);
      expect(seen).toEqual(["old#1", "new#1"]); // the old claim still holds: the redelivery of "old" is a duplicate
      expect(inbox.recent().map((d) => d.status)).toEqual(["processed", "duplicate", "processed"]);
      // A second instance over the upgraded tables changes nothing.
      new Inbox(state.storage, alarms, { rules, now: () => clock.now });
      expect(inbox.recent()).toHaveLength(3);
    });
  });
});

describe("Inbox retention", () => {
  it("prunes claims no waiting delivery needs, expired dead letters, and all but the newest finished deliveries", async () => {
    await withInbox(
      async ({ inbox, alarms, clock, storage, add }) => {
        await add("dead");
        const failDead = async (a: ProcessAttempt): Promise<ProcessOutcome> => {
          if (a.delivery.dedupeKey === "dead") throw new Error("x");
          return { status: "processed" };
        };
        await inbox.process(failDead);
        clock.now += 1_000;
        await inbox.process(failDead);
        expect(inbox.deadLetters()).toHaveLength(1);
        for (const k of ["p1", "p2", "p3", "p4"]) await add(k);
        await inbox.process(async (a) => {
          if (a.delivery.dedupeKey === "p4") throw new Error("retry later");
          return { status: "processed" };
        });
        // keepFinished 2: dead, p1, p2, p3 finished → p2, p3 kept, and dead while its letter lives;
        // p4 pending (failed once, retrying).
        expect(inbox.recent().map((d) => d.dedupeKey)).toEqual(["p4", "p3", "p2", "dead"]);
        expect(alarms.deadline(PRUNE_DEADLINE)).toBe(T0 + PRUNE_INTERVAL_MS); // the first admission's

        expect(count(storage, "delivery_dedupe")).toBe(5);
        // A waiting delivery that arrived at T0 + 1 s keeps the claims it may still be a redelivery of.
        clock.now = T0 + WINDOW_MS + 10_000;
        await inbox.prune();
        expect(count(storage, "delivery_dedupe")).toBe(5);
        await inbox.process(async () => ({ status: "processed" }));
        await inbox.prune();
        expect(count(storage, "delivery_dedupe")).toBe(0);
        expect(inbox.deadLetters()).toHaveLength(1);
        expect(inbox.recent().map((d) => d.dedupeKey)).toEqual(["p4", "p3", "dead"]);
        // Next: the finished deliveries' age (p3 finished at T0 + 1 s), before the dead letter's.
        expect(alarms.deadline(PRUNE_DEADLINE)).toBe(T0 + 1_000 + DELIVERY_RETENTION_MS + 1);

        clock.now = T0 + 1_000 + DELIVERY_RETENTION_MS + 1;
        await inbox.prune();
        // The dead row stays while its dead letter refers to it.
        expect(inbox.recent().map((d) => d.dedupeKey)).toEqual(["p4", "dead"]);
        expect(inbox.deadLetters()).toHaveLength(1);

        clock.now = T0 + 1_000 + DEAD_LETTER_TTL_MS + 1;
        await inbox.prune();
        expect(inbox.deadLetters()).toEqual([]);
        expect(inbox.recent()).toEqual([]); // p4 past its age; the dead row went with its letter
      },
      { keepFinished: 2, retry: backoff({ maxAttempts: 2, baseMs: 1_000, jitter: 0 }) },
    );
  });
});

describe("Inbox errors", () => {
  it("stores a failure's message without token-like strings", async () => {
    await withInbox(
      async ({ inbox, add }) => {
        const deliveryId = await add("leaky");
        await inbox.process(async () => {
          throw new Error("refresh failed for dal:abcdefghijklmnop");
        });
        expect(inbox.get(deliveryId)?.lastError).toBe("Error: refresh failed for [redacted]");
        expect(inbox.deadLetters()[0].error).toBe("Error: refresh failed for [redacted]");
      },
      { retry: backoff({ maxAttempts: 1 }) },
    );
  });
});
