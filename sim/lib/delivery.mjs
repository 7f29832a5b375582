// Webhook delivery: POST JSON, ~10 s timeout, and retries of every non-200 answer ("up to 3 times
// within ~1 minute", docs/LIVECHAT.md §1.4 / APPS). Deliveries share a queue per key (one per chat and
// destination URL): first attempts go out one at a time in the order things happened; a retry is
// appended to its queue when its delay is up, so it may overtake nothing but can be overtaken.

/**
 * @typedef {object} Attempt
 * @property {number} n
 * @property {string} at
 * @property {number | null} status   HTTP status, null when no answer
 * @property {string} [error]         "timeout" or the network error
 * @property {number} duration_ms
 * @property {string} [response]      first 200 characters of the answer body
 *
 * @typedef {object} Delivery
 * @property {string} id
 * @property {"webhook" | "app"} kind
 * @property {string} key
 * @property {string} url
 * @property {string} action
 * @property {string} [webhook_id]
 * @property {string} [webhook_type]
 * @property {string} [license]
 * @property {string} [organization_id]
 * @property {string} [chat_id]
 * @property {object} body
 * @property {"pending" | "delivered" | "failed" | "withheld"} state
 * @property {string} [reason]      why a withheld delivery was not sent
 * @property {Attempt[]} attempts
 * @property {string} created_at
 * @property {string} [next_attempt_at]
 */

export class Deliverer {
  /**
   * @param {{ retryDelaysMs: number[], timeoutMs: number, maxLog?: number, log?: (line: string) => void }} options
   */
  constructor({ retryDelaysMs, timeoutMs, maxLog = 2000, log }) {
    this.retryDelaysMs = retryDelaysMs;
    this.timeoutMs = timeoutMs;
    this.maxLog = maxLog;
    this.log = log ?? (() => {});
    /** @type {Delivery[]} */
    this.entries = [];
    /** @type {Map<string, { items: Delivery[], busy: boolean }>} */
    this.queues = new Map();
    /** @type {Set<NodeJS.Timeout>} */
    this.timers = new Set();
    /** @type {Set<() => void>} */
    this.waiters = new Set();
    this.seq = 0;
    this.closer = new AbortController();
  }

  /**
   * Queue one delivery.
   * @param {Omit<Delivery, "id" | "state" | "attempts" | "created_at">} job
   * @returns {Delivery}
   */
  enqueue(job) {
    /** @type {Delivery} */
    const entry = { id: `d${++this.seq}`, ...job, state: "pending", attempts: [], created_at: new Date().toISOString() };
    this.entries.push(entry);
    if (this.entries.length > this.maxLog) {
      const drop = this.entries.findIndex((e) => e.state !== "pending");
      if (drop >= 0) this.entries.splice(drop, 1);
    }
    this.push(entry);
    return entry;
  }

  /**
   * Log a delivery LiveChat would not send (e.g. a bot webhook while the bot is offline), with
   * the reason; nothing goes out.
   * @param {Omit<Delivery, "id" | "state" | "attempts" | "created_at">} job
   * @param {string} reason
   * @returns {Delivery}
   */
  withhold(job, reason) {
    /** @type {Delivery} */
    const entry = { id: `d${++this.seq}`, ...job, state: "withheld", reason, attempts: [], created_at: new Date().toISOString() };
    this.entries.push(entry);
    if (this.entries.length > this.maxLog) {
      const drop = this.entries.findIndex((e) => e.state !== "pending");
      if (drop >= 0) this.entries.splice(drop, 1);
    }
    this.log(`${entry.kind} ${entry.action} → ${entry.url} withheld: ${reason}`);
    return entry;
  }

  /** @param {Delivery} entry */
  push(entry) {
    let queue = this.queues.get(entry.key);
    if (!queue) this.queues.set(entry.key, (queue = { items: [], busy: false }));
    queue.items.push(entry);
    void this.pump(entry.key);
  }

  /** @param {string} key */
  async pump(key) {
    const queue = this.queues.get(key);
    if (!queue || queue.busy) return;
    queue.busy = true;
    try {
      while (queue.items.length && !this.closer.signal.aborted) await this.attempt(/** @type {Delivery} */ (queue.items.shift()));
    } finally {
      queue.busy = false;
      if (!queue.items.length) this.queues.delete(key);
      this.notify();
    }
  }

  /** @param {Delivery} entry */
  async attempt(entry) {
    const started = Date.now();
    /** @type {Attempt} */
    const attempt = { n: entry.attempts.length + 1, at: new Date(started).toISOString(), status: null, duration_ms: 0 };
    try {
      const res = await fetch(entry.url, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "livechat-sim/1 (webhooks)" },
        body: JSON.stringify(entry.body),
        redirect: "manual",
        signal: AbortSignal.any([AbortSignal.timeout(this.timeoutMs), this.closer.signal]),
      });
      attempt.status = res.status;
      attempt.response = (await res.text()).slice(0, 200);
    } catch (err) {
      const e = /** @type {any} */ (err);
      attempt.error = e?.name === "TimeoutError" ? "timeout" : String(e?.cause?.code ?? e?.message ?? e);
    }
    attempt.duration_ms = Date.now() - started;
    entry.attempts.push(attempt);
    entry.next_attempt_at = undefined;
    const outcome = attempt.status ?? attempt.error;
    if (attempt.status === 200) {
      entry.state = "delivered";
    } else if (entry.attempts.length <= this.retryDelaysMs.length && !this.closer.signal.aborted) {
      const delay = this.retryDelaysMs[entry.attempts.length - 1];
      entry.next_attempt_at = new Date(Date.now() + delay).toISOString();
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        this.push(entry);
      }, delay);
      this.timers.add(timer);
    } else {
      entry.state = "failed";
    }
    this.log(`${entry.kind} ${entry.action} → ${entry.url} ${outcome} (attempt ${attempt.n}, ${entry.state}${entry.next_attempt_at ? `, retry at ${entry.next_attempt_at}` : ""})`);
    this.notify();
  }

  /** Deliveries not yet answered with 200 nor given up. */
  pendingCount() {
    return this.entries.filter((e) => e.state === "pending").length;
  }

  /** True when no first attempt is waiting or in flight (retries may still be scheduled). */
  firstAttemptsDone() {
    return this.queues.size === 0 && !this.entries.some((e) => e.state === "pending" && e.attempts.length === 0);
  }

  /**
   * Resolve once nothing is pending (or, with `firstAttemptsOnly`, once every delivery has had
   * its first attempt), or with false after `timeoutMs`.
   * @param {{ timeoutMs?: number, firstAttemptsOnly?: boolean }} [options]
   * @returns {Promise<boolean>}
   */
  idle({ timeoutMs = 30_000, firstAttemptsOnly = false } = {}) {
    const done = () => (firstAttemptsOnly ? this.firstAttemptsDone() : this.pendingCount() === 0 && this.queues.size === 0);
    if (done()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (!done()) return;
        cleanup();
        resolve(true);
      };
      const timer = setTimeout(() => {
        cleanup();
        resolve(false);
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }

  notify() {
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Forget the log (pending deliveries keep going). */
  clearLog() {
    this.entries = this.entries.filter((e) => e.state === "pending");
  }

  /** Stop: cancel scheduled retries and abort requests in flight. */
  close() {
    this.closer.abort();
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }
}
