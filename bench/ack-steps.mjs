#!/usr/bin/env node
/**
 * `npm run bench:steps [-- STEP …]`: what each step of the ack costs, by ablation in workerd. For
 * each step, a build of REF (default HEAD; AB_REF) with that step removed or done baseline (b)'s
 * way runs next to the unchanged build and baseline (b) in one workerd, as `npm run bench:ab`
 * does (bench/lib/ack-cost.mjs: sequential µs per ack, loops interleaved). The step's cost is the
 * difference, in wall time (p10) and in workerd's CPU time (median; /proc schedstat, which leaves
 * out the time workerd waits for a CPU on a shared machine). The ablated builds are measuring
 * instruments only: each drops something the contract needs.
 *
 * Counted in instructions by default (valgrind's callgrind, bench/lib/instructions.mjs: the same on
 * a loaded machine as on a quiet one; instructions, not time). AB_WALL=1 (or without valgrind):
 * wall time (p10) and workerd's CPU time (median; /proc schedstat), which a shared machine moves.
 *
 * Both livechat-edge builds hold their processing back for the whole measurement (the pressure
 * rule's constants changed, src/deliveries/pressure.ts), so a processing pass never runs inside a
 * loop, also when the loops are slower than the pressure rule's burst rate (under valgrind, or on
 * a loaded machine). That changes no step of the ack: in the bench's steady state a wake-up is set
 * already and the ack only checks it.
 *
 * Knobs: AB_N (acks per loop: 60 counting instructions, 200 in wall time), AB_ROUNDS (4 / 16; the
 * first quarter is not counted), AB_REF (HEAD), AB_WALL. `--check`: only tell whether every edit
 * still finds its text in the working tree (test/scripts runs it, so a change to the ack path
 * that leaves an edit behind fails CI, not the next measurement).
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { measureAckCost } from "./lib/ack-cost.mjs";
import { exportTree, wranglerBuild } from "./lib/build.mjs";
import { callgrindAvailable } from "./lib/instructions.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const INSTRUCTIONS = process.env.AB_WALL !== "1" && callgrindAvailable();
const N = Number(process.env.AB_N ?? (INSTRUCTIONS ? 60 : 200));
const ROUNDS = Number(process.env.AB_ROUNDS ?? (INSTRUCTIONS ? 4 : 16));
const REF = process.env.AB_REF ?? "HEAD";
const log = (msg) => process.stderr.write(`[steps] ${msg}\n`);

/**
 * Applied to both livechat-edge builds: processing held back while the loops run (see the header).
 * Counting instructions, for an hour (the priming's too: it is not waited for); in wall time, for
 * the whole measurement, after the priming's processing ran.
 */
const HOLD_FOREVER = [
  ["src/deliveries/pressure.ts", "export const BUSY_ACCEPTS_PER_SECOND = 500;", "export const BUSY_ACCEPTS_PER_SECOND = 1;"],
  ["src/deliveries/pressure.ts", "export const MIN_HOLD_MS = 10_000;", "export const MIN_HOLD_MS = 3_600_000;"],
  ["src/deliveries/pressure.ts", "export const MAX_PROCESSING_LAG_MS = 30_000;", "export const MAX_PROCESSING_LAG_MS = 3_600_000;"],
];
const HOLD_PROCESSING = [
  ["src/deliveries/pressure.ts", "export const BUSY_ACCEPTS_PER_SECOND = 500;", "export const BUSY_ACCEPTS_PER_SECOND = 20;"],
  ["src/deliveries/pressure.ts", "export const MAX_PROCESSING_LAG_MS = 30_000;", "export const MAX_PROCESSING_LAG_MS = 300_000;"],
];

/** Each step: what the ack does without it (or as baseline (b) does it). */
const STEPS = {
  read: {
    what: "the body read: Content-Length and Content-Type checks, arrayBuffer + strict UTF-8 decode → request.text()",
    edits: [
      [
        "src/routes/webhooks.ts",
        "  const body = await readJsonBody(request, MAX_WEBHOOK_BODY_BYTES);\n  if (!body.ok) return reject(kind, body.type, body.message);\n  return receiveWebhook(kind, body.value, body.text, deps);",
        "  const text = await request.text();\n  return receiveWebhook(kind, JSON.parse(text), text, deps);",
      ],
    ],
  },
  envelope: {
    what: "parseEnvelope's nesting-depth walk",
    edits: [["src/livechat/webhooks/envelope.ts", "if (problems.length === 0 && nestingDepth(body) > MAX_BODY_DEPTH) {", "if (problems.length < 0) {"]],
  },
  verify: {
    what: "the constant-time secret check → ===",
    edits: [
      [
        "src/livechat/webhooks/verify.ts",
        "export function secretMatches(given: string, accepted: readonly string[]): boolean {\n",
        "export function secretMatches(given: string, accepted: readonly string[]): boolean {\n  if (given.length > 0) return given === accepted[0] || given === accepted[1];\n",
      ],
    ],
  },
  "stored-body": {
    what: "cutting the secret out of the stored text → the text as received",
    edits: [["src/webhooks/receive.ts", "let stored = storedBody(text, record);", "let stored = text;"]],
  },
  uuid: {
    what: "the row's random id (crypto.randomUUID) → ''",
    edits: [["src/deliveries/inbox.ts", "VALUES (?, ?, ?, ?)\", this.newId(), kind,", "VALUES (?, ?, ?, ?)\", \"\", kind,"]],
  },
  "wake-up": {
    what: "the processing wake-up bookkeeping after the insert (accept rate, deadline checks) when a wake-up is already set",
    edits: [
      [
        "src/deliveries/inbox.ts",
        "    this.pressure.noteAccept(now);\n",
        "    if (this.alarms.deadline(PROCESS_DEADLINE) !== undefined) return undefined;\n    this.pressure.noteAccept(now);\n",
      ],
    ],
  },
};

/** All of the above at once: what is left is what (b) does, in livechat-edge's Worker and DOs. */
STEPS.all = { what: "every step above at once", edits: Object.values(STEPS).flatMap((s) => s.edits) };

function edited(tree, edits) {
  for (const [file, from, to] of edits) {
    const path = join(tree, file);
    const text = readFileSync(path, "utf8");
    if (!text.includes(from)) throw new Error(`${file}: the text to replace is not there any more (update bench/ack-steps.mjs): ${from.slice(0, 80)}`);
    writeFileSync(path, text.replace(from, to));
  }
}

/** Every edit's file, and whether its text is still there (in `tree`). */
function missingEdits(tree) {
  const all = [...HOLD_FOREVER, ...HOLD_PROCESSING, ...STEPS.all.edits];
  return all.filter(([file, from]) => !readFileSync(join(tree, file), "utf8").includes(from)).map(([file, from]) => `${file}: ${from.slice(0, 80)}`);
}

async function main() {
  if (process.argv.includes("--check")) {
    const missing = missingEdits(root);
    for (const m of missing) console.error(`bench:steps: the text to replace is not there any more (update bench/ack-steps.mjs): ${m}`);
    process.exitCode = missing.length > 0 ? 1 : 0;
    return;
  }
  const names = process.argv.slice(2).length > 0 ? process.argv.slice(2) : Object.keys(STEPS);
  for (const name of names) if (!STEPS[name]) throw new Error(`unknown step ${name}; steps: ${Object.keys(STEPS).join(", ")}`);
  const tmp = mkdtempSync(join(tmpdir(), "livechat-edge-steps-"));
  try {
    const build = (label, edits) => {
      const tree = exportTree(root, join(tmp, label), REF);
      edited(tree, [...(INSTRUCTIONS ? HOLD_FOREVER : HOLD_PROCESSING), ...edits]);
      wranglerBuild(tree, join(tmp, `${label}-out`), false);
      return join(tmp, `${label}-out`, "index.js");
    };
    log(`building ${REF} …`);
    const full = build("full", []);
    const rows = [];
    for (const name of names) {
      log(`building ${REF} without ${name} …`);
      const script = build(name, STEPS[name].edits);
      const targets = [
        { name: "baseline (b)", script: join(root, "bench/baselines/durable.js"), app: false },
        { name: REF, script: full, app: true },
        { name: `-${name}`, script, app: true },
      ];
      const r = await measureAckCost({ root, targets, n: N, rounds: ROUNDS, instructions: INSTRUCTIONS, settlePriming: !INSTRUCTIONS, install: !INSTRUCTIONS, log });
      const [b, f, v] = r.targets;
      const row = {
        step: name,
        what: STEPS[name].what,
        ...(INSTRUCTIONS
          ? {
              instructions_per_ack: {
                baseline: b.instructions_per_ack,
                full: f.instructions_per_ack,
                without: v.instructions_per_ack,
                step: f.instructions_per_ack - v.instructions_per_ack,
                spread: { baseline: b.instructions_spread, full: f.instructions_spread, without: v.instructions_spread },
              },
            }
          : {}),
        wall_p10_us: { baseline: b.p10_us, full: f.p10_us, without: v.p10_us, step: f.p10_us - v.p10_us },
        cpu_median_us: { baseline: b.cpu_median_us, full: f.cpu_median_us, without: v.cpu_median_us, step: f.cpu_median_us - v.cpu_median_us },
        cpu_p10_us: { baseline: b.cpu_p10_us, full: f.cpu_p10_us, without: v.cpu_p10_us, step: f.cpu_p10_us - v.cpu_p10_us },
      };
      rows.push(row);
      log(JSON.stringify(row));
    }
    if (INSTRUCTIONS) {
      console.log(`instructions per ack (workerd under callgrind), sequential, ${N} acks × ${ROUNDS} rounds per target (median of counted rounds); step = ${REF} − ${REF} without it:`);
      console.log(`${"step".padEnd(12)}  ${"(b)".padStart(9)}${"full".padStart(9)}${"without".padStart(9)}${"step".padStart(8)}`);
      for (const r of rows) {
        const i = r.instructions_per_ack;
        console.log(`${r.step.padEnd(12)}  ${String(i.baseline).padStart(9)}${String(i.full).padStart(9)}${String(i.without).padStart(9)}${String(i.step).padStart(8)}`);
      }
      return;
    }
    console.log(`µs per ack, sequential, ${N} acks × ${ROUNDS} rounds per target (one workerd per step, loops interleaved); step = ${REF} − ${REF} without it:`);
    console.log(`${"step".padEnd(12)}  wall p10: (b) full without  step  | workerd CPU median: (b) full without  step`);
    const p = (v, w = 5) => String(v ?? "–").padStart(w);
    for (const r of rows) {
      const w = r.wall_p10_us;
      const c = r.cpu_median_us;
      console.log(`${r.step.padEnd(12)}  ${p(w.baseline, 13)}${p(w.full)}${p(w.without, 8)}${p(w.step, 6)}  |${p(c.baseline, 23)}${p(c.full)}${p(c.without, 8)}${p(c.step, 6)}`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
