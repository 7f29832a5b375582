/**
 * LiveChat data-center regions. Access tokens (and PATs) carry the region as a prefix:
 * `dal:…` (USA), `fra:…` (Europe), even `fra-a:…` in GAPI samples; the rule is "everything
 * before the first `:`" (docs/LIVECHAT.md §6.3). Bot JWTs and refresh tokens have no prefix.
 */

/** What a region name may look like; anything else is not a region (and never sent). */
const REGION = /^[a-z][a-z0-9-]{0,31}$/i;

/**
 * The region prefix of a token, or undefined when it has none.
 *
 * @example
 * regionFromToken("dal:abc"); // "dal"
 * regionFromToken("fra-a:x"); // "fra-a"
 * regionFromToken("eyJhbGciOi…"); // undefined (bot JWT)
 */
export function regionFromToken(token: string): string | undefined {
  const colon = token.indexOf(":");
  if (colon <= 0) return undefined;
  return asRegion(token.slice(0, colon));
}

/** `value` when it is a plausible region name (e.g. `data.region` of `misdirected_request`), else undefined. */
export function asRegion(value: unknown): string | undefined {
  return typeof value === "string" && REGION.test(value) ? value : undefined;
}
