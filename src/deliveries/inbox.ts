import type { NamedAlarms } from "../durable/alarms";
import { redact } from "../log";
import { type AcceptPressure, isolatePressure, MAX_PROCESSING_LAG_MS } from "./pressure";
import { deliveryOf, type InboxSummary, InboxRecords, toStored } from "./records";
import { DEAD_LETTER_TTL_MS, DELIVERY_RETENTION_MS, KEEP_FINISHED_DELIVERIES, type PruneReport, pruneFinished, pruneInbox, type RetentionPolicy } from "./retention";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "./retry";
import { type DeadLetterRow, type DeliveryRow, INBOX_DDL, migrateInbox } from "./schema";
import type {
  AdmittedDelivery,
  DeadLetter,
  DeliveryStatus,
  IncomingDelivery,
  Processor,
  ReplayResult,
  RerunResult,
  StoredDelivery,
  WebhookKind,
  WebhookRules,
} from "./types";

export type { InboxSummary } from "./records";

/** Deadline (over the DO alarm) that runs the processing pass. */
export const PROCESS_DEADLINE = "inbox:process";
/** Deadline that drops expired dedupe claims and dead letters in a DO that has gone quiet. */
export const PRUNE_DEADLINE = "inbox:prune";

export { DEAD_LETTER_TTL_MS, DELIVERY_RETENTION_MS, KEEP_FINISHED_DELIVERIES } from "./retention";
/** Shortest time between two prune passes: expired claims are harmless meanwhile. */
export const PRUNE_INTERVAL_MS = 60 * 60_000;
/**
 * How long past its time a processing wake-up may lie before an append arms the alarm again:
 * longer than a pass normally takes to start, so the ack path writes no alarm in a burst.
 */
export const STALLED_WAKE_UP_MS = 30_000;
/** Deliveries processed per alarm pass before yielding (the pass re-arms itself). */
export const PROCESS_BATCH = 50;
/**
 * Longest a failing delivery holds its queue (its chat's events, or its license's), from its first
 * attempt: a retry that would come later (a long Retry-After, docs/LIVECHAT.md §3.6) parks it, and
 * the deliveries behind it go on (the bot's reply timer waits for them). A parked delivery is
 * retried on its own schedule, out of order, until it succeeds or is dead-lettered. Two minutes
 * cover the default backoff (about 15 s over five attempts) many times over.
 */
export const MAX_HEAD_BLOCK_MS = 2 * 60_000;

/** Options for {@link Inbox}; every field has a production default but `rules`. */
export interface InboxOptions {
  /** What a stored webhook holds and its dedupe key (src/webhooks/admit.ts). */
  rules: WebhookRules;
  retry?: RetryPolicy;
  now?: () => number;
  newId?: () => string;
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

/** What happened to one processing attempt (`duplicate` and `unprocessable` are found in it too). */
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

/**
 * The durable inbox of one Durable Object: deliveries, their dedupe claims and dead letters in
 * SQLite. `append()` is the webhook's ack: one insert of the body as received, then a wake-up for
 * processing (in memory unless the DO alarm must move). `process()` takes the deliveries strictly
 * in arrival order and, for each, after the 200: reads what it holds, claims its dedupe key (a
 * redelivery is recorded as `duplicate`, never run), runs the processor, retries failures with
 * backoff (parking one that would hold its queue too long) and dead-letters after the last attempt
 * (docs/ARCHITECTURE.md "Ack only what is durable", "Idempotent everywhere").
 *
 * @example
 * const inbox = new Inbox(ctx.storage, alarms, { rules: webhookRules });
 * alarms.handle(PROCESS_DEADLINE, () => inbox.process(processor)).handle(PRUNE_DEADLINE, () => inbox.prune());
 * await inbox.append("license", body); // stored: the webhook may be answered 200
 */
export class Inbox {
  /** Retry policy; replaceable (e.g. by tests) for deliveries not yet attempted. */
  retry: RetryPolicy;
  /** The read side (src/deliveries/records.ts). */
  readonly records: InboxRecords;
  private readonly rules: WebhookRules;
  private readonly now: () => number;
  private readonly newId: () => string;
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
  /** When the earliest parked delivery is due (null: none); undefined until read once. */
  private parkedNext: number | null | undefined;
  /** Whether this instance has looked for deliveries a lost in-memory wake-up left behind. */
  private recovered = false;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly alarms: NamedAlarms,
    options: InboxOptions,
  ) {
    this.rules = options.rules;
    this.retry = options.retry ?? DEFAULT_RETRY_POLICY;
    this.now = options.now ?? Date.now;
    this.newId = options.newId ?? (() => crypto.randomUUID());
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
    migrateInbox(storage);
    storage.sql.exec(INBOX_DDL);
    this.records = new InboxRecords(storage.sql, this.rules);
  }

  /**
   * The webhook's ack: store `body` (the webhook as received, without its secret) as one row, and
   * make sure a processing pass will come. Resolves once both are durable: only then may the
   * receiver answer 200. The processing wake-up is kept in memory and the DO alarm armed for it,
   * so no row but the delivery's is written; a DO restarted before it ran finds the pending rows
   * again when its alarm fires ({@link recover}).
   */
  append(kind: WebhookKind, body: string): Promise<void> | undefined {
    const now = this.now();
    this.storage.sql.exec("INSERT INTO deliveries (id, kind, body, received_at) VALUES (?, ?, ?, ?)", this.newId(), kind, body, now);
    this.pressure.noteAccept(now);
    // Due now, unless the isolate is in a burst: then later, so that acks keep the thread, but
    // never past the lag bound (the hold grows with the burst's length; src/deliveries/pressure.ts).
    // An earlier wake-up already covers this delivery. A processing pass that threw waits for its
    // retry (NamedAlarms backoff), which takes this delivery too: pulling it to now would run a
    // failing pass once per delivery.
    const hold = this.pressure.holdMs(now);
    const at = hold > 0 ? now + Math.min(hold, MAX_PROCESSING_LAG_MS) : now;
    const due = this.alarms.deadline(PROCESS_DEADLINE);
    // A wake-up long overdue means its alarm stopped (the runtime gives up on an alarm after its
    // retries): this webhook, often LiveChat's redelivery of a stuck one, arms it again.
    if (due !== undefined && due < now - STALLED_WAKE_UP_MS) return this.alarms.ensureArmed();
    if ((due !== undefined && due <= at) || this.alarms.backingOff(PROCESS_DEADLINE)) return undefined;
    return this.alarms.schedule(PROCESS_DEADLINE, at, "earliest", { volatile: true });
  }

  /**
   * Once per instance, from the DO's alarm: when deliveries wait but no processing deadline is
   * known (the in-memory wake-up of {@link append} died with the previous instance), schedule one.
   */
  async recover(): Promise<void> {
    if (this.recovered) return;
    this.recovered = true;
    if (this.alarms.deadline(PROCESS_DEADLINE) !== undefined) return;
    const waiting = this.storage.sql
      .exec("SELECT 1 FROM deliveries WHERE status IN ('pending', 'parked') LIMIT 1")
      .toArray().length;
    if (waiting > 0) await this.alarms.schedule(PROCESS_DEADLINE, this.now());
  }

  /**
   * Process waiting deliveries in arrival order. The head of the queue blocks the rest while it
   * waits for a retry, so a chat's events are never handled out of order, for at most
   * {@link MAX_HEAD_BLOCK_MS}; then it is parked. Each attempt is counted before the processor
   * runs, so a crash mid-handler counts as a failed attempt. Concurrent calls share one pass.
   */
  process(processor: Processor): Promise<void> {
    this.processing ??= this.processPass(processor).finally(() => {
      this.processing = undefined;
      this.onPassEnd();
    });
    return this.processing;
  }

  private async processPass(processor: Processor): Promise<void> {
    this.parkedNext ??= this.earliestParked();
    let done = 0;
    for (; ; done++) {
      const now = this.now();
      const row = this.dueParked(now) ?? this.head();
      if (!row) {
        if (this.parkedNext !== null) await this.alarms.schedule(PROCESS_DEADLINE, this.parkedNext);
        break;
      }
      if (row.status === "pending" && row.next_attempt_at !== null && row.next_attempt_at > now) {
        await this.alarms.schedule(PROCESS_DEADLINE, Math.min(row.next_attempt_at, this.parkedNext ?? Infinity));
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
      await this.attempt(row, processor, now);
    }
    // A pass that ran nothing (held back, or waiting for a retry) finished nothing to prune. One
    // that did makes sure a prune comes by the time what it finished expires ("earliest": usually
    // an earlier one is set already, and then this writes nothing).
    if (done > 0) {
      pruneFinished(this.storage.sql, this.retention.keepFinished);
      await this.alarms.schedule(PRUNE_DEADLINE, this.now() + this.retention.deliveryMs, "earliest");
    }
  }

  /** The first pending delivery in arrival order. */
  private head(): DeliveryRow | undefined {
    const row = this.storage.sql
      .exec<DeliveryRow>("SELECT * FROM deliveries WHERE seq >= ? AND status = 'pending' ORDER BY seq LIMIT 1", this.pendingFrom)
      .toArray()[0];
    if (row) this.pendingFrom = row.seq;
    return row;
  }

  /** A parked delivery whose retry is due, if any (checked in memory first). */
  private dueParked(now: number): DeliveryRow | undefined {
    if (this.parkedNext === null || this.parkedNext === undefined || this.parkedNext > now) return undefined;
    const row = this.storage.sql
      .exec<DeliveryRow>(
        "SELECT * FROM deliveries WHERE status = 'parked' AND next_attempt_at <= ? ORDER BY next_attempt_at, seq LIMIT 1",
        now,
      )
      .toArray()[0];
    if (!row) this.parkedNext = this.earliestParked();
    return row;
  }

  private earliestParked(): number | null {
    return this.storage.sql
      .exec<{ at: number | null }>("SELECT MIN(next_attempt_at) AS at FROM deliveries WHERE status = 'parked'")
      .one().at;
  }

  /** One attempt at `row`: admit it when it is new, then run the processor; record how it ended. */
  private async attempt(row: DeliveryRow, processor: Processor, now: number): Promise<void> {
    const sql = this.storage.sql;
    const attempt = row.attempts + 1;
    let described: IncomingDelivery;
    try {
      described = deliveryOf(row, this.rules);
    } catch (error) {
      // Only a row written outside this code could fail to read; no retry can mend it.
      await this.deadLetter(row, `stored body unreadable: ${errorMessage(error)}`, row.attempts);
      return;
    }
    const event = (delivery: StoredDelivery, result: AttemptEvent["result"], extra: { error?: string; note?: string } = {}) =>
      this.onAttempt({ delivery, attempt, result, ...extra, startedAt: now, finishedAt: this.now() });
    if (attempt > this.retry.maxAttempts) {
      // The previous attempt never finished (the DO restarted mid-handler).
      const error = row.last_error ?? "processing interrupted";
      await this.deadLetter(row, error, row.attempts);
      this.onAttempt({ delivery: toStored(row, this.rules, described), attempt: row.attempts, result: "dead", error, startedAt: now, finishedAt: now });
      return;
    }
    sql.exec(
      "UPDATE deliveries SET attempts = ?, first_attempt_at = COALESCE(first_attempt_at, ?), next_attempt_at = ?, last_error = NULL WHERE seq = ?",
      attempt,
      now,
      now + this.retry.delayMs(attempt),
      row.seq,
    );
    const current: DeliveryRow = { ...row, attempts: attempt, first_attempt_at: row.first_attempt_at ?? now };
    let delivery = toStored(current, this.rules, described);
    try {
      if (current.dedupe_key === null) {
        const admitted = await this.admit(current, described);
        delivery = { ...delivery, dedupeKey: admitted.key };
        if (admitted.duplicateOf !== undefined) {
          const note = `duplicate of ${admitted.duplicateOf}`;
          this.finish(current, "duplicate", note, null);
          event({ ...delivery, status: "duplicate", note }, "duplicate", { note });
          return;
        }
      }
      const handled = new Set(delivery.handled);
      const outcome = await processor({
        delivery: delivery as AdmittedDelivery,
        attempt,
        markHandled: (name) => {
          handled.add(name);
          sql.exec("UPDATE deliveries SET handled = ? WHERE seq = ?", JSON.stringify([...handled]), row.seq);
        },
      });
      const note = outcome.note ?? (row.status === "parked" ? "processed out of order (parked)" : undefined);
      this.finish(current, outcome.status, note ?? null, outcome.error ?? null);
      event({ ...delivery, status: outcome.status }, outcome.status, {
        ...(note !== undefined ? { note } : {}),
        ...(outcome.error !== undefined ? { error: outcome.error } : {}),
      });
    } catch (error) {
      const message = errorMessage(error);
      if (attempt >= this.retry.maxAttempts) {
        await this.deadLetter(current, message, attempt);
        event(delivery, "dead", { error: message });
        return;
      }
      // A failure that says how long to wait (a Retry-After on LiveChat's "too many requests", which
      // "lifts automatically", docs/LIVECHAT.md §3.6) is not retried sooner: retrying into a rate limit
      // spends the attempts and dead-letters the delivery. A wait that would hold the queue past
      // MAX_HEAD_BLOCK_MS parks the delivery instead.
      const wait = requestedWaitMs(error);
      const next = Math.max(now + this.retry.delayMs(attempt), wait === undefined ? 0 : now + wait);
      const park = row.status === "parked" || next > (current.first_attempt_at ?? now) + MAX_HEAD_BLOCK_MS;
      sql.exec("UPDATE deliveries SET last_error = ?, next_attempt_at = ?, status = ? WHERE seq = ?", message, next, park ? "parked" : "pending", row.seq);
      if (park) {
        this.parkedNext = Math.min(this.parkedNext ?? next, next);
        const note = `parked: retried out of order, next at ${new Date(next).toISOString()}`;
        if (row.status !== "parked") sql.exec("UPDATE deliveries SET note = ? WHERE seq = ?", note, row.seq);
        event({ ...delivery, status: "parked" }, row.status === "parked" ? "retry" : "parked", { error: message, note });
      } else {
        event(delivery, "retry", { error: message });
      }
    }
  }

  /**
   * Claim the dedupe key of a new delivery: a live claim of another delivery with the same key
   * (for a state-like change: its subject's latest state is this key) makes this one its duplicate.
   * The claim's window counts from the first delivery's arrival and is compared with this one's
   * arrival, so how late processing runs (a burst, a configuration problem) changes nothing. Sets
   * the row's admission columns.
   */
  private async admit(row: DeliveryRow, delivery: IncomingDelivery): Promise<{ key: string; duplicateOf?: string }> {
    const sql = this.storage.sql;
    const { key, windowMs, subject } = await this.rules.dedupe(delivery);
    sql.exec(
      "UPDATE deliveries SET dedupe_key = ?, organization_id = ?, license_id = ?, chat_id = ?, action = ?, webhook_id = ? WHERE seq = ?",
      key,
      delivery.organizationId,
      delivery.licenseId ?? null,
      delivery.chatId ?? null,
      delivery.action,
      delivery.webhookId,
      row.seq,
    );
    // A subject's claim holds its latest state: `state` is the key that set it.
    const claimKey = subject ?? key;
    const claim = sql
      .exec<{ delivery_id: string; claimed_at: number; expires_at: number; state: string | null }>(
        "SELECT delivery_id, claimed_at, expires_at, state FROM delivery_dedupe WHERE key = ?",
        claimKey,
      )
      .toArray()[0];
    if (
      claim &&
      claim.delivery_id !== row.id &&
      (claim.state ?? claimKey) === key &&
      claim.claimed_at <= row.received_at &&
      claim.expires_at > row.received_at
    ) {
      return { key, duplicateOf: claim.delivery_id };
    }
    // An older claim is taken over; a claim of a later arrival (admitted first: a replay) is kept.
    sql.exec(
      `INSERT INTO delivery_dedupe (key, delivery_id, claimed_at, expires_at, state) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT(key) DO UPDATE SET delivery_id = excluded.delivery_id, claimed_at = excluded.claimed_at,
         expires_at = excluded.expires_at, state = excluded.state WHERE excluded.claimed_at >= delivery_dedupe.claimed_at`,
      claimKey,
      row.id,
      row.received_at,
      row.received_at + windowMs,
      subject !== undefined ? key : null,
    );
    // Claims are dropped by the prune deadline within the hour (an expired one is harmless meanwhile).
    const pruneBy = this.now() + PRUNE_INTERVAL_MS;
    const prune = this.alarms.deadline(PRUNE_DEADLINE);
    if (prune === undefined || prune > pruneBy) await this.alarms.schedule(PRUNE_DEADLINE, pruneBy, "earliest");
    return { key };
  }

  private finish(row: DeliveryRow, status: DeliveryStatus, note: string | null, error: string | null): void {
    this.storage.sql.exec(
      "UPDATE deliveries SET status = ?, note = ?, last_error = ?, next_attempt_at = NULL, finished_at = ? WHERE seq = ?",
      status,
      note,
      error,
      this.now(),
      row.seq,
    );
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
        // The admission columns as they are now (a row may die before it was admitted: no key yet).
        const current = this.storage.sql
          .exec<Pick<DeliveryRow, "action" | "chat_id" | "dedupe_key">>("SELECT action, chat_id, dedupe_key FROM deliveries WHERE seq = ?", row.seq)
          .one();
        this.storage.sql.exec(
          `INSERT OR REPLACE INTO delivery_dead_letters (delivery_id, action, chat_id, dedupe_key, error, attempts, dead_at, delivery)
           VALUES (?, ?, ?, ?, ?, ?, ?, '')`,
          row.id,
          current.action ?? "",
          current.chat_id,
          current.dedupe_key ?? "",
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
          "UPDATE deliveries SET status = 'pending', attempts = 0, first_attempt_at = NULL, next_attempt_at = NULL, finished_at = NULL WHERE id = ?",
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
   * finished one (processed, duplicate, skipped, not_installed, unprocessable) is queued again with
   * fresh attempts but keeps its `handled` list, so only handlers that did not complete run: handlers
   * never run twice for one delivery, and re-running a fully handled delivery changes nothing.
   * The dedupe claim is untouched (redeliveries stay duplicates). A waiting delivery is refused.
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
    if (row.status === "pending" || row.status === "parked") return { ok: false, reason: "pending" };
    this.storage.sql.exec(
      `UPDATE deliveries SET status = 'pending', attempts = 0, first_attempt_at = NULL, next_attempt_at = NULL, finished_at = NULL,
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
    return this.records.get(deliveryId);
  }

  /** The newest deliveries first (waiting and the last finished ones), optionally of one status. */
  recent(options: { limit?: number; status?: DeliveryStatus } = {}): StoredDelivery[] {
    return this.records.recent(options);
  }

  /** Dead letters, newest first. */
  deadLetters(limit?: number): DeadLetter[] {
    return this.records.deadLetters(limit);
  }

  /** Counts for an operator's overview. */
  summary(): InboxSummary {
    return this.records.summary();
  }

  /**
   * Drop what is past its retention (src/deliveries/retention.ts): dedupe claims no waiting
   * delivery can still be a redelivery for, old dead letters, old finished deliveries and all but
   * the newest finished ones. While anything is left the deadline stays armed for its expiry, at
   * most once per {@link PRUNE_INTERVAL_MS}, so an inbox that hears nothing more still empties
   * itself. Idempotent (runs on the prune deadline).
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

/** An error's message for storage and logs: no stack, token-like strings masked, bounded length. */
function errorMessage(error: unknown): string {
  const text = redact(error instanceof Error ? `${error.name}: ${error.message}` : String(error)) as string;
  return text.length > 2_000 ? `${text.slice(0, 2_000)}…` : text;
}
