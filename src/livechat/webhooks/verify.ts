import { createHash } from "node:crypto";

/**
 * Webhook authenticity: LiveChat echoes the registered `secret_key` in every body; there is no
 * signature header (docs/LIVECHAT.md §1.3). The comparison is the runtime's constant-time
 * `crypto.subtle.timingSafeEqual` over SHA-256 digests, Cloudflare's documented way: digests have
 * one length whatever the secret's, so neither a length nor the first differing byte shows in the
 * time taken, and a native comparison is not a loop a JIT may cut short.
 */

/** Digests of accepted secrets: the configuration names the same few on every request. */
const acceptedDigests = new Map<string, Uint8Array>();
/** Bound on that cache (one-off values compared too, e.g. an OAuth state, must not grow it). */
const MAX_CACHED_DIGESTS = 8;

/** SHA-256 of a string's UTF-8 bytes, synchronously (`node:crypto`, with nodejs_compat). */
function sha256(value: string): Uint8Array {
  return createHash("sha256").update(value, "utf8").digest();
}

function acceptedDigest(secret: string): Uint8Array {
  let digest = acceptedDigests.get(secret);
  if (!digest) {
    if (acceptedDigests.size >= MAX_CACHED_DIGESTS) acceptedDigests.clear();
    digest = sha256(secret);
    acceptedDigests.set(secret, digest);
  }
  return digest;
}

/**
 * True when `given` equals one of the `accepted` secrets (the current one and, during a rotation,
 * the previous one). Every candidate's digest is compared with `crypto.subtle.timingSafeEqual`,
 * without short-circuiting; empty strings never match (an unset previous secret is `""`).
 * Synchronous: it runs on every webhook's ack.
 */
export function secretMatches(given: string, accepted: readonly string[]): boolean {
  const givenText = typeof given === "string" ? given : "";
  const digest = sha256(givenText);
  let matched = 0;
  for (const secret of accepted) {
    const text = typeof secret === "string" ? secret : "";
    const equal = crypto.subtle.timingSafeEqual(digest, acceptedDigest(text)) ? 1 : 0;
    matched |= equal & (text.length > 0 ? 1 : 0);
  }
  return (matched & (givenText.length > 0 ? 1 : 0)) === 1;
}
