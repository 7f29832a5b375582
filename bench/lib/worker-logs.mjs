/**
 * The Worker's JSON log lines, counted, and the post-ack backlog they reveal.
 *
 * Held processing (acks first, src/deliveries/pressure.ts) comes due MIN_HOLD_MS after a burst
 * starts, so workerd can sit idle for seconds with a backlog still waiting: an idle CPU
 * (`drained()` in memory.mjs) does not mean the backlog is gone. The acks are counted by the
 * harness (`logs.noteAcked`: the ack writes no log line), what is done by the log lines: every
 * processed delivery writes one (`webhook` with its outcome, from the Chat or License DO; builds
 * before that logged one line per processing pass with the number it finished).
 */
import { closeSync, openSync, readSync } from "node:fs";
import { StringDecoder } from "node:string_decoder";
import { drained } from "./memory.mjs";

/**
 * Counters over log lines: `events` counts JSON lines by msg (+ result/outcome), e.g. how post-ack
 * processing went: "delivery processed:not_installed", "delivery failed, will retry:retry". The
 * last lines of each stream are kept for diagnostics. Feed it with `onStdoutLine`/`onStderrLine`;
 * with `stdoutFile` (workerd's stdout written to a file), `logs.refresh()` reads what is new in it.
 */
export function workerLogs(stdoutFile) {
  const logs = {
    stdoutLines: 0,
    stderrLines: 0,
    stdoutTail: [],
    stderrTail: [],
    events: {},
    /** Webhooks answered 200, as the harness counted them. */
    acked: 0,
    noteAcked: (n) => void (logs.acked += n),
    refresh: () => logs,
  };
  const count = (line) => {
    if (line.charCodeAt(0) !== 123) return; // "{"
    const msg = line.match(/"msg":"([^"]{1,80})"/)?.[1];
    if (!msg) return;
    if (msg === "webhook" && !line.includes('"component":"webhooks"')) {
      // One line per processing attempt (src/framework/host.ts), by outcome.
      const outcome = line.match(/"outcome":"([^"]{1,40})"/)?.[1] ?? "?";
      const key =
        outcome === "dead" ? "delivery dead-lettered:dead" : outcome === "retry" || outcome === "parked" ? `delivery failed, will retry:${outcome}` : `delivery processed:${outcome}`;
      logs.events[key] = (logs.events[key] ?? 0) + 1;
      return;
    }
    if (msg === "deliveries processed") {
      // One line per processing pass (src/framework/host.ts) with the number it finished.
      const n = Number(line.match(/"processed":(\d+)/)?.[1] ?? 0);
      logs.events["delivery processed"] = (logs.events["delivery processed"] ?? 0) + n;
      return;
    }
    const detail = line.match(/"(?:result|outcome)":"([^"]{1,40})"/)?.[1];
    const key = detail ? `${msg}:${detail}` : msg;
    logs.events[key] = (logs.events[key] ?? 0) + 1;
  };
  const keep = (tail, line) => {
    tail.push(line.slice(0, 400));
    if (tail.length > 6) tail.shift();
  };
  const onStdoutLine = (line) => (logs.stdoutLines++, count(line), keep(logs.stdoutTail, line));
  if (stdoutFile) {
    const read = tailFile(stdoutFile, onStdoutLine);
    logs.refresh = () => (read(), logs);
  }
  return { logs, onStdoutLine, onStderrLine: (line) => (logs.stderrLines++, count(line), keep(logs.stderrTail, line)) };
}

/** A function that reads what workerd appended to `stdoutFile` since its last call, line by line. */
function tailFile(stdoutFile, onLine) {
  let offset = 0;
  let partial = "";
  const utf8 = new StringDecoder("utf8"); // a read may end inside a multi-byte character
  const buffer = Buffer.alloc(1 << 20);
  return () => {
    const fd = openSync(stdoutFile, "r");
    try {
      for (;;) {
        const n = readSync(fd, buffer, 0, buffer.length, offset);
        if (n <= 0) break;
        offset += n;
        const lines = (partial + utf8.write(buffer.subarray(0, n))).split("\n");
        partial = lines.pop();
        for (const line of lines) onLine(line);
      }
    } finally {
      closeSync(fd);
    }
  };
}

/**
 * Wait until every delivery acked (`logs.acked`) has been logged as processed or dead-lettered
 * (totals over the instance's life, read from `logs`), or `limitS` passes.
 * `busy_s`: of the wait, the 100 ms polls in which deliveries got processed.
 */
export async function drainBacklog(logs, limitS) {
  const t0 = performance.now();
  const backlog = () => {
    let done = 0;
    for (const [k, v] of Object.entries(logs.refresh().events)) {
      if (k.startsWith("delivery processed") || k.startsWith("delivery dead-lettered")) done += v;
    }
    return logs.acked - done;
  };
  // The time spent processing, apart from waiting for deadlines a burst held back.
  let busyMs = 0;
  let left = backlog();
  while (left > 0 && performance.now() - t0 < limitS * 1000) {
    const before = left;
    const t = performance.now();
    await new Promise((r) => setTimeout(r, 100));
    left = backlog();
    if (left < before) busyMs += performance.now() - t;
  }
  const round1 = (x) => Math.round(x * 10) / 10;
  return { seconds: round1((performance.now() - t0) / 1000), busy_s: round1(busyMs / 1000), drained: left <= 0, left };
}

/**
 * Between phases: until the backlog has drained ({@link drainBacklog}, saying so through `log` when
 * it has not), then until workerd is idle; each wait at most `limitS`.
 */
export async function settle(logs, limitS, log) {
  const backlog = await drainBacklog(logs, limitS);
  if (!backlog.drained) log(`${backlog.left} deliveries still unprocessed after ${backlog.seconds} s`);
  await drained(limitS);
}
