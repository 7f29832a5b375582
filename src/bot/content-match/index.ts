import { words } from "./normalize";

/**
 * The content matcher's index over a license's suggestion library: one document per tag, made
 * of the tag's name, its keywords and its canned responses. Name and keywords say what the tag is
 * about and weigh more than the responses' words (a field weight, as BM25F does).
 */

/** One tag of the library. */
export interface LibraryEntry {
  tag: string;
  texts: readonly string[];
  keywords?: readonly string[];
}

/**
 * The library a license configured: each tag with suggestions (`tagSuggestions`), with its
 * keywords (`tagKeywords`; keywords of a tag without suggestions have nothing to bring). Own keys
 * only: a tag is free text, and a plain object also "has" `constructor`, `toString`…
 */
export function libraryOf(
  tagSuggestions: Readonly<Record<string, readonly string[]>>,
  tagKeywords: Readonly<Record<string, readonly string[]>>,
): LibraryEntry[] {
  return Object.entries(tagSuggestions).map(([tag, texts]) => ({ tag, texts, keywords: Object.hasOwn(tagKeywords, tag) ? tagKeywords[tag] : [] }));
}

/** Options of {@link buildIndex}. */
export interface IndexOptions {
  /** English function words dropped and English stems, in the library and the messages (src/bot/content-match/normalize.ts); default true. */
  english?: boolean;
}

/**
 * What scoring needs, as an inverted index: scoring a message reads only the postings of its
 * words, whatever the library's size. Built once per library (see {@link IndexCache}).
 */
export interface MatchIndex {
  /** The tags (documents), in library order. */
  tags: string[];
  /** Each document's weighted length. */
  lengths: number[];
  averageLength: number;
  /** Term → the documents holding it, as [document, weighted frequency]; its length is the term's document frequency. */
  postings: Map<string, [number, number][]>;
  /** Terms by length, for the near-miss lookup of misspelt words. */
  byLength: Map<number, string[]>;
  english: boolean;
}

/** Weight of a word of the tag's name or keywords against one of its responses. */
export const LABEL_WEIGHT = 5;

/** Build the index of `entries`. */
export function buildIndex(entries: readonly LibraryEntry[], options: IndexOptions = {}): MatchIndex {
  const english = options.english ?? true;
  const postings = new Map<string, [number, number][]>();
  const lengths = entries.map(({ tag, texts, keywords = [] }, doc) => {
    const terms = new Map<string, number>();
    const add = (text: string, weight: number) => {
      for (const word of words(text, { english })) terms.set(word, (terms.get(word) ?? 0) + weight);
    };
    for (const label of [tag, ...keywords]) add(label, LABEL_WEIGHT);
    for (const text of texts) add(text, 1);
    let length = 0;
    for (const [term, weight] of terms) {
      length += weight;
      const list = postings.get(term);
      if (list) list.push([doc, weight]);
      else postings.set(term, [[doc, weight]]);
    }
    return length;
  });
  const byLength = new Map<number, string[]>();
  for (const term of postings.keys()) {
    const list = byLength.get(term.length);
    if (list) list.push(term);
    else byLength.set(term.length, [term]);
  }
  const averageLength = lengths.reduce((sum, l) => sum + l, 0) / Math.max(lengths.length, 1);
  return { tags: entries.map((e) => e.tag), lengths, averageLength, postings, byLength, english };
}

/**
 * The last index built per license, rebuilt only when its library changes: the key is the
 * library itself (its JSON), so an edited setting is never matched against a stale index and an
 * unchanged one is never rebuilt. Bounded: the least recently used license goes first.
 */
export class IndexCache {
  private readonly entries = new Map<string, { key: string; index: MatchIndex }>();

  constructor(private readonly capacity = 32) {}

  /** The index of `entries` for `license`, built on first use and after each change. */
  get(license: string, entries: readonly LibraryEntry[], options: IndexOptions = {}): MatchIndex {
    const key = JSON.stringify([options.english ?? true, entries]);
    const cached = this.entries.get(license);
    this.entries.delete(license);
    const index = cached?.key === key ? cached.index : buildIndex(entries, options);
    this.entries.set(license, { key, index });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value!);
    return index;
  }
}
