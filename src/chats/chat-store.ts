/**
 * A chat's own key/value store in its Chat DO's SQLite storage: what handlers remember about a
 * chat between deliveries (e.g. "nudged at", suggested tags). Values are JSON.
 */
import { lazySchema } from "../durable/lazy-schema";
import type { ChatStore } from "../framework/context";

const DDL = `CREATE TABLE IF NOT EXISTS chat_kv (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);`;

/** The SQLite implementation used by the Chat DO. */
export class SqlChatStore implements ChatStore {
  /** Created on first use: a Chat DO's first ack does not read the store (src/durable/lazy-schema.ts). */
  private readonly sql: () => SqlStorage;

  constructor(storage: DurableObjectStorage) {
    this.sql = lazySchema(storage, DDL);
  }

  async get<T = unknown>(key: string): Promise<T | undefined> {
    const row = this.sql().exec<{ value: string }>("SELECT value FROM chat_kv WHERE key = ?", key).toArray()[0];
    return row ? (JSON.parse(row.value) as T) : undefined;
  }

  async put(key: string, value: unknown): Promise<void> {
    const json = JSON.stringify(value);
    if (json === undefined) throw new TypeError(`chat store: value for ${key} is not JSON-serialisable`);
    this.sql().exec(
      "INSERT INTO chat_kv (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
      key,
      json,
      Date.now(),
    );
  }

  async delete(key: string): Promise<boolean> {
    return this.sql().exec("DELETE FROM chat_kv WHERE key = ?", key).rowsWritten > 0;
  }

  async list<T = unknown>(prefix = ""): Promise<[string, T][]> {
    return this.sql()
      .exec<{ key: string; value: string }>(
        "SELECT key, value FROM chat_kv WHERE substr(key, 1, ?) = ? ORDER BY key",
        // SQLite's substr counts characters (code points), `.length` UTF-16 units: an emoji is 1 and 2.
        [...prefix].length,
        prefix,
      )
      .toArray()
      .map((r) => [r.key, JSON.parse(r.value) as T]);
  }
}
