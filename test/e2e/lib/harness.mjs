// A tiny step runner for the end-to-end suite: each step is one reported test case (PASS/FAIL
// with its time and a detail line), steps can name the steps they need (a failed prerequisite
// fails the dependent step at once, with the reason, instead of letting it time out), and the
// totals go to `--json FILE` as {passed, failed, steps}.
import { writeFileSync } from "node:fs";

/** A failed expectation; the message is the whole report line. */
export class StepFailure extends Error {}

/** Fail the current step with `message` unless `condition` holds. */
export function expect(condition, message) {
  if (!condition) throw new StepFailure(message);
}

export class Suite {
  constructor({ log = (line) => console.log(line) } = {}) {
    this.log = log;
    /** @type {{ id: string, title: string, ok: boolean, ms: number, detail: string }[]} */
    this.results = [];
    this.started = Date.now();
    this.section = "";
  }

  /** Print a section header. */
  group(title) {
    this.section = title;
    this.log(`\n${title}`);
  }

  /**
   * Run one step.
   * @param {string} id          short id other steps refer to
   * @param {string} title       what the step shows, as a sentence
   * @param {() => Promise<string | void>} fn  resolves with a detail line; throws to fail
   * @param {{ needs?: string[] }} [options]
   */
  async step(id, title, fn, { needs = [] } = {}) {
    const blocked = needs.filter((n) => !this.results.find((r) => r.id === n)?.ok);
    const t0 = Date.now();
    let ok = false;
    let detail;
    if (blocked.length) {
      detail = `not run: needs ${blocked.map((b) => `"${this.results.find((r) => r.id === b)?.title ?? b}"`).join(", ")}, which failed`;
    } else {
      try {
        detail = (await fn()) ?? "";
        ok = true;
      } catch (err) {
        detail = err instanceof StepFailure ? err.message : `${err?.stack ?? err}`;
      }
    }
    const ms = Date.now() - t0;
    const n = this.results.length + 1;
    this.results.push({ id, title, ok, ms, detail });
    const head = `${ok ? "PASS" : "FAIL"} ${String(n).padStart(2)}. ${title} (${(ms / 1000).toFixed(1)} s)`;
    this.log(detail ? `${head}\n        ${detail.split("\n").join("\n        ")}` : head);
    return ok;
  }

  /** Whether a step passed. */
  passed(id) {
    return Boolean(this.results.find((r) => r.id === id)?.ok);
  }

  get counts() {
    const passed = this.results.filter((r) => r.ok).length;
    return { passed, failed: this.results.length - passed };
  }

  /** Print the totals; write `{passed, failed, steps}` to `jsonFile` when given. */
  finish(jsonFile, extraFailures = 0) {
    const { passed } = this.counts;
    const failed = this.counts.failed + extraFailures;
    this.log(`\ne2e: ${passed} passed, ${failed} failed in ${((Date.now() - this.started) / 1000).toFixed(1)} s`);
    if (jsonFile) {
      writeFileSync(jsonFile, JSON.stringify({ passed, failed, steps: this.results }, null, 2));
    }
    return { passed, failed };
  }
}

/**
 * Poll `probe` until it returns a truthy value; resolves with it. On timeout, throws a
 * StepFailure naming `what` and the last observation (`describe(lastValue)`).
 * @template T
 * @param {string} what
 * @param {() => Promise<T> | T} probe
 * @param {{ timeoutMs?: number, intervalMs?: number, describe?: () => string | Promise<string> }} [options]
 * @returns {Promise<NonNullable<T>>}
 */
export async function waitFor(what, probe, { timeoutMs = 10_000, intervalMs = 200, describe } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    try {
      const value = await probe();
      if (value) return /** @type {NonNullable<T>} */ (value);
      lastError = undefined;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const seen = describe ? await Promise.resolve(describe()).catch((e) => `(${e.message})`) : "";
      throw new StepFailure(
        `timed out after ${(timeoutMs / 1000).toFixed(0)} s waiting for ${what}` +
          (lastError ? `; last error: ${lastError.message}` : "") +
          (seen ? `; ${seen}` : ""),
      );
    }
    await sleep(intervalMs);
  }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
