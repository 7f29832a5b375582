import { vi } from "vitest";
import { HttpClient, type HttpOptions } from "../../src/livechat/http";
import type { Logger, LogFields } from "../../src/log";

/**
 * An HttpClient whose waits are recorded instead of slept and whose clock only moves when it
 * "sleeps", so backoff and deadline checks are deterministic and instant.
 */
export function testHttp(options: HttpOptions = {}) {
  const waits: number[] = [];
  let clock = 1_000_000;
  const logs: { level: string; msg: string; fields?: LogFields }[] = [];
  const logger: Logger = {
    debug: (msg, fields) => logs.push({ level: "debug", msg, fields }),
    info: (msg, fields) => logs.push({ level: "info", msg, fields }),
    warn: (msg, fields) => logs.push({ level: "warn", msg, fields }),
    error: (msg, fields) => logs.push({ level: "error", msg, fields }),
    child: () => logger,
  };
  const http = new HttpClient({
    sleep: async (ms) => {
      waits.push(ms);
      clock += ms;
    },
    random: () => 0.5,
    now: () => clock,
    logger,
    ...options,
  });
  return { http, waits, logs, advance: (ms: number) => (clock += ms) };
}

/** Everything written to console.log/warn/error/info/debug while the spy is active. */
export function captureConsole() {
  const lines: string[] = [];
  for (const level of ["log", "warn", "error", "info", "debug"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      lines.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
    });
  }
  return lines;
}

/** The promise's rejection (fails the test when it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error("expected the promise to reject");
}
