import { nearTerms } from "./fuzzy";
import type { MatchIndex } from "./index";
import { words } from "./normalize";

/**
 * BM25 over the tags' documents (src/bot/content-match/index.ts): each distinct word of the
 * message adds idf × saturated term frequency, normalised by the document's length. Scores are
 * divided by the most one word can add (a word only one tag holds, saturated), so a threshold
 * reads the same for a library of 5 tags or of 200: 1 is "one distinctive word, fully".
 */

/**
 * Term-frequency saturation: higher than BM25's usual 1.2, so the weight of a tag's own name and
 * keywords (index.ts LABEL_WEIGHT) is not saturated away by one passing mention in another tag's
 * responses. Chosen over the labelled set as a whole (test/fixtures/suggestions), with LABEL_WEIGHT,
 * RELATIVE_CUTOFF and the default threshold (docs/SUGGESTIONS.md "Quality, measured").
 */
export const K1 = 3;
/** Length normalisation, BM25's usual value. */
export const B = 0.75;
/** A misspelt word (one edit from a library word) counts this much of the word it resembles. */
export const NEAR_WEIGHT = 0.7;
/** A tag scoring below this share of the best tag's score is not suggested with it. */
export const RELATIVE_CUTOFF = 0.85;

/** Most tags suggested for one message. */
export const MAX_SUGGESTED_TAGS = 3;

/** A tag and how well the message fits it. */
export interface Scored {
  tag: string;
  score: number;
}

/** Options of {@link suggest}. */
export interface SuggestOptions {
  /** Lowest score suggested. */
  threshold: number;
  /** Most tags suggested. */
  max: number;
}

const idf = (n: number, df: number) => Math.log(1 + (n - df + 0.5) / (df + 0.5));

/** Every tag the message `text` shares a word with, best first. */
export function rank(index: MatchIndex, text: string): Scored[] {
  const n = index.tags.length;
  if (n === 0) return [];
  const df = (term: string) => index.postings.get(term)!.length;
  const query = new Map<string, number>();
  for (const word of new Set(words(text, { english: index.english }))) {
    if (index.postings.has(word)) {
      query.set(word, 1);
      continue;
    }
    // The rarest library word it may be a misspelling of.
    const near = nearTerms(word, index.byLength).sort((a, b) => df(a) - df(b))[0];
    if (near !== undefined && !query.has(near)) query.set(near, NEAR_WEIGHT);
  }
  const scores = new Float64Array(n);
  for (const [term, weight] of query) {
    const postings = index.postings.get(term)!;
    const termIdf = idf(n, postings.length);
    for (const [doc, tf] of postings) {
      const norm = K1 * (1 - B + (B * index.lengths[doc]) / index.averageLength);
      scores[doc] += weight * termIdf * ((tf * (K1 + 1)) / (tf + norm));
    }
  }
  const unit = idf(n, 1) * (K1 + 1);
  const scored: Scored[] = [];
  for (let doc = 0; doc < n; doc++) if (scores[doc] > 0) scored.push({ tag: index.tags[doc], score: scores[doc] / unit });
  return scored.sort((a, b) => b.score - a.score);
}

/**
 * The tags to suggest for `text`: at least `threshold`, within {@link RELATIVE_CUTOFF} of the
 * best, at most `max`, best first.
 */
export function suggest(index: MatchIndex, text: string, options: SuggestOptions): Scored[] {
  const ranked = rank(index, text).filter((s) => s.score >= options.threshold);
  const best = ranked[0]?.score ?? 0;
  return ranked.filter((s) => s.score >= best * RELATIVE_CUTOFF).slice(0, options.max);
}
