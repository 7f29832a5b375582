/**
 * The license's delivery journal: one bounded index, in the License DO, of every delivery of the
 * license wherever it was processed (its own inbox for license-scoped actions, the Chat DOs for
 * chat-scoped ones), so operators see "recent deliveries per license", its dead letters and a
 * 24-hour chart without visiting every Chat DO.
 *
 * It is fed off the ack path: each DO reports a processing attempt after it finished (the
 * inbox's `onAttempt`), the Chat DO over RPC without waiting for it. A report that is lost only
 * leaves the journal behind; the inbox of the DO that owns the delivery stays the truth.
 *
 * Retention: the newest {@link JOURNAL_KEEP} entries per license, hourly counters for
 * {@link JOURNAL_HOURS_KEPT} hours.
 */
import type { AttemptEvent } from "../deliveries/inbox";

/** Entries kept per license (the newest by first report). */
export const JOURNAL_KEEP = 1000;
/** Hourly outcome counters kept (the chart shows the last 24). */
export const JOURNAL_HOURS_KEPT = 48;
const HOUR_MS = 3_600_000;

/** What an attempt ended in: an inbox status (`duplicate`: a redelivery, counted), or `retry` (failed, will be tried again). */
export type JournalOutcome =
  | "pending"
  | "parked"
  | "processed"
  | "duplicate"
  | "skipped"
  | "not_installed"
  | "unprocessable"
  | "dead"
  | "retry";

/** One processing attempt as a DO reports it. */
export interface JournalReport {
  deliveryId: string;
  /** Set for chat-scoped deliveries (they live in the chat's Chat DO, src/chats/stub.ts). */
  chatId?: string;
  action: string;
  kind: string;
  outcome: JournalOutcome;
  attempt: number;
  receivedAt: number;
  /** When the attempt ended (orders reports that arrive out of order). */
  at: number;
  /** How long the attempt took (ms). */
  durationMs?: number;
  error?: string;
  note?: string;
}

/** A journal entry: the last reported state of one delivery. */
export interface JournalEntry {
  deliveryId: string;
  chatId?: string;
  action: string;
  kind: string;
  outcome: JournalOutcome;
  attempts: number;
  receivedAt: number;
  updatedAt: number;
  durationMs?: number;
  error?: string;
  note?: string;
}

/** Outcome counts of one hour (`hour` = start, epoch ms). */
export interface HourlyCounts {
  hour: number;
  counts: Partial<Record<JournalOutcome, number>>;
}

const DDL = `
CREATE TABLE IF NOT EXISTS delivery_journal (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  delivery_id TEXT NOT NULL UNIQUE,
  chat_id TEXT,
  action TEXT NOT NULL,
  kind TEXT NOT NULL,
  outcome TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  duration_ms INTEGER,
  error TEXT,
  note TEXT
);
CREATE INDEX IF NOT EXISTS delivery_journal_outcome ON delivery_journal(outcome, seq);
CREATE INDEX IF NOT EXISTS delivery_journal_chat ON delivery_journal(chat_id, seq);
CREATE TABLE IF NOT EXISTS delivery_journal_hourly (
  hour INTEGER NOT NULL,
  outcome TEXT NOT NULL,
  n INTEGER NOT NULL,
  PRIMARY KEY (hour, outcome)
);`;

type Row = {
  seq: number;
  delivery_id: string;
  chat_id: string | null;
  action: string;
  kind: string;
  outcome: string;
  attempts: number;
  received_at: number;
  updated_at: number;
  duration_ms: number | null;
  error: string | null;
  note: string | null;
};

/**
 * The journal over the License DO's SQLite storage. All methods are synchronous SQL.
 *
 * @example
 * const journal = new DeliveryJournal(ctx.storage);
 * journal.record({ deliveryId, chatId, action, kind, outcome: "processed", attempt: 1, receivedAt, at: Date.now() });
 * journal.list({ limit: 50, outcome: "dead" });
 */
export class DeliveryJournal {
  private readonly now: () => number;
  private readonly keep: number;
  /** The hour (epoch ms / 1 h) old hourly counters were last dropped in. */
  private prunedHour = -1;

  constructor(
    private readonly storage: DurableObjectStorage,
    options: { now?: () => number; keep?: number } = {},
  ) {
    this.now = options.now ?? Date.now;
    this.keep = options.keep ?? JOURNAL_KEEP;
    storage.sql.exec(DDL);
  }

  /** Record several reports in order (a Chat DO's batch; see {@link record}). */
  recordAll(reports: readonly JournalReport[]): void {
    for (const report of reports) this.record(report);
  }

  /**
   * Record a report: upsert the delivery's entry unless a later report is already there (later =
   * greater `at`, then greater attempt; a replay restarts attempts but always ends later), count
   * the outcome in its hour, and drop what falls out of the retention bounds.
   */
  record(report: JournalReport): void {
    const sql = this.storage.sql;
    this.storage.transactionSync(() => {
      // Update the delivery's entry, or insert it when it has none. Not an upsert: SQLite takes an
      // AUTOINCREMENT number for every upsert, also one that only updates, and prune() relies on
      // seq growing by one per entry (a delivery reported 5 times cut the journal to a fifth).
      const updated = sql.exec(
        `UPDATE delivery_journal SET outcome = ?, attempts = ?, updated_at = ?, duration_ms = ?, error = ?, note = ?
         WHERE delivery_id = ? AND (? > updated_at OR (? = updated_at AND ? >= attempts))`,
        report.outcome,
        report.attempt,
        report.at,
        report.durationMs ?? null,
        report.error ?? null,
        report.note ?? null,
        report.deliveryId,
        report.at,
        report.at,
        report.attempt,
      );
      const seq =
        updated.rowsWritten > 0
          ? undefined
          : sql
              .exec<{ seq: number }>(
                `INSERT INTO delivery_journal (delivery_id, chat_id, action, kind, outcome, attempts, received_at, updated_at,
                   duration_ms, error, note)
                 SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
                 WHERE NOT EXISTS (SELECT 1 FROM delivery_journal WHERE delivery_id = ?)
                 RETURNING seq`,
                report.deliveryId,
                report.chatId ?? null,
                report.action,
                report.kind,
                report.outcome,
                report.attempt,
                report.receivedAt,
                report.at,
                report.durationMs ?? null,
                report.error ?? null,
                report.note ?? null,
                report.deliveryId,
              )
              .toArray()[0]?.seq;
      if (report.outcome !== "pending") {
        sql.exec(
          `INSERT INTO delivery_journal_hourly (hour, outcome, n) VALUES (?, ?, 1)
           ON CONFLICT(hour, outcome) DO UPDATE SET n = n + 1`,
          Math.floor(report.at / HOUR_MS) * HOUR_MS,
          report.outcome,
        );
      }
      if (seq !== undefined) this.prune(seq);
    });
  }

  /**
   * Mark a delivery as queued again (an operator replayed it), unless a report arrived since the
   * caller read the entry (`seenUpdatedAt`): the replayed attempt's own report then already tells.
   * `updated_at` is kept, so that report (always later) replaces this mark. No-op for unknown ids.
   */
  markReplayed(deliveryId: string, seenUpdatedAt: number): void {
    this.storage.sql.exec(
      "UPDATE delivery_journal SET outcome = 'pending', attempts = 0, error = NULL, note = 'replayed' WHERE delivery_id = ? AND updated_at = ?",
      deliveryId,
      seenUpdatedAt,
    );
  }

  /** One entry by delivery id. */
  get(deliveryId: string): JournalEntry | undefined {
    const row = this.storage.sql.exec<Row>("SELECT * FROM delivery_journal WHERE delivery_id = ?", deliveryId).toArray()[0];
    return row && toEntry(row);
  }

  /** Entries, newest first, optionally of one outcome and/or one chat; `since` bounds `updatedAt`. */
  list(options: { limit?: number; outcome?: JournalOutcome; chatId?: string; since?: number } = {}): JournalEntry[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    if (options.outcome) {
      where.push("outcome = ?");
      args.push(options.outcome);
    }
    if (options.chatId !== undefined) {
      where.push("chat_id = ?");
      args.push(options.chatId);
    }
    if (options.since !== undefined) {
      where.push("updated_at >= ?");
      args.push(options.since);
    }
    const limit = Math.max(1, Math.min(this.keep, Math.floor(options.limit ?? 50)));
    return this.storage.sql
      .exec<Row>(
        `SELECT * FROM delivery_journal ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY seq DESC LIMIT ?`,
        ...args,
        limit,
      )
      .toArray()
      .map(toEntry);
  }

  /** Outcome counts per hour for the last `hours` hours (oldest first, every hour present). */
  hourly(hours = 24): HourlyCounts[] {
    const current = Math.floor(this.now() / HOUR_MS) * HOUR_MS;
    const first = current - (hours - 1) * HOUR_MS;
    const rows = this.storage.sql
      .exec<{ hour: number; outcome: string; n: number }>(
        "SELECT hour, outcome, n FROM delivery_journal_hourly WHERE hour >= ? ORDER BY hour",
        first,
      )
      .toArray();
    const out: HourlyCounts[] = Array.from({ length: hours }, (_, i) => ({ hour: first + i * HOUR_MS, counts: {} }));
    for (const r of rows) {
      const bucket = out[(r.hour - first) / HOUR_MS];
      if (bucket) bucket.counts[r.outcome as JournalOutcome] = r.n;
    }
    return out;
  }

  /** Number of entries (for tests and the overview). */
  size(): number {
    return this.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM delivery_journal").one().n;
  }

  /**
   * Drop what falls out of the bounds after entry `seq` was inserted. Entries are only ever
   * inserted with a seq one above the last (record() never upserts) and never deleted otherwise, so
   * the newest {@link keep} are those above `seq - keep`: a range delete on the primary key, not a
   * scan. Old hours go once an hour.
   */
  private prune(seq: number): void {
    this.storage.sql.exec("DELETE FROM delivery_journal WHERE seq <= ?", seq - this.keep);
    const now = this.now();
    const hour = Math.floor(now / HOUR_MS);
    if (hour === this.prunedHour) return;
    this.prunedHour = hour;
    this.storage.sql.exec("DELETE FROM delivery_journal_hourly WHERE hour < ?", now - JOURNAL_HOURS_KEPT * HOUR_MS);
  }
}

function toEntry(row: Row): JournalEntry {
  return {
    deliveryId: row.delivery_id,
    ...(row.chat_id !== null ? { chatId: row.chat_id } : {}),
    action: row.action,
    kind: row.kind,
    outcome: row.outcome as JournalOutcome,
    attempts: row.attempts,
    receivedAt: row.received_at,
    updatedAt: row.updated_at,
    ...(row.duration_ms !== null ? { durationMs: row.duration_ms } : {}),
    ...(row.error !== null ? { error: row.error } : {}),
    ...(row.note !== null ? { note: row.note } : {}),
  };
}

/** The journal report of one finished inbox attempt (`onAttempt`). */
export function journalReport(event: AttemptEvent): JournalReport {
  const { delivery } = event;
  return {
    deliveryId: delivery.id,
    ...(delivery.chatId !== undefined ? { chatId: delivery.chatId } : {}),
    action: delivery.action,
    kind: delivery.kind,
    outcome: event.result,
    attempt: event.attempt,
    receivedAt: delivery.receivedAt,
    at: event.finishedAt,
    durationMs: Math.max(0, event.finishedAt - event.startedAt),
    ...(event.error !== undefined ? { error: event.error } : {}),
    ...(event.note !== undefined ? { note: event.note } : {}),
  };
}
