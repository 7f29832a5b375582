/**
 * Webhook authenticity: LiveChat echoes the registered `secret_key` in every body; there is no
 * signature header (docs/LIVECHAT.md §1.3). The comparison is constant time: no early exit on the first
 * differing byte, on a length mismatch, or on the first accepted secret that matches.
 */

const encoder = new TextEncoder();

/**
 * Compare two byte sequences in time that depends only on their lengths: every index up to the
 * longer length is read on both sides (missing bytes count as 0) and differences are OR-ed, with
 * the length difference folded in. Exported for tests.
 */
export function constantTimeEqual(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  const aLength = a.length;
  const bLength = b.length;
  const length = aLength > bLength ? aLength : bLength;
  let diff = aLength ^ bLength;
  for (let i = 0; i < length; i++) {
    const x = i < aLength ? a[i] : 0;
    const y = i < bLength ? b[i] : 0;
    diff |= x ^ y;
  }
  return diff === 0;
}

/**
 * True when `given` equals one of the `accepted` secrets (the current one and, during a rotation,
 * the previous one). Every candidate is compared in full with {@link constantTimeEqual}, without
 * short-circuiting; empty strings never match (an unset previous secret is `""`). Synchronous.
 */
export function secretMatches(given: string, accepted: readonly string[]): boolean {
  const g = encoder.encode(typeof given === "string" ? given : "");
  let matched = 0;
  for (const secret of accepted) {
    const s = encoder.encode(typeof secret === "string" ? secret : "");
    const equal = constantTimeEqual(g, s) ? 1 : 0;
    matched |= equal & (s.length > 0 ? 1 : 0);
  }
  return (matched & (g.length > 0 ? 1 : 0)) === 1;
}
