// Injected faults for tests: answer matching requests with an error (429 too_many_requests, 500
// internal, any status/type), answer them slowly, or drop the connection. A fault matches when its
// `match` is a substring of the request path (e.g. "send_event", "/v2/token") and, if given, the
// method; it fires `count` times (default 1; null = until removed).
import { invalid } from "./errors.mjs";

/**
 * @typedef {object} Fault
 * @property {string} id
 * @property {string} match
 * @property {string} [method]
 * @property {number} [status]
 * @property {string} [type]       Web API error type (default from the status)
 * @property {string} [message]
 * @property {Record<string, unknown>} [data]
 * @property {number} [delay_ms]   wait before answering (alone: a slow but normal answer)
 * @property {boolean} [reset]     destroy the connection without an answer
 * @property {number | null} remaining
 * @property {number} hits
 * @property {string} created_at
 */

export class Faults {
  constructor() {
    /** @type {Fault[]} */
    this.list = [];
    this.seq = 0;
  }

  /**
   * @param {Record<string, any>} input
   * @returns {Fault}
   */
  add(input) {
    const status = input.status === undefined ? undefined : Number(input.status);
    if (status !== undefined && !(Number.isInteger(status) && status >= 400 && status <= 599)) throw invalid("`status` must be an HTTP error status (400-599)");
    const delay = input.delay_ms ?? input.delayMs;
    if (delay !== undefined && !(Number.isInteger(delay) && delay >= 0)) throw invalid("`delay_ms` must be a non-negative integer");
    if (status === undefined && delay === undefined && !input.reset) throw invalid("a fault needs `status`, `delay_ms` or `reset`");
    const count = input.count === undefined ? 1 : input.count;
    if (count !== null && !(Number.isInteger(count) && count >= 1)) throw invalid("`count` must be a positive integer or null (unlimited)");
    /** @type {Fault} */
    const fault = {
      id: `f${++this.seq}`,
      match: typeof input.match === "string" ? input.match : "",
      ...(input.method ? { method: String(input.method).toUpperCase() } : {}),
      ...(status !== undefined ? { status } : {}),
      ...(input.type ? { type: String(input.type) } : {}),
      ...(input.message ? { message: String(input.message) } : {}),
      ...(input.data ? { data: input.data } : {}),
      ...(delay !== undefined ? { delay_ms: delay } : {}),
      ...(input.reset ? { reset: true } : {}),
      remaining: count,
      hits: 0,
      created_at: new Date().toISOString(),
    };
    this.list.push(fault);
    return fault;
  }

  /**
   * The first fault that matches the request, consumed once.
   * @param {string} method
   * @param {string} path
   * @returns {Fault | undefined}
   */
  take(method, path) {
    const fault = this.list.find((f) => path.includes(f.match) && (!f.method || f.method === method));
    if (!fault) return undefined;
    fault.hits++;
    if (fault.remaining !== null && --fault.remaining <= 0) this.list = this.list.filter((f) => f !== fault);
    return fault;
  }

  /** @param {string} id */
  remove(id) {
    const before = this.list.length;
    this.list = this.list.filter((f) => f.id !== id);
    return this.list.length < before;
  }

  clear() {
    this.list = [];
  }
}
