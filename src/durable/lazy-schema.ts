/**
 * The DO's SQL with `ddl` run just before the first statement that needs it, instead of in the
 * constructor. A Chat DO is constructed on the ack path (its first accept), which needs only the
 * inbox and alarm tables; creating the tables only processing uses (the chat's store and timers)
 * there cost a new chat's ack 60–100 µs of ~1.5 ms (`AB_MIX=new-chats npm run bench:ab`).
 * A DO runs one thing at a time, so the flag is safe; `CREATE … IF NOT EXISTS` makes a repeat
 * after a restart harmless.
 *
 * @example
 * private readonly sql = lazySchema(ctx.storage, "CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY)");
 * this.sql().exec("SELECT * FROM t");
 */
export function lazySchema(storage: DurableObjectStorage, ddl: string): () => SqlStorage {
  let created = false;
  return () => {
    if (!created) {
      storage.sql.exec(ddl);
      created = true;
    }
    return storage.sql;
  };
}
