#!/usr/bin/env node
/**
 * The benchmark's results as text, from a results file (default bench/results/latest.json), so
 * the documents and the committed results cannot drift apart:
 *
 *   node bench/readme-table.mjs [results.json]           print everything
 *   node bench/readme-table.mjs --write [results.json]   put it into README.md (the table and the
 *                                                        budget lines) and docs/BENCHMARK.md (all)
 *   node bench/readme-table.mjs --check [results.json]   exit 1 when either differs (CI)
 *
 * Each document holds its part between `<!-- bench:results -->` and `<!-- /bench:results -->`.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const args = process.argv.slice(2);
const mode = args.includes("--write") ? "write" : args.includes("--check") ? "check" : "print";
const file = resolve(root, args.find((a) => !a.startsWith("--")) ?? "bench/results/latest.json");
const r = JSON.parse(readFileSync(file, "utf8"));
const kib = (b) => `${(b / 1024).toFixed(1)} KiB`;
const m = r.machine;
const out = [];
out.push(
  `Measured ${r.measured_at.slice(0, 10)} at commit \`${String(r.commit).slice(0, 7)}\` on ${m.cpu} (${m.cores} cores, ${m.memory_gib} GiB), ` +
    `${m.os}; Node ${m.node}, workerd ${m.workerd} (miniflare ${m.miniflare}), ${m.load_tool.split(" [")[0]}. ` +
    `${r.settings.connections} connections to ${r.settings.socket ?? "Miniflare's entry worker"}, ${r.settings.warmupSeconds} s warm-up + ${r.settings.seconds} s measured per target, ` +
    `median of ${r.settings.rounds} interleaved rounds; ${r.settings.pool.chats} chats over ${r.settings.pool.organizations} organizations, all primed first.`,
);
out.push("");
out.push("| target | req/s | p50 ms | p99 ms | errors | new-chat req/s | cold start ms | peak RSS MiB |");
out.push("|---|---:|---:|---:|---:|---:|---:|---:|");
for (const [key, l] of Object.entries(r.load)) {
  if (!l.available) {
    out.push(`| ${l.label} | — | — | — | — | — | ${r.cold_start[key]?.total_ms ?? "—"} | — |`);
    continue;
  }
  const prime = Math.round(l.rounds.reduce((a, x) => a + (x.prime?.rps ?? 0), 0) / l.rounds.length);
  out.push(
    `| ${l.label} | ${Math.round(l.rps)} | ${l.p50_ms} | ${l.p99_ms} | ${l.errors} | ${prime} | ${r.cold_start[key]?.total_ms ?? "—"} | ${l.peak_memory_mib} |`,
  );
}
for (const [k, v] of Object.entries(r.ratios)) {
  out.push(`| livechat-edge ÷ ${k === "app_vs_bare" ? "baseline (a)" : "baseline (b)"} | ${v.rps}× | ${v.p50}× | ${v.p99}× | | | | |`);
}
const head = out.splice(0);
const s = r.bundle.sizes;
out.push(
  `Bundle: ${kib(s.raw_bytes)} raw (gzip ${kib(s.raw_gzip_bytes)}), ${kib(s.minified_bytes)} minified (gzip ${kib(s.minified_gzip_bytes)}); ` +
    `\`wrangler deploy\` uploads the ${r.bundle.deployed} one. Largest (minified): ` +
    `${r.bundle.contributors.minified.byGroup.slice(0, 6).map((c) => `${c.name} ${kib(c.bytes)}`).join(", ")}.`,
);
const kept = r.load.app?.rounds?.map((x) => x.processing).filter(Boolean) ?? [];
if (kept.length) {
  out.push(
    "",
    `Post-ack processing by livechat-edge during warm-up + measurement, per round: ` +
      `${kept.map((x) => `${x.processed} of ${x.accepted} acks processed`).join("; ")}. ` +
      (r.load.app.end_to_end_rps !== undefined
        ? `Counting the drain after the load until every accepted delivery was processed: ` +
          `${r.load.app.end_to_end_rps} deliveries/s end to end (per round ${kept.map((x) => `${x.end_to_end_rps}/s, drain ${x.drain_s} s` + (x.drain_busy_s !== undefined ? `, of which ${x.drain_busy_s} s processing at ${x.drain_rps}/s` : "")).join("; ")}).`
        : ""),
  );
}
const bg = r.background_load;
if (bg) {
  out.push(
    "",
    `Other processes on the machine used a median ${bg.median_cores} of its ${m.cores} cores during the measured windows` +
      `${bg.median_cores > 0.2 ? " (a shared machine: absolute numbers are depressed and noisy; watch the ratios)" : ""}.`,
  );
}
if (r.micro.available) out.push("", `Ack path's steps in isolation, no I/O (${r.micro.runtime}): ${r.micro.summary}.`);
if (r.ack_cost?.targets) {
  const [b, a] = r.ack_cost.targets;
  out.push(
    "",
    `Ack cost, sequential (\`npm run bench:ab\`'s method, ${r.ack_cost.n} acks × ${r.ack_cost.rounds} rounds per target, loops interleaved in one workerd): ` +
      `baseline (b) ${b.p10_us} µs per ack (p10; median ${b.median_us}), livechat-edge ${a.p10_us} µs (median ${a.median_us}).`,
  );
}
const details = out.splice(0);
const budgets = r.budgets.map((b) =>
  b.gated === false ? `- ${b.name}: ${b.actual} (reported, not gated)` : `- **${b.pass ? "PASS" : "FAIL"}** ${b.name}: ${b.actual}`,
);

const everything = [...head, "", ...details, "", ...budgets].join("\n");
if (mode === "print") {
  process.stdout.write(`${everything}\n`);
} else {
  const blocks = { "README.md": [...head, "", ...budgets].join("\n"), "docs/BENCHMARK.md": everything };
  let stale = 0;
  for (const [name, block] of Object.entries(blocks)) {
    const path = resolve(root, name);
    const text = readFileSync(path, "utf8");
    const m = /(<!-- bench:results -->\n)([\s\S]*?)(\n<!-- \/bench:results -->)/.exec(text);
    if (!m) {
      console.error(`${name}: no <!-- bench:results --> … <!-- /bench:results --> block`);
      stale++;
      continue;
    }
    if (m[2] === block) continue;
    if (mode === "write") {
      writeFileSync(path, text.slice(0, m.index) + m[1] + block + m[3] + text.slice(m.index + m[0].length));
      console.log(`${name}: results of ${String(r.commit).slice(0, 7)} written`);
    } else {
      console.error(`${name}: its benchmark results differ from ${args.find((a) => !a.startsWith("--")) ?? "bench/results/latest.json"}; run node bench/readme-table.mjs --write`);
      stale++;
    }
  }
  process.exitCode = stale ? 1 : 0;
}
