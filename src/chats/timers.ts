import type { Config } from "../config";
import type { Json } from "../deliveries/types";
import type { NamedAlarms } from "../durable/alarms";
import { lazySchema } from "../durable/lazy-schema";
import { type ChatStore, type ChatTimers, type LicenseRpc, type LiveChatApis, liveChatApis, type PendingTimer } from "../framework/context";
import type { TimerRegistry } from "../framework/timers";
import type { Logger } from "../log";

/**
 * Per-chat logical timers (INTERNALS.md "Durable objects"): named deadlines `timer:<name>` on the
 * Chat DO's {@link NamedAlarms}, with the organization, chat and a JSON `data` value kept in the
 * DO's SQLite storage. Timers therefore survive restarts; a fired timer is run by the handler
 * registered for the part of its name before the first `:` (e.g. `reply`), and removed only
 * after that handler returned (alarms are at-least-once: handlers must be idempotent).
 */

/** Prefix of the timers' deadlines on the Chat DO's alarm. */
export const TIMER_PREFIX = "timer:";
/**
 * Runs of a timer whose handler threw in a row before it is given up (logged as an error): the
 * retries back off to 5 minutes, so a handler that can never succeed would otherwise wake its
 * chat's DO every 5 minutes for ever. With the backoff, about 9 minutes of tries.
 */
export const MAX_TIMER_FAILURES = 10;

/** What a Chat DO gives its timers. */
export interface ChatTimersDeps {
  alarms: NamedAlarms;
  storage: DurableObjectStorage;
  store: ChatStore;
  registry: TimerRegistry;
  license: (organizationId: string) => LicenseRpc;
  config: () => Pick<Config, "apiUrl" | "apiVersion">;
  log: Logger;
}

const DDL = `CREATE TABLE IF NOT EXISTS chat_timers (
  name TEXT PRIMARY KEY,
  organization_id TEXT NOT NULL,
  chat_id TEXT NOT NULL,
  data TEXT NOT NULL
);`;

type Row = { name: string; organization_id: string; chat_id: string; data: string };

/** One chat's timers, in the Chat DO's SQLite storage and alarm. */
export class SqlChatTimers implements ChatTimers {
  /** Created on first use: a Chat DO's first ack starts no timer (src/durable/lazy-schema.ts). */
  private readonly sql: () => SqlStorage;

  constructor(private readonly deps: ChatTimersDeps) {
    this.sql = lazySchema(deps.storage, DDL);
    deps.alarms.handle(TIMER_PREFIX, (deadline, at, failures) => this.fire(deadline.slice(TIMER_PREFIX.length), at, failures));
  }

  /**
   * Start (or move) timer `name` to fire at `at`. `mode: "keep"` leaves a running timer as it is
   * (and returns false); `"replace"` moves it. Returns true when the timer was set.
   */
  async start(
    name: string,
    at: number,
    timer: { organizationId: string; chatId: string; data?: Json },
    mode: "replace" | "keep" = "replace",
  ): Promise<boolean> {
    if (mode === "keep" && this.deps.alarms.deadline(TIMER_PREFIX + name) !== undefined) return false;
    const data = JSON.stringify(timer.data ?? null);
    this.sql().exec(
      `INSERT INTO chat_timers (name, organization_id, chat_id, data) VALUES (?, ?, ?, ?)
       ON CONFLICT(name) DO UPDATE SET organization_id = excluded.organization_id, chat_id = excluded.chat_id, data = excluded.data`,
      name,
      timer.organizationId,
      timer.chatId,
      data,
    );
    await this.deps.alarms.schedule(TIMER_PREFIX + name, at);
    return true;
  }

  /** Stop timer `name`; true when it was pending. */
  async cancel(name: string): Promise<boolean> {
    const pending = this.deps.alarms.deadline(TIMER_PREFIX + name) !== undefined;
    this.sql().exec("DELETE FROM chat_timers WHERE name = ?", name);
    await this.deps.alarms.cancel(TIMER_PREFIX + name);
    return pending;
  }

  /** Stop every timer of the chat; returns how many were pending. */
  async cancelAll(): Promise<number> {
    const pending = this.deps.alarms.list(TIMER_PREFIX);
    for (const { name } of pending) await this.deps.alarms.cancel(name);
    this.sql().exec("DELETE FROM chat_timers");
    return pending.length;
  }

  /** Timer `name` if it is pending. */
  get(name: string): PendingTimer | undefined {
    const due = this.deps.alarms.deadline(TIMER_PREFIX + name);
    return due === undefined ? undefined : this.withData(name, due);
  }

  /** Pending timers, earliest first. */
  list(): PendingTimer[] {
    return this.deps.alarms
      .list(TIMER_PREFIX)
      .map((d) => this.withData(d.name.slice(TIMER_PREFIX.length), d.at))
      .filter((t): t is PendingTimer => t !== undefined);
  }

  private row(name: string): Row | undefined {
    return this.sql().exec<Row>("SELECT * FROM chat_timers WHERE name = ?", name).toArray()[0];
  }

  private withData(name: string, due: number): PendingTimer | undefined {
    const row = this.row(name);
    if (!row) return undefined;
    return { name, due, organizationId: row.organization_id, chatId: row.chat_id, data: JSON.parse(row.data) as Json };
  }

  /**
   * A due deadline: run its handler with a context; forget its data unless the handler re-armed it.
   * Dropped without running: a timer whose handler failed {@link MAX_TIMER_FAILURES} times in a row,
   * and one of a license that is not installed (any more): its handler could not call LiveChat.
   */
  private async fire(name: string, at: number, failures: number): Promise<void> {
    const timer = this.withData(name, at);
    const log = this.deps.log.child({ timer: name });
    if (!timer) {
      log.warn("timer fired without its data; dropped");
      return;
    }
    const forget = () => this.sql().exec("DELETE FROM chat_timers WHERE name = ?", name);
    const ids = { organization_id: timer.organizationId, chat_id: timer.chatId };
    const handler = this.deps.registry.handlerFor(name);
    if (!handler) {
      log.error("no handler for timer; dropped", ids);
      forget();
      return;
    }
    if (failures >= MAX_TIMER_FAILURES) {
      log.error("timer handler failed too often; timer given up", { ...ids, failures });
      forget();
      return;
    }
    const license = this.deps.license(timer.organizationId);
    if (!(await license.installation()).installed) {
      log.info("license not installed; timer dropped", ids);
      forget();
      return;
    }
    let api: LiveChatApis | undefined;
    const config = this.deps.config;
    await handler({
      timer,
      organizationId: timer.organizationId,
      chatId: timer.chatId,
      license,
      get api() {
        return (api ??= liveChatApis(config(), license));
      },
      chat: { id: timer.chatId, organizationId: timer.organizationId, store: this.deps.store, timers: this },
      log: log.child(ids),
    });
    // The deadline row is removed by NamedAlarms after we return, unless the handler moved it.
    const next = this.deps.alarms.deadline(TIMER_PREFIX + name);
    if (next === undefined || next <= at) forget();
  }
}
