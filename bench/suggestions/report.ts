import { readFileSync } from "node:fs";
import { buildIndex, libraryOf } from "../../src/bot/content-match/index";
import { rank } from "../../src/bot/content-match/score";
import { DEFAULT_SUGGESTION_THRESHOLD } from "../../src/licenses/settings";
import { evaluate, type LabelledLibrary, type LabelledMessage } from "./evaluate";

/**
 * Bundled and run by bench/suggestions/run.mjs: quality at the default threshold (the goal:
 * precision ≥ 0.9 at recall ≥ 0.6), the same without keywords and without the English step, a
 * threshold sweep, and the matcher's cost (index build, one message). Prints one JSON line.
 */

const [libraryFile, messagesFile] = process.argv.slice(2);
const library = JSON.parse(readFileSync(libraryFile, "utf8")) as LabelledLibrary;
const messages = JSON.parse(readFileSync(messagesFile, "utf8")) as LabelledMessage[];
const threshold = DEFAULT_SUGGESTION_THRESHOLD;

const main = evaluate(library, messages, { threshold });
const sweep = [0.3, 0.4, 0.5, 0.6, 0.8, 1].map((t) => ({ threshold: t, ...pick(evaluate(library, messages, { threshold: t }).all) }));

// Cost: microseconds, median of repeated runs (Node's V8; the Worker's is the same engine).
const entries = libraryOf(library.tagSuggestions, library.tagKeywords);
const time = (fn: () => void, runs: number) => {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    samples.push((performance.now() - t0) * 1000);
  }
  return Math.round(samples.sort((a, b) => a - b)[runs >> 1] * 10) / 10;
};
const index = buildIndex(entries);
time(() => messages.forEach((m) => rank(index, m.text)), 20); // warm-up
const buildUs = time(() => buildIndex(entries), 50);
const allUs = time(() => messages.forEach((m) => rank(index, m.text)), 50);

process.stdout.write(
  JSON.stringify({
    threshold,
    goal: { precision: 0.9, recall: 0.6 },
    met: (main.all.precision ?? 0) >= 0.9 && (main.all.recall ?? 0) >= 0.6,
    all: main.all,
    by_kind: main.byKind,
    without_keywords: evaluate(library, messages, { threshold, keywords: false }).all,
    without_english_step: evaluate(library, messages, { threshold, english: false }).all,
    sweep,
    cost_us: { index_build: buildUs, per_message: Math.round((allUs / messages.length) * 10) / 10 },
    library: { tags: entries.length, texts: entries.reduce((n, e) => n + e.texts.length, 0), keywords: entries.reduce((n, e) => n + (e.keywords?.length ?? 0), 0) },
    misses: main.outcomes
      .filter((o) => !(o.got.length === o.message.tags.length && o.got.every((t) => o.message.tags.includes(t))))
      .map((o) => ({ id: o.message.id, kind: o.message.kind, want: o.message.tags, got: o.got, text: o.message.text })),
  }) + "\n",
);

function pick(q: { precision: number | null; recall: number | null; falseAlarms: number }) {
  return { precision: q.precision, recall: q.recall, false_alarms: q.falseAlarms };
}
