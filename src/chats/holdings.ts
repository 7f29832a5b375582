/** What one Chat DO holds (docs/DATA.md "Chats"): the answer of an erasure and of an operator's look. */
export interface ErasedChat {
  deliveries: number;
  deadLetters: number;
  dedupeClaims: number;
  timers: number;
  /** Keys of the chat's own store (src/chats/chat-store.ts). */
  storeKeys: number;
  /** Size of the DO's SQLite database (bytes). */
  bytes: number;
}

/** The tables counted, and the {@link ErasedChat} field each one feeds. */
const COUNTED: [table: string, field: Exclude<keyof ErasedChat, "bytes">][] = [
  ["deliveries", "deliveries"],
  ["delivery_dead_letters", "deadLetters"],
  ["delivery_dedupe", "dedupeClaims"],
  ["chat_timers", "timers"],
  ["chat_kv", "storeKeys"],
];

/**
 * Count the rows a Chat DO holds. `tables` (the names that exist) keeps the count from touching a
 * table that was never created; without it every table is assumed to exist.
 */
export function chatHoldings(sql: SqlStorage, tables?: Set<string>): ErasedChat {
  const held: ErasedChat = { deliveries: 0, deadLetters: 0, dedupeClaims: 0, timers: 0, storeKeys: 0, bytes: sql.databaseSize };
  for (const [table, field] of COUNTED) {
    if (tables && !tables.has(table)) continue;
    held[field] = sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`).one().n;
  }
  return held;
}
