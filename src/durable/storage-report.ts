/**
 * What a Durable Object (License or Chat) stores, for the operator (docs/DATA.md): rows per table,
 * bytes, storage keys, the oldest item kept and when the next prune runs. Reads only: it creates
 * no table, so looking at an erased DO leaves it empty.
 */

/** A DO's stored data as an operator sees it. */
export interface StorageReport {
  /** Rows per table (tables without rows left out). */
  rows: Record<string, number>;
  totalRows: number;
  /** Storage keys (settings, bot, grant, app events, …). */
  keys: number;
  /** Size of the DO's SQLite database (bytes; keys included). */
  bytes: number;
  /** Oldest delivery, dead letter or journal entry kept (epoch ms). */
  oldestItemAt?: number;
  /** When the inbox's next prune runs, or the tombstone's final erase (epoch ms). */
  nextPruneAt?: number;
}

/** Timestamp columns whose minimum is the age of what a table keeps. */
const OLDEST: [table: string, column: string][] = [
  ["deliveries", "received_at"],
  ["delivery_dead_letters", "dead_at"],
  ["delivery_journal", "received_at"],
];

/** Measure `storage` (scans: an operator's read). */
export async function storageReport(storage: DurableObjectStorage, nextPruneAt: number | undefined): Promise<StorageReport> {
  const sql = storage.sql;
  const tables = sql
    .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'")
    .toArray()
    .map((r) => r.name);
  const rows: Record<string, number> = {};
  for (const table of tables) {
    const n = sql.exec<{ n: number }>(`SELECT COUNT(*) AS n FROM "${table}"`).one().n;
    if (n > 0) rows[table] = n;
  }
  const oldest = OLDEST.filter(([table]) => tables.includes(table))
    .map(([table, column]) => sql.exec<{ at: number | null }>(`SELECT MIN(${column}) AS at FROM ${table}`).one().at)
    .filter((at): at is number => at !== null);
  const keys = (await storage.list()).size;
  return {
    rows,
    totalRows: Object.values(rows).reduce((a, b) => a + b, 0),
    keys,
    bytes: sql.databaseSize,
    ...(oldest.length > 0 ? { oldestItemAt: Math.min(...oldest) } : {}),
    ...(nextPruneAt !== undefined ? { nextPruneAt } : {}),
  };
}

/**
 * When deadline `name` is due as stored in the `alarm_deadlines` table (src/durable/alarms.ts),
 * read without building the DO's alarms or creating the table.
 */
export function storedDeadline(sql: SqlStorage, name: string): number | undefined {
  if (sql.exec("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alarm_deadlines'").toArray().length === 0) return undefined;
  return sql.exec<{ at: number }>("SELECT at FROM alarm_deadlines WHERE name = ?", name).toArray()[0]?.at;
}
