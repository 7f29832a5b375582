/**
 * CPU time a process has run, in ns, from /proc (Linux): the sum over its threads of the first
 * field of /proc/PID/task/TID/schedstat (time on a CPU). Unlike wall time it leaves out the time a
 * process waits for a CPU, so on a machine other work shares it moves far less than wall time
 * (caches and the CPU's clock are still shared). Hardware counters (`perf stat -e instructions`)
 * are not available in this VM.
 */
import { readdirSync, readFileSync } from "node:fs";

/** PIDs of the workerd processes this Node process started (children or grandchildren), or [] off Linux. */
export function workerdPids() {
  let entries;
  try {
    entries = readdirSync("/proc").filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  const parent = new Map();
  const comm = new Map();
  for (const pid of entries) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const close = stat.lastIndexOf(")");
      comm.set(pid, stat.slice(stat.indexOf("(") + 1, close));
      parent.set(pid, stat.slice(close + 2).split(" ")[1]);
    } catch {
      // gone meanwhile
    }
  }
  const mine = (pid) => {
    for (let p = parent.get(pid), depth = 0; p && depth < 4; p = parent.get(p), depth++) if (p === String(process.pid)) return true;
    return false;
  };
  return [...comm].filter(([pid, name]) => name.startsWith("workerd") && mine(pid)).map(([pid]) => pid);
}

/** CPU ns the processes `pids` have run so far (threads that ended meanwhile are not counted). */
export function cpuNs(pids) {
  let total = 0;
  for (const pid of pids) {
    let tasks;
    try {
      tasks = readdirSync(`/proc/${pid}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      try {
        total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
      } catch {
        // thread gone meanwhile
      }
    }
  }
  return total;
}
