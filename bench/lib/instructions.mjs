/**
 * Instructions workerd executes, counted by valgrind's callgrind: independent of the machine's
 * load, which on a shared 2-core VM moves wall time by ±20 % and more, and CPU time too (its vCPUs
 * are shared below the guest; hardware counters, `perf stat -e instructions`, are not available).
 * workerd runs under callgrind with instrumentation off; {@link Callgrind.count} switches it on
 * around one piece of work and reads the total from a dump. About 50× slower than native, so for
 * small, sequential loops only. Counts are instructions, not time: a native call into the runtime
 * and a JIT-compiled loop of the same count need not take the same time.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Whether valgrind (with callgrind_control) is installed. */
export function callgrindAvailable() {
  return spawnSync("valgrind", ["--version"]).status === 0 && spawnSync("callgrind_control", ["-h"]).status === 0;
}

/** The callgrind runs of one workerd: its command-line prefix, then counting once it runs. */
export class Callgrind {
  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), "livechat-edge-callgrind-"));
    /** For startWithStdoutFile(…, prefix): workerd under callgrind, instrumentation off until counted. */
    this.prefix = `valgrind --tool=callgrind --instr-atstart=no --smc-check=all-non-file -q --callgrind-out-file=${this.dir}/cg.%p`;
    this.pid = undefined;
  }

  /** Find the valgrind process this Node process started (call once workerd runs). */
  attach() {
    for (const pid of readdirSync("/proc").filter((e) => /^\d+$/.test(e))) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        const close = stat.lastIndexOf(")");
        const ppid = stat.slice(close + 2).split(" ")[1];
        if (stat.slice(stat.indexOf("(") + 1, close).startsWith("callgrind") && ppid === String(process.pid)) this.pid = pid;
      } catch {
        // gone meanwhile
      }
    }
    if (!this.pid) throw new Error("no callgrind process started by this process");
  }

  /** Instructions workerd executes (all threads) while `work` runs. */
  async count(work) {
    const ctl = (...args) => execFileSync("callgrind_control", [...args, this.pid], { stdio: ["ignore", "ignore", "ignore"] });
    ctl("-z");
    ctl("-i", "on");
    try {
      await work();
    } finally {
      ctl("-d");
      ctl("-i", "off");
    }
    const dumps = readdirSync(this.dir).filter((f) => f.startsWith(`cg.${this.pid}.`));
    const last = dumps.sort((a, b) => Number(a.split(".").pop()) - Number(b.split(".").pop())).at(-1);
    const total = readFileSync(join(this.dir, last), "utf8").match(/^(?:totals|summary): (\d+)/m);
    for (const f of dumps) rmSync(join(this.dir, f), { force: true });
    if (!total) throw new Error(`no total in callgrind dump ${last}`);
    return Number(total[1]);
  }

  dispose() {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
