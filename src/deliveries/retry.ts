/**
 * Retry policy for processing failures: exponential backoff with jitter, then a dead letter
 * (docs/ARCHITECTURE.md "Ack only what is durable").
 */

/** How often and how soon a failed delivery is tried again. */
export interface RetryPolicy {
  /** Total attempts, the first included; after the last failure the delivery is dead-lettered. */
  maxAttempts: number;
  /** Delay (ms) before attempt `attempt + 1`, after attempt `attempt` (1-based) failed. */
  delayMs(attempt: number): number;
}

/**
 * Exponential backoff `baseMs * factor^(attempt-1)`, capped at `maxMs`, spread by ±`jitter`
 * (a fraction) so retries of many chats do not align.
 *
 * @example
 * backoff({ maxAttempts: 5 })   // ~1 s, 2 s, 4 s, 8 s between the 5 attempts
 * backoff({ maxAttempts: 3, baseMs: 0 })   // immediate retries (tests)
 */
export function backoff(options: {
  maxAttempts: number;
  baseMs?: number;
  factor?: number;
  maxMs?: number;
  jitter?: number;
  random?: () => number;
}): RetryPolicy {
  const { maxAttempts, baseMs = 1_000, factor = 2, maxMs = 5 * 60_000, jitter = 0.2, random = Math.random } = options;
  return {
    maxAttempts,
    delayMs(attempt) {
      const raw = Math.min(maxMs, baseMs * factor ** Math.max(0, attempt - 1));
      return Math.max(0, Math.round(raw * (1 + jitter * (2 * random() - 1))));
    },
  };
}

/** Five attempts: about 1 s, 2 s, 4 s and 8 s apart (±20 %), well inside a chat's attention span. */
export const DEFAULT_RETRY_POLICY: RetryPolicy = backoff({ maxAttempts: 5 });
