/**
 * The License DO's index of its chats that may still hold data (docs/DATA.md "Licenses"): how an
 * uninstall or an operator's erase reaches every Chat DO of the license. Bounded by design: a Chat
 * DO erases itself at most `DEAD_LETTER_RETENTION_DAYS` after its last delivery
 * (src/chats/retention.ts), so only chats seen within that window (plus a day) are kept (pruned
 * daily), and never
 * more than {@link MAX_INDEXED_CHATS}. A chat dropped from the index early is not lost to an
 * uninstall: its own prune alarm finds the license uninstalled and erases it.
 *
 * Fed off the ack path, from the journal reports a Chat DO sends after each processing pass: one
 * statement per report batch, which writes a chat's row at most once an hour.
 */
import { lazySchema } from "../durable/lazy-schema";

/** Most chats indexed per license; past it the longest quiet ones are dropped (~100 bytes each). */
export const MAX_INDEXED_CHATS = 100_000;
/** A chat's `last_seen_at` is rewritten at most this often. */
const TOUCH_MS = 3_600_000;
/** The index is pruned at most this often (a scan: there is no index on `last_seen_at`, which every write would pay). */
const PRUNE_EVERY_MS = 24 * 3_600_000;

const DDL = `CREATE TABLE IF NOT EXISTS license_chats (
  chat_id TEXT PRIMARY KEY,
  last_seen_at INTEGER NOT NULL
) WITHOUT ROWID;`;

/** The index over the License DO's SQLite storage. */
export class ChatIndex {
  private readonly sql: () => SqlStorage;
  /** The day (epoch ms / {@link PRUNE_EVERY_MS}) the index was last pruned in. */
  private prunedDay = -1;

  constructor(
    storage: DurableObjectStorage,
    private readonly options: { windowMs: () => number; max?: number },
  ) {
    this.sql = lazySchema(storage, DDL);
  }

  /** Note that `chatIds` were active at `at`; prunes at most once a day. */
  note(chatIds: Iterable<string>, at: number): void {
    const ids = [...new Set(chatIds)];
    if (ids.length > 0) {
      this.sql().exec(
        `INSERT INTO license_chats (chat_id, last_seen_at) SELECT value, ? FROM json_each(?) WHERE true
         ON CONFLICT(chat_id) DO UPDATE SET last_seen_at = excluded.last_seen_at
         WHERE license_chats.last_seen_at < excluded.last_seen_at - ?`,
        at,
        JSON.stringify(ids),
        TOUCH_MS,
      );
    }
    const day = Math.floor(at / PRUNE_EVERY_MS);
    if (day !== this.prunedDay) {
      this.prunedDay = day;
      this.prune(at);
    }
  }

  /** Drop chats quiet longer than the window, then the quietest past {@link MAX_INDEXED_CHATS}. */
  prune(now: number): void {
    const sql = this.sql();
    sql.exec("DELETE FROM license_chats WHERE last_seen_at < ?", now - this.options.windowMs());
    const max = this.options.max ?? MAX_INDEXED_CHATS;
    const over = sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM license_chats").one().n - max;
    if (over > 0) {
      sql.exec(
        "DELETE FROM license_chats WHERE chat_id IN (SELECT chat_id FROM license_chats ORDER BY last_seen_at LIMIT ?)",
        over,
      );
    }
  }

  /** Up to `limit` indexed chat ids (any order). */
  take(limit: number): string[] {
    return this.sql()
      .exec<{ chat_id: string }>("SELECT chat_id FROM license_chats LIMIT ?", limit)
      .toArray()
      .map((r) => r.chat_id);
  }

  /** Forget chats (erased). */
  forget(chatIds: string[]): void {
    if (chatIds.length === 0) return;
    this.sql().exec("DELETE FROM license_chats WHERE chat_id IN (SELECT value FROM json_each(?))", JSON.stringify(chatIds));
  }

  /** How many chats are indexed. */
  count(): number {
    return this.sql().exec<{ n: number }>("SELECT COUNT(*) AS n FROM license_chats").one().n;
  }
}
