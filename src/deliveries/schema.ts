/**
 * SQLite tables of the durable inbox, created idempotently in each DO that hosts one
 * (License DO for license-scoped actions, Chat DO for chat-scoped ones).
 */

/**
 * DDL for `deliveries`, `delivery_dedupe` and `delivery_dead_letters`. The webhook's ack writes one
 * row of `deliveries` with four values (id, kind, body, received_at): no trigger, no index, no claim,
 * so the append is one plain insert. Everything else is filled in after the 200, when processing
 * admits the row (src/deliveries/inbox.ts). (Notes here, not as SQL comments: the string ships in
 * the bundle.)
 *
 * - `body` is the webhook as received, without its `secret_key` (rows of older versions hold
 *   `{payload, additionalData, requester}`; both read alike).
 * - `dedupe_key` is NULL until the row is admitted (envelope, schema, dedupe key and claim);
 *   `organization_id`, `action`, `chat_id`, `webhook_id`, `license_id` are set then too.
 * - `deliveries.id` is a random UUID with no index to maintain: processing addresses rows by `seq`,
 *   only operator lookups by id scan (a bounded table). `seq` is the arrival order.
 * - No index on `status`: it would cost every ack a second b-tree write. Processing finds the head
 *   of the queue from an in-memory lower bound (Inbox.pendingFrom) by seq; the other status queries
 *   are an operator's, over a bounded table.
 * - `delivery_dedupe` is WITHOUT ROWID, keyed by the claim: a dedupe key, or the subject of a
 *   state-like change with `state` the key of its latest state. `claimed_at` is when the claiming
 *   webhook was received, `expires_at` that plus the key's window: a later row is its duplicate
 *   when it was received before the claim expired (arrival times, so processing late changes nothing).
 * - `delivery_dead_letters.delivery` is '' (the letter refers to its `deliveries` row, kept while
 *   the letter lives); older versions stored a JSON copy of the row there, still restorable.
 */
export const INBOX_DDL = `
CREATE TABLE IF NOT EXISTS deliveries (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  kind TEXT NOT NULL,
  body TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',
  organization_id TEXT,
  license_id INTEGER,
  chat_id TEXT,
  action TEXT,
  webhook_id TEXT,
  dedupe_key TEXT,
  attempts INTEGER NOT NULL DEFAULT 0,
  first_attempt_at INTEGER,
  next_attempt_at INTEGER,
  last_error TEXT,
  note TEXT,
  handled TEXT NOT NULL DEFAULT '[]',
  finished_at INTEGER
);
DROP INDEX IF EXISTS deliveries_pending;
DROP TRIGGER IF EXISTS deliveries_claim;
CREATE TABLE IF NOT EXISTS delivery_dedupe (
  key TEXT PRIMARY KEY,
  delivery_id TEXT NOT NULL,
  claimed_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  state TEXT
) WITHOUT ROWID;
DROP INDEX IF EXISTS delivery_dedupe_expires;
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
  body: string;
  received_at: number;
  status: string;
  organization_id: string | null;
  license_id: number | null;
  chat_id: string | null;
  action: string | null;
  webhook_id: string | null;
  /** NULL until processing admitted the row. */
  dedupe_key: string | null;
  attempts: number;
  first_attempt_at: number | null;
  next_attempt_at: number | null;
  last_error: string | null;
  note: string | null;
  handled: string;
  finished_at: number | null;
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

/** The columns an older `deliveries` table shares with {@link INBOX_DDL}'s, copied by {@link migrateInbox}. */
const KEPT_COLUMNS =
  "seq, id, kind, body, received_at, status, organization_id, license_id, chat_id, action, webhook_id, dedupe_key, attempts, next_attempt_at, last_error, note, handled, finished_at";

/**
 * Bring tables created by an older version up to {@link INBOX_DDL}'s: the claims get their `state`
 * column; `deliveries` (admission columns NOT NULL, a claim trigger) is rebuilt with its rows (SQLite
 * cannot relax NOT NULL in place; they keep their seq, status and bodies). Runs before the DDL, once.
 */
export function migrateInbox(storage: DurableObjectStorage): void {
  const sql = storage.sql;
  const claims = sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('delivery_dedupe')").toArray();
  if (claims.length > 0 && !claims.some((c) => c.name === "state")) sql.exec("ALTER TABLE delivery_dedupe ADD COLUMN state TEXT");
  const columns = sql.exec<{ name: string }>("SELECT name FROM pragma_table_info('deliveries')").toArray();
  if (columns.length === 0 || columns.some((c) => c.name === "first_attempt_at")) return;
  storage.transactionSync(() => {
    sql.exec("DROP TRIGGER IF EXISTS deliveries_claim; DROP INDEX IF EXISTS deliveries_pending; ALTER TABLE deliveries RENAME TO deliveries_old;");
    sql.exec(INBOX_DDL);
    sql.exec(`INSERT INTO deliveries (${KEPT_COLUMNS}) SELECT ${KEPT_COLUMNS} FROM deliveries_old; DROP TABLE deliveries_old;`);
  });
}
