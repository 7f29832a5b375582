/**
 * Misspellings: a word of a message the library does not hold may be one edit (a letter added,
 * dropped, changed, or two swapped: Damerau–Levenshtein distance 1) away from one it does
 * ("refnud" → "refund", "pakage" → "package"). Short words are left alone: at four letters and
 * fewer, one edit turns most words into other real words.
 */

/** Shortest word looked up as a possible misspelling. */
export const MIN_FUZZY_LENGTH = 5;

/** True when `a` and `b` differ by at most one insertion, deletion, substitution or swap of neighbours. */
export function oneEditApart(a: string, b: string): boolean {
  if (a === b) return true;
  if (Math.abs(a.length - b.length) > 1) return false;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  if (a.length === b.length) {
    const rest = (k: number) => a.slice(k) === b.slice(k);
    return rest(i + 1) || (a[i] === b[i + 1] && a[i + 1] === b[i] && rest(i + 2));
  }
  const [long, short] = a.length > b.length ? [a, b] : [b, a];
  return long.slice(i + 1) === short.slice(i);
}

/** The terms of `byLength` one edit from `word`, when it is long enough to look up. */
export function nearTerms(word: string, byLength: ReadonlyMap<number, readonly string[]>): string[] {
  if (word.length < MIN_FUZZY_LENGTH) return [];
  const found: string[] = [];
  for (const length of [word.length - 1, word.length, word.length + 1]) {
    for (const term of byLength.get(length) ?? []) if (oneEditApart(word, term)) found.push(term);
  }
  return found;
}
