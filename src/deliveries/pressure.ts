/**
 * Acks first: while the isolate is flooded with deliveries, processing waits (bounded).
 *
 * The ack is what LiveChat waits for: about 10 s, then at most 3 retries within about a minute
 * (docs/LIVECHAT.md §1.4), so a slow ack can lose a webhook, while a delivery that is stored cannot be
 * lost by processing it later (docs/ARCHITECTURE.md "Ack only what is durable"). The accepts and the
 * processing passes of all the Durable Objects an isolate hosts share its one thread. So while the
 * isolate accepts more than {@link BUSY_ACCEPTS_PER_SECOND} deliveries a second, processing is
 * scheduled later at accept, and a processing pass that comes due is held back, about as long as
 * the burst has lasted so far (at least {@link MIN_HOLD_MS}); both never past
 * {@link MAX_PROCESSING_LAG_MS} after the oldest pending delivery arrived. Processing lags a burst
 * by about the burst's length, then catches up in batches (one pass takes up to PROCESS_BATCH
 * deliveries of a chat, cheaper per delivery than a pass each).
 * Below the threshold nothing waits.
 */

/** Accepts per second, in one isolate, above which processing is held back. */
export const BUSY_ACCEPTS_PER_SECOND = 500;
/**
 * Shortest hold. Each hold is a re-check that costs a whole alarm invocation: with 2 s holds the
 * re-checks of a burst's chats took about a third of what the accepts did (`npm run bench:profile`).
 */
export const MIN_HOLD_MS = 10_000;
/** Longest a delivery waits for its first processing attempt because of a burst. */
export const MAX_PROCESSING_LAG_MS = 30_000;

const WINDOW_MS = 1_000;

/** Options for {@link AcceptPressure}; tests use a lower threshold. */
export interface AcceptPressureOptions {
  busyAcceptsPerSecond?: number;
  minHoldMs?: number;
}

/**
 * The accept rate of this isolate over the last second (two one-second buckets, the older one
 * weighted by how much of it is still inside the window), and since when it has been busy.
 * In-memory and per isolate by design: it measures the thread that accepts and processing share.
 */
export class AcceptPressure {
  private readonly threshold: number;
  private readonly minHoldMs: number;
  private bucketStart = 0;
  private current = 0;
  private previous = 0;
  private busySince: number | undefined;

  constructor(options: AcceptPressureOptions = {}) {
    this.threshold = options.busyAcceptsPerSecond ?? BUSY_ACCEPTS_PER_SECOND;
    this.minHoldMs = options.minHoldMs ?? MIN_HOLD_MS;
  }

  /** Count one accept at `now` (ms). */
  noteAccept(now: number): void {
    this.roll(now);
    this.current++;
  }

  /** How long processing that is due at `now` should wait: 0 unless the isolate is busy. */
  holdMs(now: number): number {
    this.roll(now);
    const inside = 1 - (now - this.bucketStart) / WINDOW_MS;
    if (this.current + this.previous * inside < this.threshold) {
      this.busySince = undefined;
      return 0;
    }
    this.busySince ??= now;
    return Math.max(this.minHoldMs, now - this.busySince);
  }

  private roll(now: number): void {
    const elapsed = now - this.bucketStart;
    if (elapsed >= 0 && elapsed < WINDOW_MS) return;
    // One bucket on: the current one becomes the previous. Further, or the clock went back
    // (tests move it): both are stale.
    const adjacent = elapsed >= WINDOW_MS && elapsed < 2 * WINDOW_MS;
    this.previous = adjacent ? this.current : 0;
    this.current = 0;
    this.bucketStart = adjacent ? this.bucketStart + WINDOW_MS : now;
  }
}

/** This isolate's accept pressure, shared by every inbox it hosts. */
export const isolatePressure = new AcceptPressure();
