import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { chatStub } from "../../src/chats/stub";
import { NamedAlarms } from "../../src/durable/alarms";
import {
  backoff,
  DAY_MS,
  DEAD_LETTER_TTL_MS,
  DELIVERY_RETENTION_MS,
  Inbox,
  inboxHoldings,
  type InboxOptions,
  KEEP_FINISHED_DELIVERIES,
  PROCESS_DEADLINE,
  pruneFinished,
  PRUNE_DEADLINE,
  retentionPolicy,
} from "../../src/deliveries";
import type { ProcessAttempt, ProcessOutcome } from "../../src/deliveries";
import { openTestInbox, T0, testRules } from "../helpers/test-inbox";

const HOUR = 3_600_000;
/** Claims of identity keys (event ids) hold a day (src/webhooks/admit.ts). */
const CLAIM_MS = 24 * HOUR;
let n = 0;

/** The payload names its dedupe key (`key`), claimed for a day. */
const rules = testRules(async (delivery) => ({ key: (delivery.payload as { key: string }).key, windowMs: CLAIM_MS }));

interface Rig {
  inbox: Inbox;
  alarms: NamedAlarms;
  clock: { now: number };
  storage: DurableObjectStorage;
}

function withInbox<T>(fn: (rig: Rig) => Promise<T>, options: Partial<InboxOptions> = {}) {
  return runInDurableObject(chatStub(env, `org-retention-${++n}`, crypto.randomUUID()), async (_i, state) => {
    const rig = openTestInbox(state.storage, { rules, retry: backoff({ maxAttempts: 1, jitter: 0 }), batch: 1_000, ...options });
    const { inbox, alarms } = rig;
    alarms.handle(PRUNE_DEADLINE, async () => {
      await inbox.prune();
    });
    alarms.handle(PROCESS_DEADLINE, () => inbox.process(someFail));
    return fn(rig);
  });
}

/** Store a webhook with dedupe key `key` at `receivedAt`, as the ack does. */
async function accept(rig: Rig, key: string, receivedAt: number, text = key): Promise<void> {
  rig.clock.now = receivedAt;
  const payload = { key, chat_id: "CHAT1", thread_id: "T1", event: { id: key, type: "message", text } };
  await rig.inbox.append("license", JSON.stringify({ webhook_id: "wh-1", action: "incoming_event", organization_id: "org-1", payload }));
}

/** `k0` and every 50th `e<i>` fail for good (a dead letter); the rest are processed. */
async function someFail(a: ProcessAttempt): Promise<ProcessOutcome> {
  const key = a.delivery.dedupeKey;
  if (key === "k0" || (key.startsWith("e") && Number(key.slice(1)) % 50 === 0)) throw new Error("down");
  return { status: "processed" };
}

/** Run the deadlines whenever one is due until `until` (the clock ends there), as the DO's alarm would. */
async function runUntil(rig: Rig, until: number): Promise<number> {
  let passes = 0;
  for (;;) {
    const at = rig.alarms.list()[0]?.at;
    if (at === undefined || at > until) break;
    rig.clock.now = at;
    await rig.alarms.run();
    passes++;
  }
  rig.clock.now = until;
  return passes;
}

const bodies = (storage: DurableObjectStorage) =>
  storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM deliveries").one().n +
  storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM delivery_dead_letters").one().n;

describe("retention policy", () => {
  it("defaults to 7 days for deliveries and 14 for dead letters; configured days override", () => {
    expect(retentionPolicy()).toEqual({ deliveryMs: 7 * DAY_MS, deadLetterMs: 14 * DAY_MS, keepFinished: KEEP_FINISHED_DELIVERIES });
    expect(retentionPolicy({ deliveryRetentionDays: 1, deadLetterRetentionDays: 30 })).toMatchObject({ deliveryMs: DAY_MS, deadLetterMs: 30 * DAY_MS });
  });
});

describe("Inbox retention by age", () => {
  it("drops a finished delivery, its body with it, once older than the retention, with no new delivery arriving", async () => {
    await withInbox(async (rig) => {
      const { inbox, alarms, storage } = rig;
      await accept(rig, "only", T0, "customer's secret text");
      await runUntil(rig, T0);
      const text = () => storage.sql.exec("SELECT 1 FROM deliveries WHERE body LIKE '%secret text%'").toArray().length;
      expect(text()).toBe(1);
      // The prune deadline stays armed while something is kept: claim expiry, then the delivery's age.
      await runUntil(rig, T0 + DELIVERY_RETENTION_MS - 1);
      expect(text()).toBe(1);
      expect(alarms.deadline(PRUNE_DEADLINE)).toBe(T0 + DELIVERY_RETENTION_MS + 1);
      await runUntil(rig, T0 + DELIVERY_RETENTION_MS + 1);
      expect(text()).toBe(0);
      expect(inboxHoldings(storage.sql)).toEqual({ deliveries: 0, deadLetters: 0, dedupeClaims: 0 });
      // Nothing left: no deadline, no storage alarm.
      expect(alarms.list()).toEqual([]);
      expect(await storage.getAlarm()).toBeNull();
    });
  });

  it("keeps a dead letter for its own, longer retention, then drops it", async () => {
    await withInbox(async (rig) => {
      const { inbox, storage } = rig;
      await accept(rig, "k0", T0);
      await runUntil(rig, T0);
      expect(inbox.deadLetters()).toHaveLength(1);
      await runUntil(rig, T0 + DELIVERY_RETENTION_MS + HOUR);
      // Only the row the dead letter refers to is left.
      expect(inbox.recent().map((d) => d.status)).toEqual(["dead"]);
      expect(inbox.deadLetters()).toHaveLength(1);
      await runUntil(rig, T0 + DEAD_LETTER_TTL_MS + 1);
      expect(inbox.deadLetters()).toEqual([]);
      expect(bodies(storage)).toBe(0);
      expect(await storage.getAlarm()).toBeNull();
    });
  });

  it("honours configured retentions", async () => {
    await withInbox(
      async (rig) => {
        const { inbox } = rig;
        await accept(rig, "k0", T0);
        await accept(rig, "k1", T0);
        await runUntil(rig, T0);
        await runUntil(rig, T0 + DAY_MS + 1);
        expect(inbox.recent().map((d) => d.dedupeKey)).toEqual(["k0"]); // dead: kept with its letter
        expect(inbox.deadLetters()).toHaveLength(1);
        await runUntil(rig, T0 + 2 * DAY_MS + 1);
        expect(inbox.deadLetters()).toEqual([]);
        expect(inbox.recent()).toEqual([]);
      },
      { deliveryRetentionMs: DAY_MS, deadLetterTtlMs: 2 * DAY_MS },
    );
  });

  it("a chat with 100,000 events over 10 weeks keeps bounded rows and bytes, and nothing once quiet past the retentions", async () => {
    await withInbox(async (rig) => {
      const { inbox, storage, clock } = rig;
      const total = 100_000;
      const weeks = 10;
      const step = Math.floor((weeks * 7 * DAY_MS) / total); // one event every ~60 s
      let maxRows = 0;
      let maxBytes = 0;
      for (let i = 0; i < total; i++) {
        clock.now = T0 + i * step;
        await accept(rig, `e${i}`, clock.now, `message ${i} from a customer`);
        if (i % 500 === 499) {
          // A cheap processing pass: the handlers' work is not what is measured here, so the batch
          // is finished by one statement (every 50th one dead-lettered, as the inbox records it).
          await finishBatch(rig, clock.now);
          // Then whatever deadline came due meanwhile runs, as the alarm would (the prune among them).
          await runUntil(rig, clock.now);
          const held = inboxHoldings(storage.sql);
          maxRows = Math.max(maxRows, held.deliveries + held.deadLetters + held.dedupeClaims);
          maxBytes = Math.max(maxBytes, storage.sql.databaseSize);
          // Finished deliveries: the newest 200, and the rows live dead letters refer to. Dead letters:
          // those of the last 14 days. Claims: those of the last 24 h (identity keys) plus an hour of prune lag.
          expect(held.deliveries).toBeLessThanOrEqual(KEEP_FINISHED_DELIVERIES + held.deadLetters);
          expect(held.deadLetters).toBeLessThanOrEqual(Math.ceil(DEAD_LETTER_TTL_MS / step / 50) + 10);
          expect(held.dedupeClaims).toBeLessThanOrEqual(Math.ceil((CLAIM_MS + 2 * HOUR) / step));
        }
      }
      expect(inbox.deadLetters(500).length).toBeGreaterThan(0);
      // 100,000 events left at most a day of claims, the newest finished deliveries and two weeks of dead letters.
      expect(maxRows).toBeLessThan(3_000);
      expect(maxBytes).toBeGreaterThan(0);
      expect(maxBytes).toBeLessThan(4 * 1024 * 1024);
      // Quiet for the longest retention: nothing is left, and no alarm either.
      await runUntil(rig, clock.now + DEAD_LETTER_TTL_MS + HOUR);
      expect(inboxHoldings(storage.sql)).toEqual({ deliveries: 0, deadLetters: 0, dedupeClaims: 0 });
      expect(await storage.getAlarm()).toBeNull();
    });
  }, 120_000);
});

/**
 * Admit and finish every pending delivery at `now`, as a processing pass would: its key claimed for a
 * day, every 50th dead (with its dead letter), the rest processed.
 */
async function finishBatch(rig: Rig, now: number): Promise<void> {
  const sql = rig.storage.sql;
  sql.exec(
    `UPDATE deliveries SET dedupe_key = json_extract(body, '$.payload.key'), organization_id = 'org-1', chat_id = 'CHAT1',
       action = 'incoming_event', webhook_id = 'wh-1' WHERE status = 'pending'`,
  );
  sql.exec(
    `INSERT OR REPLACE INTO delivery_dedupe (key, delivery_id, claimed_at, expires_at)
     SELECT dedupe_key, id, received_at, received_at + ? FROM deliveries WHERE status = 'pending'`,
    CLAIM_MS,
  );
  sql.exec(
    `INSERT INTO delivery_dead_letters (delivery_id, action, chat_id, dedupe_key, error, attempts, dead_at, delivery)
     SELECT id, action, chat_id, dedupe_key, 'down', 1, ?, '' FROM deliveries
     WHERE status = 'pending' AND CAST(substr(dedupe_key, 2) AS INTEGER) % 50 = 0`,
    now,
  );
  sql.exec(
    `UPDATE deliveries SET attempts = 1, finished_at = ?,
       status = CASE WHEN CAST(substr(dedupe_key, 2) AS INTEGER) % 50 = 0 THEN 'dead' ELSE 'processed' END
     WHERE status = 'pending'`,
    now,
  );
  pruneFinished(sql, KEEP_FINISHED_DELIVERIES); // as a processing pass ends
  // The prune an admission asks for within the hour, and the one a pass asks for by its deliveries' age.
  const prune = rig.alarms.deadline(PRUNE_DEADLINE);
  if (prune === undefined || prune > now + HOUR) await rig.alarms.schedule(PRUNE_DEADLINE, now + HOUR, "earliest");
}
