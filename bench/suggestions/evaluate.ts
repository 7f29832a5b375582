import { buildIndex, libraryOf } from "../../src/bot/content-match/index";
import { MAX_SUGGESTED_TAGS, suggest } from "../../src/bot/content-match/score";

/**
 * Precision and recall of the content suggestions (src/bot/content-match) over a labelled set
 * (test/fixtures/suggestions): the bot suggests the tags `suggest` returns for a message; a
 * suggested tag is right when the message is labelled with it. Shared by `npm run
 * bench:suggestions` and the regression test (test/bot/content-match/labelled-set.test.ts).
 */

/** The library as a license configures it (library.json). */
export interface LabelledLibrary {
  tagSuggestions: Record<string, string[]>;
  tagKeywords: Record<string, string[]>;
}

/** One labelled customer message (messages.json). */
export interface LabelledMessage {
  id: string;
  kind: string;
  tags: string[];
  text: string;
}

/** Counts and their ratios. */
export interface Quality {
  messages: number;
  /** Tags suggested, right ones, and labelled. */
  suggested: number;
  correct: number;
  labelled: number;
  /** correct / suggested; null when nothing was suggested. */
  precision: number | null;
  /** correct / labelled; null when nothing was labelled. */
  recall: number | null;
  /** Messages with a suggestion although labelled with none. */
  falseAlarms: number;
}

/** What to measure. */
export interface EvaluateOptions {
  threshold: number;
  /** Use the library's keywords (default true). */
  keywords?: boolean;
  /** English step of the matcher (default true). */
  english?: boolean;
}

/** One message's outcome. */
export interface Outcome {
  message: LabelledMessage;
  got: string[];
}

/** Precision and recall over `messages`, overall and per kind, plus each message's outcome. */
export function evaluate(
  library: LabelledLibrary,
  messages: readonly LabelledMessage[],
  options: EvaluateOptions,
): { all: Quality; byKind: Record<string, Quality>; outcomes: Outcome[] } {
  const index = buildIndex(libraryOf(library.tagSuggestions, options.keywords === false ? {} : library.tagKeywords), {
    english: options.english ?? true,
  });
  const outcomes = messages.map((message) => ({
    message,
    got: suggest(index, message.text, { threshold: options.threshold, max: MAX_SUGGESTED_TAGS }).map((s) => s.tag),
  }));
  const kinds = [...new Set(messages.map((m) => m.kind))];
  return {
    all: quality(outcomes),
    byKind: Object.fromEntries(kinds.map((k) => [k, quality(outcomes.filter((o) => o.message.kind === k))])),
    outcomes,
  };
}

function quality(outcomes: readonly Outcome[]): Quality {
  let suggested = 0;
  let correct = 0;
  let labelled = 0;
  let falseAlarms = 0;
  for (const { message, got } of outcomes) {
    suggested += got.length;
    correct += got.filter((tag) => message.tags.includes(tag)).length;
    labelled += message.tags.length;
    if (message.tags.length === 0 && got.length > 0) falseAlarms++;
  }
  const ratio = (a: number, b: number) => (b === 0 ? null : Math.round((a / b) * 1000) / 1000);
  return { messages: outcomes.length, suggested, correct, labelled, precision: ratio(correct, suggested), recall: ratio(correct, labelled), falseAlarms };
}
