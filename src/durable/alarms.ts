/**
 * Named deadlines multiplexed over a Durable Object's single alarm (INTERNALS.md "Durable objects").
 *
 * Each deadline is a row `(name, at, version, failures)` in the DO's SQLite storage; the storage
 * alarm is kept armed for the earliest row. `run()` (called from the DO's `alarm()`) executes every
 * due deadline through the handler registered for its name prefix and re-arms for the next one.
 *
 * Alarms are at-least-once and a DO can restart mid-handler, so:
 * - a due row is removed only after its handler returned, and only if nobody rescheduled it
 *   meanwhile (the in-memory `version` check): a crash leaves it due, and the next alarm runs it again;
 * - a row that an earlier handler of the same pass cancelled or moved later is not run by that pass;
 * - a spurious or repeated alarm finds nothing due and only re-arms;
 * - handlers must therefore be idempotent.
 *
 * A handler that throws is retried with backoff. The failure count and the retry time go to the
 * row as it is when the handler returns, also when it was scheduled again during the pass (every
 * stored delivery schedules `inbox:process` "earliest"): else it stays due with no failures, and
 * a handler that fails every time runs again at once, over and over. After the pass, scheduling
 * starts afresh; a caller that should not pull a failing deadline back asks {@link NamedAlarms.backingOff}.
 *
 * The runtime gives up on an alarm whose handler keeps failing (six retries with backoff, Cloudflare
 * docs "Durable Objects > Alarms"), e.g. while the DO's constructor throws, and then no alarm is
 * set although the rows are still due. So the storage alarm is not trusted blindly: a new instance
 * reads it once (`getAlarm`) before relying on it, and an overdue earliest deadline with no pass
 * running gets `setAlarm` again (workerd writes nothing when the alarm is still set for that time).
 *
 * The rows are mirrored in memory (the DO is their only writer and runs one thing at a time), so
 * scheduling on the hot path (every stored delivery) costs no read but that one `getAlarm` per
 * instance, an upsert only when the stored row changes (none for a volatile deadline, kept in
 * memory only), and a `setAlarm` only when the earliest deadline moves or is overdue with no pass
 * running; an unchanged earliest deadline in the future is checked in memory alone. The `version` that protects a rescheduled row from its running pass
 * is compared in memory: only this instance runs passes.
 */
import type { Logger } from "../log";

/**
 * Runs one due deadline. `name` is the full deadline name, `at` the time it was due, `failures`
 * how many runs of it threw in a row before this one (0 the first time).
 */
export type DeadlineHandler = (name: string, at: number, failures: number) => Promise<void> | void;

/** Options for {@link NamedAlarms}. */
export interface NamedAlarmsOptions {
  /** Clock (ms since epoch); injectable for tests. */
  now?: () => number;
  /** Delay before a deadline whose handler threw is tried again (ms), by consecutive failure count. */
  retryDelayMs?: (failures: number) => number;
  /** Called when a handler throws (after the retry is scheduled); never receives secrets from this module. */
  onError?: (name: string, error: unknown) => void;
}

/** One pending deadline. */
export interface Deadline {
  name: string;
  at: number;
}

/** A deadline; `volatile` ones live in memory only (see {@link NamedAlarms.schedule}). */
type Row = { name: string; at: number; version: number; failures: number; volatile?: boolean };
type StoredRow = Omit<Row, "volatile">;

const DDL = `CREATE TABLE IF NOT EXISTS alarm_deadlines (
  name TEXT PRIMARY KEY,
  at INTEGER NOT NULL,
  version INTEGER NOT NULL DEFAULT 0,
  failures INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
DROP INDEX IF EXISTS alarm_deadlines_at;`; // rows are read once per instance (mirrored in memory), never by time

const defaultRetryDelay = (failures: number) => Math.min(1_000 * 2 ** Math.max(0, failures - 1), 5 * 60_000);

/**
 * Named deadlines over one DO alarm.
 *
 * @example
 * // in the DO constructor
 * this.alarms = new NamedAlarms(ctx.storage).handle("deliveries", () => this.inbox.process(...));
 * // anywhere
 * await this.alarms.schedule("timer:reply", Date.now() + 120_000);
 * // the DO's alarm()
 * override async alarm() { await this.alarms.run(); }
 */
export class NamedAlarms {
  private readonly handlers: { prefix: string; handler: DeadlineHandler }[] = [];
  private readonly now: () => number;
  private readonly retryDelayMs: (failures: number) => number;
  private readonly onError: (name: string, error: unknown) => void;
  private running: Promise<void> | undefined;
  private rerun = false;
  /** The `alarm_deadlines` rows, by name: read once, then kept in step with every write. */
  private readonly rows = new Map<string, Row>();
  /** The storage alarm as this instance last set or read it; undefined until known. */
  private armed: number | null | undefined;
  /**
   * Highest version written. Versions only grow, even across a cancel, so a pass that ran an old
   * version never mistakes a deadline cancelled and scheduled again meanwhile for its own.
   */
  private lastVersion = 0;

  constructor(
    private readonly storage: DurableObjectStorage,
    options: NamedAlarmsOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.retryDelayMs = options.retryDelayMs ?? defaultRetryDelay;
    this.onError = options.onError ?? (() => {});
    storage.sql.exec(DDL);
    for (const row of storage.sql.exec<StoredRow>("SELECT name, at, version, failures FROM alarm_deadlines")) {
      this.rows.set(row.name, row);
      this.lastVersion = Math.max(this.lastVersion, row.version);
    }
  }

  /**
   * Register the handler for deadlines whose name equals `prefix` or starts with it
   * (the longest matching prefix wins). Returns `this` for chaining.
   */
  handle(prefix: string, handler: DeadlineHandler): this {
    this.handlers.push({ prefix, handler });
    this.handlers.sort((a, b) => b.prefix.length - a.prefix.length);
    return this;
  }

  /**
   * Set deadline `name` to `at` (ms since epoch) and re-arm the DO alarm if needed.
   * `mode: "earliest"` keeps an existing earlier deadline instead of moving it later.
   * `volatile`: keep the deadline in memory only (unless a stored one exists), arming the storage
   * alarm alone: for work whose own storage says it is due, which its owner finds again after a
   * restart (the inbox's pending deliveries, Inbox.recover). Then the webhook's ack writes no row.
   */
  async schedule(name: string, at: number, mode: "replace" | "earliest" = "replace", options: { volatile?: boolean } = {}): Promise<void> {
    const before = this.earliest();
    const existing = this.rows.get(name);
    const when = Math.floor(at);
    const volatile = options.volatile === true && (!existing || existing.volatile === true);
    const row: Row = {
      name,
      at: existing && mode === "earliest" ? Math.min(existing.at, when) : when,
      version: ++this.lastVersion,
      failures: 0,
      ...(volatile ? { volatile } : {}),
    };
    // The version bump is what keeps a running pass from deleting this deadline when its handler
    // returns (see runOnce()); it is compared in memory only, so a row whose time and failure count
    // stay the same is not written again.
    if (!volatile && (!existing || existing.volatile || existing.at !== row.at || existing.failures !== 0)) {
      this.storage.sql.exec(
        `INSERT INTO alarm_deadlines (name, at, version, failures) VALUES (?, ?, ?, 0)
         ON CONFLICT(name) DO UPDATE SET at = excluded.at, version = excluded.version, failures = 0`,
        name,
        row.at,
        row.version,
      );
    }
    this.rows.set(name, row);
    // The earliest deadline did not change, so the storage alarm is armed for it (every change of
    // the earliest row re-arms, and a running pass re-arms when it ends): a check in memory alone,
    // once this instance has read the alarm, while that deadline lies ahead or a pass is running.
    // Otherwise arm() reads it (first call of this instance) or sets it again (overdue).
    const next = this.earliest();
    if (before !== null && next === before && this.armed !== undefined && (next > this.now() || this.running !== undefined)) return;
    await this.arm();
  }

  /**
   * Make sure the storage alarm is armed for the earliest deadline, changing no deadline: a check
   * in memory while that deadline lies ahead (or a pass runs); otherwise the alarm is read (once per
   * instance) and set again when it is missing or overdue, as after the runtime gave up on it.
   */
  async ensureArmed(): Promise<void> {
    const next = this.earliest();
    if (next === null) return;
    if (this.armed !== undefined && (next > this.now() || this.running !== undefined)) return;
    await this.arm();
  }

  /** Remove deadline `name` (no-op when absent) and re-arm for the next one. */
  async cancel(name: string): Promise<void> {
    const row = this.rows.get(name);
    if (!row) return;
    this.rows.delete(name);
    if (!row.volatile) this.storage.sql.exec("DELETE FROM alarm_deadlines WHERE name = ?", name);
    await this.arm();
  }

  /**
   * Forget every deadline in memory after the DO's storage was erased (`deleteAll`, which also took
   * the table and, with `deleteAlarm`, the alarm): a pass running now then removes and re-arms nothing.
   */
  forgetAll(): void {
    this.rows.clear();
    this.armed = null;
  }

  /** When deadline `name` is due, or undefined when it is not set. */
  deadline(name: string): number | undefined {
    return this.rows.get(name)?.at;
  }

  /** Whether deadline `name` waits for a retry after its handler threw (the retry lies ahead). In memory. */
  backingOff(name: string): boolean {
    const row = this.rows.get(name);
    return row !== undefined && row.failures > 0 && row.at > this.now();
  }

  /** Pending deadlines, earliest first, optionally only those whose name starts with `prefix`. */
  list(prefix = ""): Deadline[] {
    return [...this.rows.values()]
      .filter((r) => r.name.startsWith(prefix))
      .sort(byTimeThenName)
      .map(({ name, at }) => ({ name, at }));
  }

  /**
   * Run every due deadline (`at <= now`), then re-arm for the next. Call from the DO's `alarm()`.
   * An alarm that fires early or twice runs nothing before its time and only re-arms.
   * Concurrent calls share one pass (plus one more pass if a call arrived mid-run).
   * A handler that throws is retried later with backoff; the others still run.
   */
  run(): Promise<void> {
    if (this.running) {
      this.rerun = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.rerun = false;
          await this.runOnce();
        } while (this.rerun);
      } finally {
        this.running = undefined;
        // Always write the alarm after a pass: the runtime clears the alarm that invoked us.
        await this.arm(true);
      }
    })();
    return this.running;
  }

  private async runOnce(): Promise<void> {
    const now = this.now();
    const due = [...this.rows.values()].filter((r) => r.at <= now).sort(byTimeThenName);
    for (const snapshot of due) {
      // An earlier handler of this pass (or a request meanwhile) may have cancelled this deadline
      // or moved it later: then it is not due any more (a reply timer moved by an agent's answer
      // must not fire now). One scheduled again for a time that is still due runs as it is now.
      const row = this.rows.get(snapshot.name);
      if (!row || row.at > now) continue;
      const handler = this.handlers.find((h) => row.name.startsWith(h.prefix))?.handler;
      try {
        if (!handler) throw new Error(`no handler for deadline ${row.name}`);
        await handler(row.name, row.at, row.failures);
        // Remove only the version we ran: a handler (or a request meanwhile) may have rescheduled it.
        if (this.rows.get(row.name)?.version !== row.version) continue;
        if (!row.volatile) this.storage.sql.exec("DELETE FROM alarm_deadlines WHERE name = ?", row.name);
        this.rows.delete(row.name);
      } catch (error) {
        // The count and the backoff go to the row as it is now: scheduled again during the pass
        // ("earliest" by every stored delivery) it would otherwise be due at once with no failures,
        // and a handler that fails every time would run over and over. A cancelled one stays cancelled.
        const current = this.rows.get(row.name);
        if (current) {
          const failures = row.failures + 1;
          const at = Math.max(current.at, this.now() + this.retryDelayMs(failures));
          // A volatile deadline whose handler failed is stored from now on: its backoff must survive a restart.
          this.storage.sql.exec(
            `INSERT INTO alarm_deadlines (name, at, version, failures) VALUES (?, ?, ?, ?)
             ON CONFLICT(name) DO UPDATE SET at = excluded.at, failures = excluded.failures`,
            row.name,
            at,
            current.version,
            failures,
          );
          this.rows.set(row.name, { name: row.name, at, version: current.version, failures });
        }
        this.onError(row.name, error);
      }
    }
  }

  /** The earliest deadline's time, or null when there is none. */
  private earliest(): number | null {
    let min: number | null = null;
    for (const row of this.rows.values()) if (min === null || row.at < min) min = row.at;
    return min;
  }

  /**
   * Point the storage alarm at the earliest deadline, or clear it when there is none. `force`
   * (after a pass) reads the alarm first: the runtime clears the alarm that invoked the pass. A new
   * instance reads it once too: the runtime may have given up on it (see the header). An overdue
   * deadline with no pass running is set again: its alarm should have run it already.
   */
  private async arm(force = false): Promise<void> {
    const next = this.earliest();
    if (force || this.armed === undefined) this.armed = await this.storage.getAlarm();
    if (next === null) {
      if (this.armed !== null) await this.storage.deleteAlarm();
    } else if (force || this.armed !== next || (next <= this.now() && !this.running)) {
      await this.storage.setAlarm(next);
    }
    this.armed = next;
  }
}

function byTimeThenName(a: Row, b: Row): number {
  return a.at - b.at || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
}

/** A DO's named alarms, with failures of any deadline logged. Other modules add their deadlines to it. */
export function namedAlarms(storage: DurableObjectStorage, log: Logger): NamedAlarms {
  return new NamedAlarms(storage, {
    onError: (name, error) => log.error("deadline failed", { deadline: name, error }),
  });
}
