/**
 * Retention of one durable inbox (docs/DATA.md): what is past its time goes, whether or not new
 * deliveries arrive. Kept apart from the inbox's accept and processing paths: this runs on the
 * `inbox:prune` deadline only, at most hourly, and may scan (there is no expiry index on purpose,
 * src/deliveries/schema.ts).
 */

/** One day in ms: retention is configured in days. */
export const DAY_MS = 24 * 60 * 60_000;

/** Finished deliveries (bodies included) are kept this long by default: `DELIVERY_RETENTION_DAYS`. */
export const DELIVERY_RETENTION_MS = 7 * DAY_MS;
/** Dead letters not replayed are kept this long by default: `DEAD_LETTER_RETENTION_DAYS`. */
export const DEAD_LETTER_TTL_MS = 14 * DAY_MS;
/** Terminal deliveries kept per DO at most (the newest ones), however young. */
export const KEEP_FINISHED_DELIVERIES = 200;

/**
 * A dead letter refers to its delivery row (src/deliveries/inbox.ts): the row stays while the
 * letter lives, whatever its age, and goes with the first prune after the letter.
 */
const NO_LETTER = "NOT EXISTS (SELECT 1 FROM delivery_dead_letters WHERE delivery_id = deliveries.id)";

/** How long an inbox keeps what it holds. */
export interface RetentionPolicy {
  /** A finished delivery (processed, skipped, not_installed, unprocessable, dead) is dropped this long after it finished. */
  deliveryMs: number;
  /** A dead letter is dropped this long after it died. */
  deadLetterMs: number;
  /** At most this many finished deliveries are kept, the newest. */
  keepFinished: number;
}

/** The production policy, or one built from the configured days. */
export function retentionPolicy(days: { deliveryRetentionDays?: number; deadLetterRetentionDays?: number } = {}): RetentionPolicy {
  return {
    deliveryMs: days.deliveryRetentionDays !== undefined ? days.deliveryRetentionDays * DAY_MS : DELIVERY_RETENTION_MS,
    deadLetterMs: days.deadLetterRetentionDays !== undefined ? days.deadLetterRetentionDays * DAY_MS : DEAD_LETTER_TTL_MS,
    keepFinished: KEEP_FINISHED_DELIVERIES,
  };
}

/** What one prune pass found and left. */
export interface PruneReport {
  /** Newest `received_at` the inbox held before the pass (undefined: it held no delivery). */
  newestReceivedAt?: number;
  /** When the next kept item expires, or undefined when nothing kept expires by age (nothing, or only pending deliveries, is left). */
  nextExpiry?: number;
  /** Whether anything (a delivery, a claim, a dead letter) is left after the pass. */
  holdsAnything: boolean;
}

/**
 * Drop expired dedupe claims, dead letters past `policy.deadLetterMs`, finished deliveries past
 * `policy.deliveryMs` and all but the newest `policy.keepFinished` finished ones (a row a dead
 * letter refers to goes with its letter). Waiting (pending or parked)
 * deliveries are never dropped (the processing pass that finishes one asks for a prune by its expiry).
 */
export function pruneInbox(sql: SqlStorage, now: number, policy: RetentionPolicy): PruneReport {
  const newest = sql.exec<{ at: number | null }>("SELECT MAX(received_at) AS at FROM deliveries").one().at;
  // A claim is compared with a delivery's arrival (src/deliveries/inbox.ts): one that expired may
  // still decide a delivery that arrived before its expiry and waits (a burst, a configuration problem).
  const oldestWaiting = sql
    .exec<{ at: number | null }>("SELECT MIN(received_at) AS at FROM deliveries WHERE status IN ('pending', 'parked')")
    .one().at;
  sql.exec("DELETE FROM delivery_dedupe WHERE expires_at <= ?", Math.min(now, oldestWaiting ?? now));
  sql.exec("DELETE FROM delivery_dead_letters WHERE dead_at <= ?", now - policy.deadLetterMs);
  sql.exec(`DELETE FROM deliveries WHERE status NOT IN ('pending', 'parked') AND finished_at <= ? AND ${NO_LETTER}`, now - policy.deliveryMs);
  pruneFinished(sql, policy.keepFinished);
  const next = sql
    .exec<{ claim: number | null; dead: number | null; finished: number | null; pending: number }>(
      `SELECT (SELECT MIN(expires_at) FROM delivery_dedupe) AS claim,
              (SELECT MIN(dead_at) FROM delivery_dead_letters) AS dead,
              (SELECT MIN(finished_at) FROM deliveries WHERE status NOT IN ('pending', 'parked') AND ${NO_LETTER}) AS finished,
              (SELECT COUNT(*) FROM deliveries WHERE status IN ('pending', 'parked')) AS pending`,
    )
    .one();
  const candidates = [
    next.claim,
    next.dead === null ? null : next.dead + policy.deadLetterMs,
    next.finished === null ? null : next.finished + policy.deliveryMs,
  ].filter((at): at is number => at !== null);
  return {
    ...(newest !== null ? { newestReceivedAt: newest } : {}),
    ...(candidates.length > 0 ? { nextExpiry: Math.min(...candidates) } : {}),
    holdsAnything: candidates.length > 0 || next.pending > 0,
  };
}

/** Keep only the newest `keep` finished deliveries, and every row a live dead letter refers to (waiting ones are never touched). */
export function pruneFinished(sql: SqlStorage, keep: number): void {
  sql.exec(
    `DELETE FROM deliveries WHERE status NOT IN ('pending', 'parked') AND seq <= (
       SELECT seq FROM deliveries WHERE status NOT IN ('pending', 'parked') ORDER BY seq DESC LIMIT 1 OFFSET ?)
     AND ${NO_LETTER}`,
    keep,
  );
}

/** Rows an inbox holds and the oldest thing it keeps, for an operator's view of stored data. */
export interface InboxHoldings {
  deliveries: number;
  deadLetters: number;
  dedupeClaims: number;
  /** Oldest `received_at` / `dead_at` kept (epoch ms), or undefined when empty. */
  oldestAt?: number;
}

/** Count what the inbox holds (scans; an operator's read). */
export function inboxHoldings(sql: SqlStorage): InboxHoldings {
  const row = sql
    .exec<{ d: number; l: number; c: number; od: number | null; ol: number | null }>(
      `SELECT (SELECT COUNT(*) FROM deliveries) AS d, (SELECT COUNT(*) FROM delivery_dead_letters) AS l,
              (SELECT COUNT(*) FROM delivery_dedupe) AS c, (SELECT MIN(received_at) FROM deliveries) AS od,
              (SELECT MIN(dead_at) FROM delivery_dead_letters) AS ol`,
    )
    .one();
  const oldest = [row.od, row.ol].filter((v): v is number => v !== null);
  return {
    deliveries: row.d,
    deadLetters: row.l,
    dedupeClaims: row.c,
    ...(oldest.length > 0 ? { oldestAt: Math.min(...oldest) } : {}),
  };
}
