import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { chatStub } from "../../src/chats/stub";
import { NamedAlarms } from "../../src/durable/alarms";
import {
  AcceptPressure,
  backoff,
  DEAD_LETTER_TTL_MS,
  DEDUPE_TTL_MS,
  DELIVERY_RETENTION_MS,
  Inbox,
  type InboxOptions,
  MAX_PROCESSING_LAG_MS,
  MIN_DEDUPE_TTL_MS,
  MIN_HOLD_MS,
  PROCESS_DEADLINE,
  PRUNE_DEADLINE,
} from "../../src/deliveries";
import type { IncomingDelivery, Json, ProcessAttempt, ProcessOutcome } from "../../src/deliveries";

// Far-future clock: the storage alarms armed here never fire by themselves; tests drive process().
const T0 = 4_000_000_000_000;
let n = 0;

interface Rig {
  inbox: Inbox;
  alarms: NamedAlarms;
  clock: { now: number };
  storage: DurableObjectStorage;
}

function withInbox<T>(fn: (rig: Rig) => Promise<T>, options: InboxOptions = {}) {
  return runInDurableObject(chatStub(env, `org-inbox-${++n}`, crypto.randomUUID()), async (_i, state) => {
    const clock = { now: T0 };
    const alarms = new NamedAlarms(state.storage, { now: () => clock.now });
    const inbox = new Inbox(state.storage, alarms, {
      now: () => clock.now,
      retry: backoff({ maxAttempts: 3, baseMs: 1_000, jitter: 0 }),
      // Each test its own accept rate: the isolate's is shared by every test of this file.
      pressure: new AcceptPressure(),
      ...options,
    });
    return fn({ inbox, alarms, clock, storage: state.storage });
  });
}

function delivery(key: string, extra: Partial<IncomingDelivery> = {}): IncomingDelivery {
  return {
    kind: "license",
    organizationId: "org-1",
    chatId: "CHAT1",
    action: "incoming_event",
    webhookId: "wh-1",
    dedupeKey: key,
    payload: { chat_id: "CHAT1", thread_id: "T1", event: { id: key, type: "message", text: key } },
    receivedAt: T0,
    ...extra,
  };
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

describe("Inbox.accept", () => {
  it("records a delivery, claims its key and schedules processing; a redelivery is a duplicate", async () => {
    await withInbox(async ({ inbox, alarms, storage }) => {
      const first = await inbox.accept(delivery("k1"));
      expect(first.outcome).toBe("accepted");
      expect(alarms.deadline(PROCESS_DEADLINE)).toBe(T0);
      expect(await storage.getAlarm()).toBe(T0);

      const again = await inbox.accept(delivery("k1", { webhookId: "wh-2" }));
      expect(again).toEqual({ outcome: "duplicate", deliveryId: first.deliveryId });

      const stored = inbox.recent();
      expect(stored).toHaveLength(1);
      expect(stored[0]).toMatchObject({ id: first.deliveryId, status: "pending", attempts: 0, dedupeKey: "k1", chatId: "CHAT1" });
      expect(stored[0].payload).toEqual(delivery("k1").payload);
    });
  });

  it("records an unprocessable delivery with its error, never processes it, and still dedupes it", async () => {
    await withInbox(async ({ inbox }) => {
      const result = await inbox.accept(
        delivery("bad", { unprocessable: { reason: "invalid_payload", error: "event.id: required" } }),
      );
      expect(result.outcome).toBe("unprocessable");
      expect((await inbox.accept(delivery("bad"))).outcome).toBe("duplicate");
      const { seen, processor } = recorder();
      await inbox.process(processor);
      expect(seen).toEqual([]);
      expect(inbox.get(result.deliveryId)).toMatchObject({
        status: "unprocessable",
        lastError: "event.id: required",
        note: "invalid_payload",
        unprocessable: { reason: "invalid_payload", error: "event.id: required" },
      });
    });
  });

  it("claim and record are atomic: a failed record leaves the key unclaimed", async () => {
    await withInbox(async ({ inbox }) => {
      // A BigInt cannot be serialised: accept throws before it writes anything.
      const unserialisable = { n: 1n } as unknown as Json;
      await expect(inbox.accept(delivery("atomic", { payload: unserialisable }))).rejects.toThrow();
      // A NULL action violates the record's NOT NULL inside SQLite: the statement, and with it
      // the claim its trigger would write, is rolled back.
      await expect(inbox.accept(delivery("atomic", { action: null as unknown as string }))).rejects.toThrow(/NOT NULL/);
      expect(inbox.recent()).toEqual([]);
      expect((await inbox.accept(delivery("atomic"))).outcome).toBe("accepted");
    });
  });

  it("holds a claim for at least 15 minutes (content keys); identity keys 24 h; an expired claim can be taken again", async () => {
    await withInbox(async ({ inbox, clock }) => {
      await inbox.accept(delivery("content", { dedupeTtlMs: MIN_DEDUPE_TTL_MS }));
      await inbox.accept(delivery("identity", { dedupeTtlMs: DEDUPE_TTL_MS }));
      await inbox.accept(delivery("too-short", { dedupeTtlMs: 1_000 })); // raised to the 15-minute minimum

      clock.now = T0 + MIN_DEDUPE_TTL_MS - 1;
      for (const key of ["content", "identity", "too-short"]) expect((await inbox.accept(delivery(key))).outcome).toBe("duplicate");

      clock.now = T0 + MIN_DEDUPE_TTL_MS;
      expect((await inbox.accept(delivery("content"))).outcome).toBe("accepted");
      expect((await inbox.accept(delivery("too-short"))).outcome).toBe("accepted");
      expect((await inbox.accept(delivery("identity"))).outcome).toBe("duplicate");

      clock.now = T0 + DEDUPE_TTL_MS;
      expect((await inbox.accept(delivery("identity"))).outcome).toBe("accepted");
    });
  });
});

describe("Inbox.process", () => {
  it("processes pending deliveries in arrival order, once", async () => {
    await withInbox(async ({ inbox }) => {
      for (const k of ["a", "b", "c"]) await inbox.accept(delivery(k));
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

  it("records the processor's terminal status and note", async () => {
    await withInbox(async ({ inbox }) => {
      const { deliveryId } = await inbox.accept(delivery("s"));
      await inbox.process(async () => ({ status: "skipped", note: "bot not accepting chats" }));
      expect(inbox.get(deliveryId)).toMatchObject({ status: "skipped", note: "bot not accepting chats", attempts: 1 });
    });
  });

  it("retries a failure with backoff, holding later deliveries back, then dead-letters it with the error", async () => {
    await withInbox(async ({ inbox, alarms, clock }) => {
      const { deliveryId } = await inbox.accept(delivery("fails"));
      await inbox.accept(delivery("next"));
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
    await withInbox(async ({ inbox, alarms, clock }) => {
      const { deliveryId } = await inbox.accept(delivery("limited"));
      const rateLimited = Object.assign(new Error("LiveChat agent/get_chat failed (too_many_requests): HTTP 429"), { retryAfterMs: 120_000 });
      const { seen, processor } = recorder((a) =>
        a.attempt === 1 ? rateLimited : a.attempt === 2 ? Object.assign(new Error("handler bot:x failed"), { cause: rateLimited }) : undefined,
      );
      await inbox.process(processor);
      expect(inbox.get(deliveryId)).toMatchObject({ status: "pending", attempts: 1, nextAttemptAt: T0 + 120_000 });
      expect(alarms.deadline(PROCESS_DEADLINE)).toBe(T0 + 120_000);
      clock.now = T0 + 3_000; // the policy's own retry time: not yet
      await inbox.process(processor);
      expect(seen).toEqual(["limited#1"]);
      clock.now = T0 + 120_000;
      await inbox.process(processor);
      expect(inbox.get(deliveryId)).toMatchObject({ status: "pending", attempts: 2, nextAttemptAt: T0 + 240_000 });
      clock.now = T0 + 240_000;
      await inbox.process(processor);
      expect(seen).toEqual(["limited#1", "limited#2", "limited#3"]);
      expect(inbox.get(deliveryId)?.status).toBe("processed");
    });
  });

  it("succeeds on a retry and skips the handlers a failed attempt already completed", async () => {
    await withInbox(async ({ inbox, clock }) => {
      const { deliveryId } = await inbox.accept(delivery("partial"));
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
    await withInbox(async ({ inbox, clock, storage, alarms }) => {
      const { deliveryId } = await inbox.accept(delivery("crash"));
      // Attempt 1 never finishes (the DO is evicted mid-handler).
      void inbox.process(() => new Promise<ProcessOutcome>(() => {}));
      await scheduler.wait(1);
      expect(inbox.get(deliveryId)).toMatchObject({ status: "pending", attempts: 1 });

      // After the restart, a new inbox over the same storage sees the attempt as spent.
      const restarted = new Inbox(storage, alarms, {
        now: () => clock.now,
        retry: backoff({ maxAttempts: 2, baseMs: 1_000, jitter: 0 }),
      });
      const { seen, processor } = recorder(() => new Error("still failing"));
      clock.now = T0 + 1_000;
      await restarted.process(processor);
      expect(seen).toEqual(["crash#2"]);
      expect(restarted.get(deliveryId)).toMatchObject({ status: "dead", attempts: 2 });

      // Same situation with no attempt left: dead-lettered as interrupted without running.
      const { deliveryId: other } = await restarted.accept(delivery("crash-2"));
      void restarted.process(() => new Promise<ProcessOutcome>(() => {}));
      await scheduler.wait(1);
      const last = new Inbox(storage, alarms, { now: () => clock.now, retry: backoff({ maxAttempts: 1, jitter: 0 }) });
      clock.now += 10_000;
      await last.process(processor);
      expect(seen).toEqual(["crash#2"]);
      expect(last.get(other)).toMatchObject({ status: "dead", lastError: "processing interrupted" });
    });
  });

  it("yields after a batch and re-arms itself immediately", async () => {
    await withInbox(
      async ({ inbox, alarms, clock }) => {
        for (const k of ["1", "2", "3", "4", "5"]) await inbox.accept(delivery(k));
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
      async ({ inbox, alarms, clock }) => {
        for (const key of ["b1", "b2", "b3"]) await inbox.accept(delivery(key));
        expect(alarms.deadline(PROCESS_DEADLINE)).toBe(T0 + MIN_HOLD_MS); // busy: later, not now

        // Due, but the burst goes on: the pass holds back without running anything.
        const { seen, processor } = recorder();
        clock.now = T0 + MIN_HOLD_MS;
        for (const key of ["b4", "b5", "b6"]) await inbox.accept(delivery(key, { receivedAt: clock.now }));
        await inbox.process(processor);
        expect(seen).toEqual([]);
        expect(alarms.deadline(PROCESS_DEADLINE)).toBe(clock.now + MIN_HOLD_MS);

        // Never past the lag bound of the oldest pending delivery, however long the burst.
        clock.now = T0 + MAX_PROCESSING_LAG_MS - 500;
        for (const key of ["b7", "b8", "b9"]) await inbox.accept(delivery(key, { receivedAt: clock.now }));
        await inbox.process(processor);
        expect(seen).toEqual([]);
        expect(alarms.deadline(PROCESS_DEADLINE)).toBe(T0 + MAX_PROCESSING_LAG_MS);
        clock.now = T0 + MAX_PROCESSING_LAG_MS;
        for (const key of ["c1", "c2", "c3"]) await inbox.accept(delivery(key, { receivedAt: clock.now }));
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
      async ({ inbox, alarms, storage }) => {
        await inbox.accept(delivery("first-of-its-chat"));
        expect(alarms.deadline(PROCESS_DEADLINE)).toBe(T0 + MAX_PROCESSING_LAG_MS);
        expect(await storage.getAlarm()).toBe(T0 + MAX_PROCESSING_LAG_MS);
      },
      { pressure },
    );
  });

  it("processes at once again when the burst is over", async () => {
    await withInbox(
      async ({ inbox, alarms, clock }) => {
        await inbox.accept(delivery("b1"));
        expect(alarms.deadline(PROCESS_DEADLINE)).toBe(T0 + MIN_HOLD_MS);
        clock.now = T0 + MIN_HOLD_MS; // no accepts for two seconds
        const { seen, processor } = recorder();
        await inbox.process(processor);
        expect(seen).toEqual(["b1#1"]);
        await alarms.cancel(PROCESS_DEADLINE); // as the alarm pass does once its handler returned
        await inbox.accept(delivery("after"));
        expect(alarms.deadline(PROCESS_DEADLINE)).toBe(clock.now);
      },
      { pressure: busyAt(T0) },
    );
  });
});

describe("Inbox with a failing processing pass", () => {
  it("an accepted delivery waits for the retry of a pass that threw instead of running it again at once", async () => {
    await withInbox(async ({ inbox, alarms, clock, storage }) => {
      let passes = 0;
      // A pass that throws as a whole (not a processor failure, which the inbox retries per delivery).
      alarms.handle(PROCESS_DEADLINE, () => {
        passes++;
        throw new Error("pass failed");
      });
      await inbox.accept(delivery("k1"));
      await alarms.run();
      expect(passes).toBe(1);
      const retryAt = alarms.deadline(PROCESS_DEADLINE)!;
      expect(retryAt).toBeGreaterThan(clock.now);

      // Steady traffic before the retry: each delivery is stored and acked, and none pulls the pass back.
      for (const key of ["k2", "k3"]) {
        clock.now += 100;
        expect((await inbox.accept(delivery(key, { receivedAt: clock.now }))).outcome).toBe("accepted");
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
  it("puts a dead letter back once, keeps its dedupe claim, and refuses other ids", async () => {
    await withInbox(async ({ inbox, clock }) => {
      const { deliveryId } = await inbox.accept(delivery("dl"));
      let healthy = false;
      const { seen, processor } = recorder(() => !healthy && new Error("down"));
      for (let i = 0; i < 3; i++) {
        await inbox.process(processor);
        clock.now += 10_000;
      }
      expect(inbox.get(deliveryId)?.status).toBe("dead");

      healthy = true;
      expect(await inbox.replay(deliveryId)).toEqual({ ok: true, deliveryId });
      expect(await inbox.replay(deliveryId)).toEqual({ ok: false, reason: "not_dead" });
      expect(inbox.deadLetters()).toEqual([]);
      await inbox.process(processor);
      expect(seen.at(-1)).toBe("dl#1");
      expect(inbox.get(deliveryId)).toMatchObject({ status: "processed" });
      expect(await inbox.replay(deliveryId)).toEqual({ ok: false, reason: "not_dead" });
      expect(await inbox.replay("no-such-id")).toEqual({ ok: false, reason: "not_found" });
      expect((await inbox.accept(delivery("dl"))).outcome).toBe("duplicate");
    });
  });

  it("keeps a dead letter's delivery past the recent list, and restores a letter an older version stored as a copy", async () => {
    await withInbox(
      async ({ inbox, clock, storage }) => {
        const { deliveryId } = await inbox.accept(delivery("old-dead"));
        await inbox.process(async () => {
          throw new Error("fatal");
        });
        for (const k of ["x", "y", "z"]) await inbox.accept(delivery(k));
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
      async ({ inbox, storage }) => {
        // ~1 MiB of backslashes: stored as JSON it doubles, and a dead letter holding a JSON copy
        // of the row doubles it again, past SQLite's 2 MB value limit.
        const big = await inbox.accept(delivery("huge", { payload: { text: "\\".repeat(1000 * 1024) } }));
        const next = await inbox.accept(delivery("after"));
        const { seen, processor } = recorder((a) => a.delivery.dedupeKey === "huge" && new Error("handler down"));
        await inbox.process(processor);
        expect(seen).toEqual(["huge#1", "after#1"]);
        expect(inbox.get(big.deliveryId)).toMatchObject({ status: "dead", lastError: "Error: handler down" });
        expect(inbox.get(next.deliveryId)?.status).toBe("processed");
        expect(inbox.deadLetters().map((d) => d.deliveryId)).toEqual([big.deliveryId]);
        const letter = storage.sql.exec<{ n: number }>("SELECT length(delivery) AS n FROM delivery_dead_letters").one();
        expect(letter.n).toBeLessThan(1024); // by reference: the body is not copied

        expect(await inbox.replay(big.deliveryId)).toEqual({ ok: true, deliveryId: big.deliveryId });
        const again = recorder();
        await inbox.process(again.processor);
        expect(again.seen).toEqual(["huge#1"]);
        expect(inbox.get(big.deliveryId)?.payload).toEqual({ text: "\\".repeat(1000 * 1024) });
      },
      { retry: backoff({ maxAttempts: 1 }) },
    );
  });

  it("takes a delivery out of the queue even when its dead letter cannot be written", async () => {
    await withInbox(
      async ({ inbox, storage }) => {
        const failed = await inbox.accept(delivery("unlettered"));
        const next = await inbox.accept(delivery("behind"));
        // Any failure of the dead-letter insert (here: refused by a trigger).
        storage.sql.exec("CREATE TRIGGER refuse BEFORE INSERT ON delivery_dead_letters BEGIN SELECT RAISE(ABORT, 'refused'); END");
        const { seen, processor } = recorder((a) => a.delivery.dedupeKey === "unlettered" && new Error("handler down"));
        await inbox.process(processor);
        await inbox.process(processor);
        expect(seen).toEqual(["unlettered#1", "behind#1"]);
        expect(inbox.get(failed.deliveryId)).toMatchObject({ status: "dead", attempts: 1 });
        expect(inbox.get(failed.deliveryId)?.lastError).toMatch(/^Error: handler down \(no dead letter: .*refused/);
        expect(inbox.get(next.deliveryId)?.status).toBe("processed");
      },
      { retry: backoff({ maxAttempts: 1 }) },
    );
  });
});

describe("Inbox queue head", () => {
  it("processes a replayed dead letter and a re-run delivery that lie behind deliveries processed since", async () => {
    await withInbox(
      async ({ inbox }) => {
        const dead = await inbox.accept(delivery("head-dead"));
        const done = await inbox.accept(delivery("head-done"));
        let healthy = false;
        const { seen, processor } = recorder((a) => !healthy && a.delivery.dedupeKey === "head-dead" && new Error("down"));
        await inbox.process(processor);
        expect(seen).toEqual(["head-dead#1", "head-done#1"]);
        expect(inbox.get(dead.deliveryId)?.status).toBe("dead");

        healthy = true;
        expect(await inbox.replay(dead.deliveryId)).toEqual({ ok: true, deliveryId: dead.deliveryId });
        await inbox.process(processor);
        expect(seen.at(-1)).toBe("head-dead#1");
        expect(inbox.get(dead.deliveryId)?.status).toBe("processed");

        expect(await inbox.rerun(done.deliveryId)).toMatchObject({ ok: true, from: "processed" });
        await inbox.process(processor);
        expect(seen.slice(2)).toEqual(["head-dead#1", "head-done#1"]);
        expect(inbox.recent({ status: "pending" })).toEqual([]);
      },
      { retry: backoff({ maxAttempts: 1 }) },
    );
  });

  it("upgrades an inbox created by an older version: adds the claim column, drops the status index, keeps its rows", async () => {
    await runInDurableObject(chatStub(env, "org-inbox-upgrade", crypto.randomUUID()), async (_i, state) => {
      const sql = state.storage.sql;
      // The tables as the previous version created them (no claim_expires_at, an index on status),
      // in place of any this version's Chat DO created (it creates them on first use).
      sql.exec("DROP TRIGGER IF EXISTS deliveries_claim; DROP TABLE IF EXISTS deliveries; DROP TABLE IF EXISTS delivery_dedupe;");
      sql.exec(`CREATE TABLE deliveries (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL, kind TEXT NOT NULL,
        organization_id TEXT NOT NULL, license_id INTEGER, chat_id TEXT, action TEXT NOT NULL, webhook_id TEXT NOT NULL,
        dedupe_key TEXT NOT NULL, body TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at INTEGER, last_error TEXT, note TEXT, handled TEXT NOT NULL DEFAULT '[]',
        received_at INTEGER NOT NULL, finished_at INTEGER);
        CREATE INDEX deliveries_pending ON deliveries(status, seq);
        CREATE TABLE delivery_dedupe (key TEXT PRIMARY KEY, delivery_id TEXT NOT NULL, claimed_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL) WITHOUT ROWID;`);
      const body = JSON.stringify({ payload: delivery("old").payload });
      sql.exec(
        `INSERT INTO deliveries (id, kind, organization_id, chat_id, action, webhook_id, dedupe_key, body, status, received_at)
         VALUES ('old-id', 'license', 'org-1', 'CHAT1', 'incoming_event', 'wh-0', 'old', ?, 'pending', ?)`,
        body,
        T0,
      );
      sql.exec("INSERT INTO delivery_dedupe VALUES ('old', 'old-id', ?, ?)", T0, T0 + DEDUPE_TTL_MS);

      const clock = { now: T0 };
      const alarms = new NamedAlarms(state.storage, { now: () => clock.now });
      const inbox = new Inbox(state.storage, alarms, { now: () => clock.now, pressure: new AcceptPressure() });
      const indexes = sql.exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'deliveries'");
      expect(indexes.toArray()).toEqual([]);
      expect((await inbox.accept(delivery("old"))).outcome).toBe("duplicate");
      const fresh = await inbox.accept(delivery("new"));
      expect(fresh.outcome).toBe("accepted");
      expect((await inbox.accept(delivery("new"))).outcome).toBe("duplicate");
      const { seen, processor } = recorder();
      await inbox.process(processor);
      expect(seen).toEqual(["old#1", "new#1"]);
      // A second instance over the upgraded tables changes nothing.
      new Inbox(state.storage, alarms, { now: () => clock.now });
      expect(inbox.get(fresh.deliveryId)).toMatchObject({ status: "processed", dedupeKey: "new" });
    });
  });
});

describe("Inbox retention", () => {
  it("prunes expired claims and dead letters, keeps pending deliveries and the newest finished ones", async () => {
    await withInbox(
      async ({ inbox, alarms, clock, storage }) => {
        await inbox.accept(delivery("dead"));
        const failDead = async (a: ProcessAttempt): Promise<ProcessOutcome> => {
          if (a.delivery.dedupeKey === "dead") throw new Error("x");
          return { status: "processed" };
        };
        await inbox.process(failDead);
        clock.now += 1_000;
        await inbox.process(failDead);
        expect(inbox.deadLetters()).toHaveLength(1);
        for (const k of ["p1", "p2", "p3", "p4"]) await inbox.accept(delivery(k));
        await inbox.process(async (a) => {
          if (a.delivery.dedupeKey === "p4") throw new Error("retry later");
          return { status: "processed" };
        });
        // keepFinished 2: dead, p1, p2, p3 finished → p2, p3 kept, and dead while its letter lives;
        // p4 pending (failed once, retrying).
        expect(inbox.recent().map((d) => d.dedupeKey)).toEqual(["p4", "p3", "p2", "dead"]);
        expect(alarms.deadline(PRUNE_DEADLINE)).toBe(T0 + DEDUPE_TTL_MS); // the first claim's expiry

        const claims = () => storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM delivery_dedupe").one().n;
        expect(claims()).toBe(5);
        clock.now = T0 + DEDUPE_TTL_MS - 1;
        await inbox.prune();
        expect(claims()).toBe(5);
        clock.now = T0 + 1_000 + DEDUPE_TTL_MS;
        await inbox.prune();
        expect(claims()).toBe(0);
        expect(inbox.deadLetters()).toHaveLength(1);
        // Next: the finished deliveries' age (p2, p3 finished at T0 + 1 s), before the dead letter's.
        expect(alarms.deadline(PRUNE_DEADLINE)).toBe(T0 + 1_000 + DELIVERY_RETENTION_MS + 1);

        clock.now = T0 + 1_000 + DELIVERY_RETENTION_MS + 1;
        await inbox.prune();
        // The dead row stays while its dead letter refers to it.
        expect(inbox.recent().map((d) => d.dedupeKey)).toEqual(["p4", "dead"]);
        expect(inbox.deadLetters()).toHaveLength(1);
        expect(alarms.deadline(PRUNE_DEADLINE)).toBe(T0 + 1_000 + DEAD_LETTER_TTL_MS + 1);

        clock.now = T0 + 1_000 + DEAD_LETTER_TTL_MS + 1;
        await inbox.prune();
        expect(inbox.deadLetters()).toEqual([]);
        expect(inbox.recent().map((d) => d.dedupeKey)).toEqual(["p4"]); // p2, p3 past their age; the dead row went with its letter
        expect(inbox.recent({ status: "pending" }).map((d) => d.dedupeKey)).toEqual(["p4"]);
      },
      { keepFinished: 2, retry: backoff({ maxAttempts: 2, baseMs: 1_000, jitter: 0 }) },
    );
  });
});

describe("Inbox errors", () => {
  it("stores a failure's message without token-like strings", async () => {
    await withInbox(
      async ({ inbox }) => {
        const { deliveryId } = await inbox.accept(delivery("leaky"));
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
