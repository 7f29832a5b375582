/**
 * A fresh client address, sent as `CF-Connecting-IP`: the rate-limited doors (/install, /admin)
 * count per client (src/http/rate-limit.ts), and tests that are not about the limits must not
 * share one counter. Locally the header is taken as sent; on Cloudflare the edge sets it.
 */
export function anyClientIp(): string {
  const b = crypto.getRandomValues(new Uint8Array(3));
  return `10.${b[0]}.${b[1]}.${b[2]}`;
}

/** Headers of a request from a fresh client ({@link anyClientIp}). */
export function fromAnyClient(headers: HeadersInit = {}): Headers {
  const h = new Headers(headers);
  if (!h.has("cf-connecting-ip")) h.set("cf-connecting-ip", anyClientIp());
  return h;
}
