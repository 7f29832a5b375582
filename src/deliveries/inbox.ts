import type { NamedAlarms } from "../durable/alarms";
import { redact } from "../log";
import { type AcceptPressure, isolatePressure, MAX_PROCESSING_LAG_MS } from "./pressure";
import { DEAD_LETTER_TTL_MS, DELIVERY_RETENTION_MS, KEEP_FINISHED_DELIVERIES, type PruneReport, pruneFinished, pruneInbox, type RetentionPolicy } from "./retention";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./retry";
import { type DeadLetterRow, type DeliveryRow, INBOX_DDL, migrateInbox } from "./schema";
import type {
  AcceptResult,
  DeadLetter,
  DeliveryStatus,
  IncomingDelivery,
  Json,
  JsonObject,
  Processor,
  ReplayResult,
  RerunResult,
  StoredDelivery,
  WebhookKind,
  WireDelivery,
} from "./types";
import { toWire } from "./types";

/** Deadline (over the DO alarm) that runs the processing pass. */
export const PROCESS_DEADLINE = "inbox:process";
/** Deadline that drops expired dedupe claims and dead letters in a DO that has gone quiet. */
export const PRUNE_DEADLINE = "inbox:prune";

/**
 * Dedupe claim of a content-hash key (src/livechat/webhooks/dedupe.ts), the shortest claim:
 * LiveChat retries "up to 3 times within ~1 minute" (docs/LIVECHAT.md §1.4), so 15 minutes recognise a
 * redelivery with a wide margin. Not longer: such a key repeats when the same change genuinely
 * happens again (tag, untag, tag; accepting, not accepting, accepting), and a claim still held then
 * would drop the repeat as a duplicate. A redelivery later than that (the legacy docs' "10 times
 * within 6 hours") is processed again, which handlers are written for (idempotent everywhere).
 */
export const MIN_DEDUPE_TTL_MS = 15 * 60_000;
/** Default dedupe claim (keys made of ids LiveChat never reuses can safely be held longer). */
export const DEDUPE_TTL_MS = 24 * 60 * 60_000;
export { DEAD_LETTER_TTL_MS, DELIVERY_RETENTION_MS, KEEP_FINISHED_DELIVERIES } from "./retention";
/** Shortest time between two prune passes: expired claims are harmless meanwhile (accept takes them over). */
export const PRUNE_INTERVAL_MS = 60 * 60_000;
/** Deliveries processed per alarm pass before yielding (the pass re-arms itself). */
export const PROCESS_BATCH = 50;

/** Options for {@link Inbox}; every field has a production default. */
export interface InboxOptions {
  retry?: RetryPolicy;
  now?: () => number;
  newId?: () => string;
  dedupeTtlMs?: number;
  /** Most finished deliveries kept (the newest). */
  keepFinished?: number;
  /** How long a dead letter is kept (`DEAD_LETTER_RETENTION_DAYS`). */
  deadLetterTtlMs?: number;
  /** How long a finished delivery is kept (`DELIVERY_RETENTION_DAYS`). */
  deliveryRetentionMs?: number;
  batch?: number;
  /** The isolate's accept rate, which holds processing back during a burst (src/deliveries/pressure.ts). */
  pressure?: AcceptPressure;
  /** Called once per finished attempt; for logs and metrics. */
  onAttempt?: (event: AttemptEvent) => void;
  /** Called when a processing pass ends (after its last `onAttempt`), e.g. to flush batched reports. */
  onPassEnd?: () => void;
  /** Called after each prune pass with what it left, e.g. for a Chat DO to erase itself once empty. */
  onPrune?: (report: PruneReport, now: number) => Promise<void> | void;
}

/** What happened to one processing attempt. */
export interface AttemptEvent {
  delivery: StoredDelivery;
  attempt: number;
  result: DeliveryStatus | "retry";
  error?: string;
  note?: string;
  /** When the attempt started and ended (ms since epoch). */
  startedAt: number;
  finishedAt: number;
}

/** Operator's view of one inbox. */
export interface InboxSummary {
  pending: number;
  deadLetters: number;
  oldestPendingAt?: number;
}

/**
 * The durable inbox of one Durable Object: deliveries, their dedupe claims and dead letters in
 * SQLite. `accept()` claims the dedupe key and records the delivery in one statement, then
 * schedules a processing pass on the DO alarm; `process()` runs pending deliveries strictly in
 * arrival order, retrying failures with backoff and dead-lettering after the last attempt
 * (docs/ARCHITECTURE.md "Ack only what is durable", "Idempotent everywhere").
 *
 * @example
 * const inbox = new Inbox(ctx.storage, alarms);
 * alarms.handle(PROCESS_DEADLINE, () => inbox.process(processor)).handle(PRUNE_DEADLINE, () => inbox.prune());
 * const { outcome } = await inbox.accept(delivery); // "accepted" | "duplicate" | "unprocessable"
 */
export class Inbox {
  /** Retry policy; replaceable (e.g. by tests) for deliveries not yet attempted. */
  retry: RetryPolicy;
  private readonly now: () => number;
  private readonly newId: () => string;
  private readonly dedupeTtlMs: number;
  /** What is kept and for how long (src/deliveries/retention.ts). */
  readonly retention: RetentionPolicy;
  private readonly batch: number;
  private readonly pressure: AcceptPressure;
  private readonly onAttempt: (event: AttemptEvent) => void;
  private readonly onPassEnd: () => void;
  private readonly onPrune: (report: PruneReport, now: number) => Promise<void> | void;
  private processing: Promise<void> | undefined;
  /**
   * No pending delivery has a lower seq: where processing looks for the head of the queue (there is
   * no index on status, see src/deliveries/schema.ts). New rows always get a higher seq; replay and
   * rerun, which make an older row pending again, reset it. A new instance starts from 0.
   */
  private pendingFrom = 0;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly alarms: NamedAlarms,
    options: InboxOptions = {},
  ) {
    this.retry = options.retry ?? DEFAULT_RETRY_POLICY;
    this.now = options.now ?? Date.now;
    this.newId = options.newId ?? (() => crypto.randomUUID());
    this.dedupeTtlMs = options.dedupeTtlMs ?? DEDUPE_TTL_MS;
    this.retention = {
      keepFinished: options.keepFinished ?? KEEP_FINISHED_DELIVERIES,
      deadLetterMs: options.deadLetterTtlMs ?? DEAD_LETTER_TTL_MS,
      deliveryMs: options.deliveryRetentionMs ?? DELIVERY_RETENTION_MS,
    };
    this.batch = options.batch ?? PROCESS_BATCH;
    this.pressure = options.pressure ?? isolatePressure;
    this.onAttempt = options.onAttempt ?? (() => {});
    this.onPassEnd = options.onPassEnd ?? (() => {});
    this.onPrune = options.onPrune ?? (() => {});
    migrateInbox(storage.sql);
    storage.sql.exec(INBOX_DDL);
  }

  /**
   * Claim `delivery.dedupeKey` and record the delivery, atomically. A key whose claim has not
   * expired answers `duplicate` (with the first delivery's id) and records nothing.
   * Resolves once the record and the processing deadline are durable: only then may the
   * receiver answer 200.
   */
  async accept(delivery: IncomingDelivery | WireDelivery): Promise<AcceptResult> {
    const content = "content" in delivery ? delivery.content : toWire(delivery).content;
    const now = this.now();
    const id = this.newId();
    const sql = this.storage.sql;
    const ttl = Math.max(MIN_DEDUPE_TTL_MS, delivery.dedupeTtlMs ?? this.dedupeTtlMs);
    this.pressure.noteAccept(now);
    const unprocessable = delivery.unprocessable;
    // One statement (atomic by itself): record the delivery unless a live claim holds its key; the
    // `deliveries_claim` trigger then claims the key (src/deliveries/schema.ts), taking over an expired claim.
    const recorded = sql.exec(
      `INSERT INTO deliveries (id, kind, organization_id, license_id, chat_id, action, webhook_id, dedupe_key, body,
         status, last_error, note, received_at, finished_at, claim_expires_at)
       SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
       WHERE NOT EXISTS (SELECT 1 FROM delivery_dedupe WHERE key = ? AND expires_at > ?)`,
      id,
      delivery.kind,
      delivery.organizationId,
      delivery.licenseId ?? null,
      delivery.chatId ?? null,
      delivery.action,
      delivery.webhookId,
      delivery.dedupeKey,
      content,
      unprocessable ? "unprocessable" : "pending",
      unprocessable?.error ?? null,
      unprocessable?.reason ?? null,
      delivery.receivedAt,
      unprocessable ? now : null,
      now + ttl,
      delivery.dedupeKey,
      now,
    );
    if (recorded.rowsWritten === 0) {
      const first = sql
        .exec<{ delivery_id: string }>("SELECT delivery_id FROM delivery_dedupe WHERE key = ?", delivery.dedupeKey)
        .one();
      return { outcome: "duplicate", deliveryId: first.delivery_id };
    }
    const result: AcceptResult = { outcome: unprocessable ? "unprocessable" : "accepted", deliveryId: id };
    // Due now, unless the isolate is in a burst: then later, so that accepts keep the thread, but
    // never past the lag bound (the hold grows with the burst's length; src/deliveries/pressure.ts).
    // An older pending delivery's own accept already asked for its bound, and "earliest" keeps that.
    // A processing pass that threw waits for its retry (NamedAlarms backoff), which takes this
    // delivery too: pulling it to now would run a failing pass once per delivery.
    if (result.outcome === "accepted" && !this.alarms.backingOff(PROCESS_DEADLINE)) {
      const hold = this.pressure.holdMs(now);
      const at = hold > 0 ? Math.min(now + hold, delivery.receivedAt + MAX_PROCESSING_LAG_MS) : now;
      await this.alarms.schedule(PROCESS_DEADLINE, at, "earliest");
    }
    if (!this.pruneDueBy(now, now + ttl)) {
      await this.alarms.schedule(PRUNE_DEADLINE, now + ttl, "earliest");
    }
    return result;
  }

  /**
   * Whether a prune deadline already lies in (now, at]: scheduling `at` with "earliest" would
   * change nothing, so accept() skips the upsert and the alarm work. A due one (<= now) does not
   * count: its pass may be running and would delete the row when it ends.
   */
  private pruneDueBy(now: number, at: number): boolean {
    const existing = this.alarms.deadline(PRUNE_DEADLINE);
    return existing !== undefined && existing > now && existing <= at;
  }

  /**
   * Process pending deliveries in arrival order. The head of the queue blocks the rest while it
   * waits for a retry, so a chat's events are never handled out of order. Each attempt is
   * counted before the processor runs, so a crash mid-handler counts as a failed attempt.
   * Concurrent calls share one pass.
   */
  process(processor: Processor): Promise<void> {
    this.processing ??= this.processPass(processor).finally(() => {
      this.processing = undefined;
      this.onPassEnd();
    });
    return this.processing;
  }

  private async processPass(processor: Processor): Promise<void> {
    let done = 0;
    for (; ; done++) {
      const row = this.storage.sql
        .exec<DeliveryRow>("SELECT * FROM deliveries WHERE seq >= ? AND status = 'pending' ORDER BY seq LIMIT 1", this.pendingFrom)
        .toArray()[0];
      if (!row) break;
      this.pendingFrom = row.seq;
      const now = this.now();
      if (row.next_attempt_at !== null && row.next_attempt_at > now) {
        await this.alarms.schedule(PROCESS_DEADLINE, row.next_attempt_at);
        break;
      }
      if (done === 0) {
        // A burst holds the pass back (src/deliveries/pressure.ts), never past the lag bound.
        const hold = this.pressure.holdMs(now);
        const latest = row.received_at + MAX_PROCESSING_LAG_MS;
        if (hold > 0 && now < latest) {
          await this.alarms.schedule(PROCESS_DEADLINE, Math.min(now + hold, latest));
          break;
        }
      }
      if (done >= this.batch) {
        await this.alarms.schedule(PROCESS_DEADLINE, now);
        break;
      }
      const attempt = row.attempts + 1;
      if (attempt > this.retry.maxAttempts) {
        // The previous attempt never finished (the DO restarted mid-handler).
        const error = row.last_error ?? "processing interrupted";
        await this.deadLetter(row, error, row.attempts);
        this.onAttempt({ delivery: toDelivery(row), attempt: row.attempts, result: "dead", error, startedAt: now, finishedAt: now });
        continue;
      }
      this.storage.sql.exec(
        "UPDATE deliveries SET attempts = ?, next_attempt_at = ?, last_error = NULL WHERE seq = ?",
        attempt,
        now + this.retry.delayMs(attempt),
        row.seq,
      );
      const delivery = toDelivery({ ...row, attempts: attempt });
      const handled = new Set(delivery.handled);
      try {
        const outcome = await processor({
          delivery,
          attempt,
          markHandled: (name) => {
            handled.add(name);
            this.storage.sql.exec("UPDATE deliveries SET handled = ? WHERE seq = ?", JSON.stringify([...handled]), row.seq);
          },
        });
        this.storage.sql.exec(
          "UPDATE deliveries SET status = ?, note = ?, last_error = NULL, next_attempt_at = NULL, finished_at = ? WHERE seq = ?",
          outcome.status,
          outcome.note ?? null,
          this.now(),
          row.seq,
        );
        this.onAttempt({ delivery, attempt, result: outcome.status, note: outcome.note, startedAt: now, finishedAt: this.now() });
      } catch (error) {
        const message = errorMessage(error);
        if (attempt >= this.retry.maxAttempts) {
          await this.deadLetter(row, message, attempt);
          this.onAttempt({ delivery, attempt, result: "dead", error: message, startedAt: now, finishedAt: this.now() });
        } else {
          // A failure that says how long to wait (a Retry-After on LiveChat's "too many requests", which
          // "lifts automatically", docs/LIVECHAT.md §3.6) is not retried sooner: retrying into a rate limit
          // spends the attempts and dead-letters the delivery.
          const wait = requestedWaitMs(error);
          this.storage.sql.exec(
            "UPDATE deliveries SET last_error = ?, next_attempt_at = MAX(next_attempt_at, ?) WHERE seq = ?",
            message,
            wait === undefined ? 0 : now + wait,
            row.seq,
          );
          this.onAttempt({ delivery, attempt, result: "retry", error: message, startedAt: now, finishedAt: this.now() });
        }
      }
    }
    // A pass that ran nothing (held back, or waiting for a retry) finished nothing to prune. One
    // that did makes sure a prune comes by the time what it finished expires ("earliest": usually
    // an earlier one is set already, and then this writes nothing).
    if (done > 0) {
      pruneFinished(this.storage.sql, this.retention.keepFinished);
      await this.alarms.schedule(PRUNE_DEADLINE, this.now() + this.retention.deliveryMs, "earliest");
    }
  }

  /**
   * Mark `row` dead and record its dead letter. The letter refers to the row (pruneFinished keeps a
   * row while its letter lives) instead of copying it: a copy of a body near the cap, re-escaped as
   * JSON, outgrows SQLite's 2 MB value limit. Whatever fails here, the row leaves the queue: a
   * dead-letter insert that throws would otherwise leave it pending and fail every later pass.
   */
  private async deadLetter(row: DeliveryRow, error: string, attempts: number): Promise<void> {
    const now = this.now();
    const markDead = (lastError: string) =>
      this.storage.sql.exec(
        "UPDATE deliveries SET status = 'dead', attempts = ?, last_error = ?, next_attempt_at = NULL, finished_at = ? WHERE seq = ?",
        attempts,
        lastError,
        now,
        row.seq,
      );
    try {
      this.storage.transactionSync(() => {
        markDead(error);
        this.storage.sql.exec(
          `INSERT OR REPLACE INTO delivery_dead_letters (delivery_id, action, chat_id, dedupe_key, error, attempts, dead_at, delivery)
           VALUES (?, ?, ?, ?, ?, ?, ?, '')`,
          row.id,
          row.action,
          row.chat_id,
          row.dedupe_key,
          error,
          attempts,
          now,
        );
      });
    } catch (failure) {
      // Dead without a letter: still listed (status "dead") and re-runnable from /admin.
      markDead(`${error} (no dead letter: ${errorMessage(failure)})`);
    }
    await this.alarms.schedule(PRUNE_DEADLINE, now + this.retention.deadLetterMs, "earliest");
  }

  /**
   * Put dead letter `deliveryId` back into the queue for a fresh series of attempts. Its dedupe
   * claim is untouched, so a redelivery of the same webhook is still a duplicate; a second
   * replay of the same delivery answers `not_dead` while the first one is pending or done.
   */
  async replay(deliveryId: string): Promise<ReplayResult> {
    const result = this.storage.transactionSync((): ReplayResult => {
      const letter = this.storage.sql
        .exec<DeadLetterRow>("SELECT * FROM delivery_dead_letters WHERE delivery_id = ?", deliveryId)
        .toArray()[0];
      if (!letter) {
        const exists = this.storage.sql.exec("SELECT 1 FROM deliveries WHERE id = ?", deliveryId).toArray().length > 0;
        return { ok: false, reason: exists ? "not_dead" : "not_found" };
      }
      const stored = this.storage.sql.exec("SELECT 1 FROM deliveries WHERE id = ?", deliveryId).toArray().length > 0;
      if (stored) {
        this.storage.sql.exec(
          "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = NULL, finished_at = NULL WHERE id = ?",
          deliveryId,
        );
      } else {
        // Only a letter written by an older version, which copied the row, outlives its row:
        // restore it from the copy. A new seq puts it at the tail, after what arrived meanwhile.
        if (letter.delivery === "") return { ok: false, reason: "not_found" };
        const row = JSON.parse(letter.delivery) as DeliveryRow;
        this.storage.sql.exec(
          `INSERT INTO deliveries (id, kind, organization_id, license_id, chat_id, action, webhook_id, dedupe_key, body,
             status, attempts, last_error, note, handled, received_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', 0, ?, ?, ?, ?)`,
          row.id,
          row.kind,
          row.organization_id,
          row.license_id,
          row.chat_id,
          row.action,
          row.webhook_id,
          row.dedupe_key,
          row.body,
          row.last_error,
          row.note,
          row.handled,
          row.received_at,
        );
      }
      this.storage.sql.exec("DELETE FROM delivery_dead_letters WHERE delivery_id = ?", deliveryId);
      this.pendingFrom = 0;
      return { ok: true, deliveryId };
    });
    if (result.ok) await this.alarms.schedule(PROCESS_DEADLINE, this.now(), "earliest");
    return result;
  }

  /**
   * Operator replay of any recorded delivery. A dead letter is replayed as by {@link replay}. A
   * finished one (processed, skipped, not_installed, unprocessable) is queued again with fresh
   * attempts but keeps its `handled` list, so only handlers that did not complete run: handlers
   * never run twice for one delivery, and re-running a fully handled delivery changes nothing.
   * The dedupe claim is untouched (redeliveries stay duplicates). A pending delivery is refused.
   */
  async rerun(deliveryId: string): Promise<RerunResult> {
    const row = this.storage.sql.exec<DeliveryRow>("SELECT * FROM deliveries WHERE id = ?", deliveryId).toArray()[0];
    const dead = this.storage.sql.exec("SELECT 1 FROM delivery_dead_letters WHERE delivery_id = ?", deliveryId).toArray().length > 0;
    if (dead) {
      const replayed = await this.replay(deliveryId);
      return replayed.ok ? { ok: true, deliveryId, from: "dead" } : replayed;
    }
    if (!row) return { ok: false, reason: "not_found" };
    // A dead row whose dead letter expired is still recorded: it is re-run like a finished one.
    if (row.status === "pending") return { ok: false, reason: "pending" };
    this.storage.sql.exec(
      `UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = NULL, finished_at = NULL,
         last_error = NULL, note = NULL WHERE id = ? AND status = ?`,
      deliveryId,
      row.status,
    );
    this.pendingFrom = 0;
    await this.alarms.schedule(PROCESS_DEADLINE, this.now(), "earliest");
    return { ok: true, deliveryId, from: row.status as DeliveryStatus, skipHandlers: JSON.parse(row.handled) as string[] };
  }

  /** One delivery by id. */
  get(deliveryId: string): StoredDelivery | undefined {
    const row = this.storage.sql.exec<DeliveryRow>("SELECT * FROM deliveries WHERE id = ?", deliveryId).toArray()[0];
    return row && toDelivery(row);
  }

  /** The newest deliveries first (pending and the last finished ones), optionally of one status. */
  recent(options: { limit?: number; status?: DeliveryStatus } = {}): StoredDelivery[] {
    const limit = clampLimit(options.limit);
    const rows = options.status
      ? this.storage.sql.exec<DeliveryRow>(
          "SELECT * FROM deliveries WHERE status = ? ORDER BY seq DESC LIMIT ?",
          options.status,
          limit,
        )
      : this.storage.sql.exec<DeliveryRow>("SELECT * FROM deliveries ORDER BY seq DESC LIMIT ?", limit);
    return rows.toArray().map(toDelivery);
  }

  /** Dead letters, newest first. */
  deadLetters(limit?: number): DeadLetter[] {
    return this.storage.sql
      .exec<DeadLetterRow>("SELECT * FROM delivery_dead_letters ORDER BY dead_at DESC LIMIT ?", clampLimit(limit))
      .toArray()
      .map((r) => ({
        deliveryId: r.delivery_id,
        action: r.action,
        ...(r.chat_id !== null ? { chatId: r.chat_id } : {}),
        dedupeKey: r.dedupe_key,
        error: r.error,
        attempts: r.attempts,
        deadAt: r.dead_at,
      }));
  }

  /** Counts for an operator's overview. */
  summary(): InboxSummary {
    const pending = this.storage.sql
      .exec<{ n: number; oldest: number | null }>(
        "SELECT COUNT(*) AS n, MIN(received_at) AS oldest FROM deliveries WHERE status = 'pending'",
      )
      .one();
    const dead = this.storage.sql.exec<{ n: number }>("SELECT COUNT(*) AS n FROM delivery_dead_letters").one();
    return { pending: pending.n, deadLetters: dead.n, ...(pending.oldest !== null ? { oldestPendingAt: pending.oldest } : {}) };
  }

  /**
   * Drop what is past its retention (src/deliveries/retention.ts): expired dedupe claims, old dead
   * letters, old finished deliveries and all but the newest finished ones. While anything is left
   * the deadline stays armed for its expiry, at most once per {@link PRUNE_INTERVAL_MS}, so an
   * inbox that hears nothing more still empties itself. Idempotent (runs on the prune deadline).
   */
  async prune(): Promise<PruneReport> {
    const now = this.now();
    const report = pruneInbox(this.storage.sql, now, this.retention);
    if (report.nextExpiry !== undefined) {
      await this.alarms.schedule(PRUNE_DEADLINE, Math.max(report.nextExpiry + 1, now + PRUNE_INTERVAL_MS));
    }
    await this.onPrune(report, now);
    return report;
  }
}

function toDelivery(row: DeliveryRow): StoredDelivery {
  const body = JSON.parse(row.body) as {
    payload: Json;
    additionalData?: JsonObject;
    requester?: Record<string, string>;
  };
  return {
    id: row.id,
    seq: row.seq,
    kind: row.kind as WebhookKind,
    organizationId: row.organization_id,
    ...(row.license_id !== null ? { licenseId: row.license_id } : {}),
    ...(row.chat_id !== null ? { chatId: row.chat_id } : {}),
    action: row.action,
    webhookId: row.webhook_id,
    dedupeKey: row.dedupe_key,
    payload: body.payload,
    ...(body.additionalData !== undefined ? { additionalData: body.additionalData } : {}),
    ...(body.requester !== undefined ? { requester: body.requester } : {}),
    receivedAt: row.received_at,
    ...(row.status === "unprocessable" && row.last_error !== null
      ? { unprocessable: { reason: row.note ?? "invalid_payload", error: row.last_error } }
      : {}),
    status: row.status as DeliveryStatus,
    attempts: row.attempts,
    ...(row.next_attempt_at !== null ? { nextAttemptAt: row.next_attempt_at } : {}),
    ...(row.last_error !== null ? { lastError: row.last_error } : {}),
    ...(row.note !== null ? { note: row.note } : {}),
    ...(row.finished_at !== null ? { finishedAt: row.finished_at } : {}),
    handled: JSON.parse(row.handled) as string[],
  };
}

/** Longest wait a failure can ask for before its next attempt. */
const MAX_REQUESTED_WAIT_MS = 60 * 60_000;

/**
 * The wait a failure asks for before trying again: a numeric `retryAfterMs` on the error or its
 * causes (LiveChatError carries the parsed Retry-After; the dispatcher wraps handler errors).
 */
function requestedWaitMs(error: unknown): number | undefined {
  let current = error;
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth++) {
    const ms = (current as { retryAfterMs?: unknown }).retryAfterMs;
    if (typeof ms === "number" && Number.isFinite(ms) && ms > 0) return Math.min(ms, MAX_REQUESTED_WAIT_MS);
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function clampLimit(limit: number | undefined): number {
  return Math.max(1, Math.min(500, Math.floor(limit ?? 50)));
}

/** An error's message for storage and logs: no stack, token-like strings masked, bounded length. */
function errorMessage(error: unknown): string {
  const text = redact(error instanceof Error ? `${error.name}: ${error.message}` : String(error)) as string;
  return text.length > 2_000 ? `${text.slice(0, 2_000)}…` : text;
}
