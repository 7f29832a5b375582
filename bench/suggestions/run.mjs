#!/usr/bin/env node
/**
 * `npm run bench:suggestions` (and a step of `npm run bench`): precision and recall of the content
 * suggestions over the labelled set in test/fixtures/suggestions, at the default threshold. Quick
 * (about a second), offline, no Worker started: the matcher (src/bot/content-match) is bundled
 * with esbuild and run by Node.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));

/** Measure over the labelled set of `root` (the tree whose src/ is measured). */
export async function runSuggestions({ root = resolve(here, "../..") } = {}) {
  const tmp = mkdtempSync(join(tmpdir(), "livechat-edge-suggestions-"));
  try {
    const outfile = join(tmp, "report.mjs");
    await build({ entryPoints: [join(here, "report.ts")], bundle: true, platform: "node", format: "esm", target: "node20", outfile, logLevel: "error" });
    const fixtures = join(root, "test/fixtures/suggestions");
    const r = spawnSync(process.execPath, [outfile, join(fixtures, "library.json"), join(fixtures, "messages.json")], { encoding: "utf8" });
    if (r.status !== 0) return { available: false, reason: (r.stderr || r.stdout).slice(0, 500) };
    return { available: true, ...JSON.parse(r.stdout.trim().split("\n").pop()) };
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** One line: the numbers at the default threshold. */
export function summary(r) {
  if (!r.available) return `content suggestions: not measured (${r.reason})`;
  const q = (x) => `precision ${x.precision?.toFixed(3)}, recall ${x.recall?.toFixed(3)}`;
  return (
    `content suggestions at threshold ${r.threshold}: ${q(r.all)} over ${r.all.messages} labelled messages ` +
    `(${r.all.correct}/${r.all.suggested} suggested tags right, ${r.all.correct}/${r.all.labelled} labelled tags found; ` +
    `goal precision ≥ ${r.goal.precision} at recall ≥ ${r.goal.recall}: ${r.met ? "PASS" : "FAIL"}); ` +
    `index ${r.cost_us.index_build} µs, ${r.cost_us.per_message} µs per message`
  );
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const r = await runSuggestions();
  if (!r.available) {
    console.error(summary(r));
    process.exit(1);
  }
  const pct = (x) => (x === null ? "–" : x.toFixed(3));
  console.log(summary(r));
  console.log(`\nlibrary: ${r.library.tags} tags, ${r.library.texts} responses, ${r.library.keywords} keywords`);
  console.log("\nby kind          messages  precision  recall  false alarms");
  for (const [kind, q] of Object.entries(r.by_kind)) {
    console.log(`  ${kind.padEnd(14)} ${String(q.messages).padStart(8)}  ${pct(q.precision).padStart(9)}  ${pct(q.recall).padStart(6)}  ${String(q.falseAlarms).padStart(12)}`);
  }
  console.log(`  ${"(all)".padEnd(14)} ${String(r.all.messages).padStart(8)}  ${pct(r.all.precision).padStart(9)}  ${pct(r.all.recall).padStart(6)}  ${String(r.all.falseAlarms).padStart(12)}`);
  console.log(`\nsame threshold, no keywords:      precision ${pct(r.without_keywords.precision)}, recall ${pct(r.without_keywords.recall)}`);
  console.log(`same threshold, no English step:  precision ${pct(r.without_english_step.precision)}, recall ${pct(r.without_english_step.recall)}`);
  console.log("\nthreshold  precision  recall  false alarms");
  for (const s of r.sweep) console.log(`  ${String(s.threshold).padEnd(8)} ${pct(s.precision).padStart(9)}  ${pct(s.recall).padStart(6)}  ${String(s.false_alarms).padStart(12)}`);
  if (process.env.SHOW_MISSES) for (const m of r.misses) console.log(`${m.id} ${m.kind.padEnd(5)} want ${JSON.stringify(m.want)} got ${JSON.stringify(m.got)}  ${m.text}`);
}
