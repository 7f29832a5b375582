import { requireConfig } from "../config";
import type { NamedAlarms } from "../durable/alarms";
import type { PendingTimer } from "../framework/context";
import { type DeliveryHost, deliveryHost, namedAlarms } from "../framework/host";
import type { AcceptResult, RerunResult, WireDelivery } from "../deliveries/types";
import { type JournalReport, journalReport, unprocessableReport } from "../licenses/journal";
import { router, timers } from "../handlers";
import { licenseStub } from "../licenses/stub";
import { createLogger, type Logger } from "../log";
import { SqlChatStore } from "./chat-store";
import { LicenseCache } from "./license-cache";
import { SqlChatTimers } from "./timers";
import { InboxObject } from "../deliveries/inbox-object";

/** One logger for every Chat DO of the isolate: its fields are the same for all of them. */
const chatLog = createLogger({ component: "chat" });

/**
 * Chat Durable Object: one per (organization_id, chat_id). Records the chat's deliveries durably
 * before the ack, processes them in arrival order on its alarm, and keeps the chat's own state
 * (docs/ARCHITECTURE.md "The data's way through the Worker"). A thin RPC shell over its modules.
 */
export class Chat extends InboxObject {
  /** Named deadlines over the DO's one alarm: delivery processing and the chat's timers. */
  private readonly alarms: NamedAlarms;
  /** The chat's logical timers (`timer:<name>` deadlines), e.g. the bot's reply timer. */
  private readonly timers: SqlChatTimers;
  protected readonly deliveries: DeliveryHost;
  private readonly store: SqlChatStore;
  private readonly log: Logger;
  /** Journal reports to the License DO, sent one after another, never awaited by processing. */
  private reporting: Promise<void> = Promise.resolve();
  /** Reports of the current processing pass, by organization; sent as one batch when it ends. */
  private readonly unsent = new Map<string, JournalReport[]>();
  /** The license facts handlers read, shared for a few seconds (src/chats/license-cache.ts). */
  private readonly license: LicenseCache;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    const log = (this.log = chatLog);
    this.license = new LicenseCache((organizationId) => licenseStub(env, organizationId), {
      ttlMs: () => requireConfig(env).licenseCacheTtlMs,
    });
    this.alarms = namedAlarms(ctx.storage, log);
    this.store = new SqlChatStore(ctx.storage);
    this.timers = new SqlChatTimers({
      alarms: this.alarms,
      storage: ctx.storage,
      store: this.store,
      registry: timers,
      license: (organizationId) => this.license.handle(organizationId),
      config: () => requireConfig(env),
      log,
    });
    this.deliveries = deliveryHost(ctx.storage, this.alarms, {
      router,
      config: () => requireConfig(env),
      // The Chat DO reaches its license over RPC, its handler reads through the short-lived cache.
      license: (organizationId) => this.license.handle(organizationId),
      chat: (delivery) =>
        delivery.chatId === undefined
          ? undefined
          : { id: delivery.chatId, organizationId: delivery.organizationId, store: this.store, timers: this.timers },
      log,
    }, {
      // Off the ack path: tell the license's journal how each attempt ended (src/licenses/journal.ts).
      // Batched per processing pass: one RPC when the pass ends, not one per attempt.
      onAttempt: (event) => this.report(event.delivery.organizationId, () => journalReport(event), false),
      onPassEnd: () => this.flushReports(),
    });
  }

  // ── Deliveries (src/deliveries) ──────────────────────────────────────────────

  /** Store a chat-scoped delivery (dedupe claim + record, atomically) and schedule processing. */
  async accept(delivery: WireDelivery): Promise<AcceptResult> {
    const result = await this.deliveries.inbox.accept(delivery);
    if (result.outcome === "unprocessable") {
      this.report(delivery.organizationId, () => unprocessableReport(delivery, result.deliveryId, Date.now()));
    }
    return result;
  }

  /** Operator replay of any recorded delivery (dead, or finished: only incomplete handlers run). */
  rerunDelivery(deliveryId: string): Promise<RerunResult> {
    return this.deliveries.inbox.rerun(deliveryId);
  }

  /**
   * Queue a journal report for the License DO and, when `flush` (not mid-pass: the pass's end
   * flushes), send the queue now. Reports go out in the background and in order. A failure is logged and
   * dropped: the journal is an index for operators, never a reason to fail or delay a delivery.
   */
  private report(organizationId: string, make: () => JournalReport, flush = true): void {
    let report: JournalReport;
    try {
      report = make();
    } catch (error) {
      this.log.warn("delivery journal report failed", { error });
      return;
    }
    const queue = this.unsent.get(organizationId);
    if (queue) queue.push(report);
    else this.unsent.set(organizationId, [report]);
    if (flush) this.flushReports();
  }

  /** Send every queued report, one `journalReport` RPC per organization, after the ones already sent. */
  private flushReports(): void {
    for (const [organizationId, reports] of this.unsent) {
      this.unsent.delete(organizationId);
      this.reporting = this.reporting
        .then(() => licenseStub(this.env, organizationId).journalReport(reports))
        .catch((error: unknown) =>
          this.log.warn("delivery journal report failed", { organization_id: organizationId, reports: reports.length, error }),
        );
    }
    this.ctx.waitUntil(this.reporting);
  }

  // ── Timers (src/chats/timers.ts) ───────────────────────────────────────────────

  /** The chat's pending timers, earliest first: name, due time (ms), organization, chat and data. */
  async pendingTimers(): Promise<PendingTimer[]> {
    return this.timers.list();
  }
}
