/**
 * Peak memory of a run: RSS of this Node process and of every descendant process (workerd
 * spawned by Miniflare, wrk), sampled from /proc, plus each process's own high-water mark
 * (VmHWM) read just before it goes away.
 */
import { readdirSync, readFileSync } from "node:fs";

function readStatus(pid) {
  try {
    const text = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (key) => Number(text.match(new RegExp(`^${key}:\\s+(\\d+) kB`, "m"))?.[1] ?? 0);
    return { name: text.match(/^Name:\s+(.*)$/m)?.[1] ?? "?", rssKb: kb("VmRSS"), hwmKb: kb("VmHWM") };
  } catch {
    return undefined;
  }
}

/** pid → parent pid for every process visible in /proc. */
function parents() {
  const map = new Map();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // "pid (comm) state ppid ...": comm may contain spaces, so split after the last ')'
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      map.set(Number(entry), ppid);
    } catch {
      /* process ended */
    }
  }
  return map;
}

function descendants(root) {
  const map = parents();
  const out = [];
  const queue = [root];
  while (queue.length) {
    const p = queue.shift();
    for (const [pid, ppid] of map) if (ppid === p) (out.push(pid), queue.push(pid));
  }
  return out;
}

/** Pids of this process's descendants whose name starts with `name` (e.g. "workerd"). */
export function descendantsNamed(name) {
  return descendants(process.pid).filter((pid) => readStatus(pid)?.name.startsWith(name));
}

/** Groups a process name into the buckets the report shows. */
const bucket = (name) => (name.startsWith("workerd") ? "workerd" : name.startsWith("wrk") ? "wrk" : "other");

/**
 * Start sampling every `intervalMs`. `stop()` returns peaks in MiB: per bucket (sum of the
 * bucket's processes at the worst sample, or the larger VmHWM), Node itself, and the total.
 */
export function startMemorySampler(intervalMs = 200) {
  const peak = { workerd: 0, wrk: 0, other: 0, node: 0, total: 0 };
  const hwm = new Map(); // pid → {name, hwmKb}
  const sample = () => {
    const sums = { workerd: 0, wrk: 0, other: 0 };
    for (const pid of descendants(process.pid)) {
      const s = readStatus(pid);
      if (!s) continue;
      sums[bucket(s.name)] += s.rssKb;
      hwm.set(pid, { name: s.name, hwmKb: Math.max(hwm.get(pid)?.hwmKb ?? 0, s.hwmKb) });
    }
    const node = readStatus(process.pid)?.rssKb ?? 0;
    for (const k of Object.keys(sums)) peak[k] = Math.max(peak[k], sums[k]);
    peak.node = Math.max(peak.node, node);
    peak.total = Math.max(peak.total, sums.workerd + sums.wrk + sums.other + node);
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    /** Take a last sample (call while the processes still run), stop, and report in MiB. */
    stop() {
      sample();
      clearInterval(timer);
      const mib = (kb) => Math.round((kb / 1024) * 10) / 10;
      const hwmBy = { workerd: 0, wrk: 0 };
      for (const { name, hwmKb } of hwm.values()) {
        const b = bucket(name);
        if (b in hwmBy) hwmBy[b] += hwmKb;
      }
      const nodeHwm = process.resourceUsage().maxRSS; // kB, whole life of this process
      return {
        workerd_rss_peak_mib: mib(peak.workerd),
        workerd_hwm_mib: mib(hwmBy.workerd),
        wrk_rss_peak_mib: mib(peak.wrk),
        node_rss_peak_mib: mib(peak.node),
        node_hwm_mib: mib(nodeHwm),
        total_rss_peak_mib: mib(peak.total),
      };
    },
  };
}

const CLK_TCK = 100; // USER_HZ on Linux

function procTimes(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields after "(comm)": state=0 ppid=1 … utime=11 stime=12 cutime=13 cstime=14
    return { self: Number(f[11]) + Number(f[12]), children: Number(f[13]) + Number(f[14]) };
  } catch {
    return undefined;
  }
}

function busyJiffies() {
  const cpu = readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = cpu;
  return { busy: user + nice + system + irq + softirq + (steal ?? 0), steal: steal ?? 0, idle: idle + iowait };
}

/**
 * CPU used during a window, in cores: by workerd, by this Node process, by reaped children
 * (wrk, once it exited), and by everything else on the machine ("background": other users of a
 * shared box, which make the numbers less trustworthy).
 */
export function startCpuMeter() {
  const snap = () => {
    const workerd = new Map();
    for (const pid of descendantsNamed("workerd")) {
      const t = procTimes(pid);
      if (t) workerd.set(pid, t.self);
    }
    return { at: performance.now(), sys: busyJiffies(), self: procTimes(process.pid), workerd };
  };
  const a = snap();
  return {
    stop() {
      const b = snap();
      const seconds = (b.at - a.at) / 1000;
      const cores = (jiffies) => Math.round((jiffies / CLK_TCK / seconds) * 100) / 100;
      let workerd = 0;
      for (const [pid, t] of b.workerd) workerd += t - (a.workerd.get(pid) ?? 0);
      const node = b.self.self - a.self.self;
      const children = b.self.children - a.self.children; // wrk after it was reaped
      const total = b.sys.busy - a.sys.busy;
      return {
        workerd_cpu_ms: (workerd / CLK_TCK) * 1000,
        workerd_cores: cores(workerd),
        node_cores: cores(node),
        load_tool_cores: cores(children),
        background_cores: cores(Math.max(0, total - workerd - node - children)),
        steal_cores: cores(b.sys.steal - a.sys.steal),
      };
    },
  };
}

/** Wait until workerd has been (nearly) idle for a second: post-ack processing has drained. */
export async function drained(maxSeconds = 60) {
  const t0 = performance.now();
  for (;;) {
    const meter = startCpuMeter();
    await new Promise((r) => setTimeout(r, 1000));
    if (meter.stop().workerd_cores < 0.05 || performance.now() - t0 > maxSeconds * 1000) return;
  }
}
