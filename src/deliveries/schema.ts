/**
 * SQLite tables of the durable inbox, created idempotently in each DO that hosts one
 * (License DO for license-scoped actions, Chat DO for chat-scoped ones).
 */

/**
 * DDL for `deliveries`, `delivery_dedupe` and `delivery_dead_letters`. Accepting a delivery is one
 * statement, an insert into `deliveries`: its trigger writes the dedupe claim, so claim and record
 * are atomic without a transaction around them (one statement and one savepoint fewer per ack).
 * (Notes here, not as SQL comments: the string ships in the bundle.)
 *
 * - `deliveries.id` is a random UUID with no index to maintain on every accept: processing
 *   addresses rows by `seq`, only operator lookups by id scan (a bounded table).
 * - `claim_expires_at` is set by accept(): the trigger claims `dedupe_key` until then; NULL claims
 *   nothing (a restored dead letter). accept() inserts only when no live claim holds the key, so the
 *   trigger replaces at most an expired one.
 * - No index on `status`: it cost every accept a second b-tree write. Processing finds the head of
 *   the queue from an in-memory lower bound (Inbox.pendingFrom) by seq; the other status queries
 *   are an operator's, over a bounded table.
 * - `delivery_dedupe` is WITHOUT ROWID: one b-tree keyed by the claim, not a rowid table plus a
 *   key index (one write per accept, not two); `claimed_at` is when the claiming webhook was
 *   received. No index on `expires_at`: it cost every accept an index write for the benefit of
 *   prune(), which runs at most hourly (PRUNE_INTERVAL_MS) and may scan.
 * - `delivery_dead_letters.delivery` is '' (the letter refers to its `deliveries` row, kept while
 *   the letter lives); older versions stored a JSON copy of the row there, still restorable.
 */
export const INBOX_DDL = `
CREATE TABLE IF NOT EXISTS deliveries (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL,
  kind TEXT NOT NULL,
  organization_id TEXT NOT NULL,
  license_id INTEGER,
  chat_id TEXT,
  action TEXT NOT NULL,
  webhook_id TEXT NOT NULL,
  dedupe_key TEXT NOT NULL,
  body TEXT NOT NULL,
  status TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER,
  last_error TEXT,
  note TEXT,
  handled TEXT NOT NULL DEFAULT '[]',
  received_at INTEGER NOT NULL,
  finished_at INTEGER,
  claim_expires_at INTEGER
);
DROP INDEX IF EXISTS deliveries_pending;
CREATE TABLE IF NOT EXISTS delivery_dedupe (
  key TEXT PRIMARY KEY,
  delivery_id TEXT NOT NULL,
  claimed_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;
DROP INDEX IF EXISTS delivery_dedupe_expires;
CREATE TRIGGER IF NOT EXISTS deliveries_claim AFTER INSERT ON deliveries WHEN NEW.claim_expires_at IS NOT NULL BEGIN
  INSERT OR REPLACE INTO delivery_dedupe (key, delivery_id, claimed_at, expires_at)
  VALUES (NEW.dedupe_key, NEW.id, NEW.received_at, NEW.claim_expires_at);
END;
CREATE TABLE IF NOT EXISTS delivery_dead_letters (
  delivery_id TEXT PRIMARY KEY,
  action TEXT NOT NULL,
  chat_id TEXT,
  dedupe_key TEXT NOT NULL,
  error TEXT NOT NULL,
  attempts INTEGER NOT NULL,
  dead_at INTEGER NOT NULL,
  delivery TEXT NOT NULL
);
`;

/** A `deliveries` row as SQLite returns it. */
export type DeliveryRow = {
  seq: number;
  id: string;
  kind: string;
  organization_id: string;
  license_id: number | null;
  chat_id: string | null;
  action: string;
  webhook_id: string;
  dedupe_key: string;
  body: string;
  status: string;
  attempts: number;
  next_attempt_at: number | null;
  last_error: string | null;
  note: string | null;
  handled: string;
  received_at: number;
  finished_at: number | null;
  claim_expires_at: number | null;
};

/** A `delivery_dead_letters` row. */
export type DeadLetterRow = {
  delivery_id: string;
  action: string;
  chat_id: string | null;
  dedupe_key: string;
  error: string;
  attempts: number;
  dead_at: number;
  /** '' (by reference), or a JSON copy of the row written by an older version. */
  delivery: string;
};

/**
 * Bring a `deliveries` table created by an older version up to {@link INBOX_DDL}'s columns (SQLite
 * has no ADD COLUMN IF NOT EXISTS). Runs before the DDL, whose trigger needs the column.
 */
export function migrateInbox(sql: SqlStorage): void {
  const columns = sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('deliveries')").toArray();
  if (columns.length > 0 && !columns.some((c) => c.name === "claim_expires_at")) {
    sql.exec("ALTER TABLE deliveries ADD COLUMN claim_expires_at INTEGER");
  }
}
