/**
 * Rate limits on the doors anyone can knock on, with Cloudflare's Workers Rate Limiting binding
 * (wrangler.toml `[[ratelimits]]`; docs/SECURITY.md "Limits"). Counts are per Cloudflare location
 * and approximate; every window is {@link RATE_WINDOW_SECONDS}. Webhooks are never limited by IP.
 */

/** The window of every limiter in wrangler.toml (the binding allows 10 or 60 seconds). */
export const RATE_WINDOW_SECONDS = 60;

/** Key of the fleet-wide ceiling on failed admin attempts (one counter for every client). */
export const FLEET_KEY = "all";

/** Most keys remembered as exhausted in one isolate; the map is cleared past this. */
const MEMORY_LIMIT = 10_000;
/** `${limiter}:${key}` → when its window ends (epoch ms), for keys that used up their limit here. */
const exhaustedUntil = new Map<string, number>();

/**
 * The client's address as Cloudflare reports it (`CF-Connecting-IP`, set by Cloudflare, never the
 * client's own header); an IPv6 address counts as its /64, which one client usually holds whole.
 */
export function clientKey(request: Request): string {
  const ip = request.headers.get("cf-connecting-ip")?.trim() || "unknown";
  return ip.includes(":") ? ipv6Prefix64(ip) : ip;
}

/**
 * Count one attempt for `key` on `limiter`; false once its limit for the window is used up (the
 * key is then also remembered here, see {@link exhausted}). A deployment without the binding, or
 * a binding that fails, limits nothing: the limiter protects the doors, it must not close them.
 */
export async function spend(limiter: RateLimit | undefined, name: string, key: string): Promise<boolean> {
  if (!limiter) return true;
  let success: boolean;
  try {
    ({ success } = await limiter.limit({ key }));
  } catch {
    return true;
  }
  if (!success) {
    if (exhaustedUntil.size >= MEMORY_LIMIT) exhaustedUntil.clear();
    exhaustedUntil.set(`${name}:${key}`, windowEnd(Date.now()));
  }
  return success;
}

/**
 * Whether `key` used up its limit on `name` in this window, as far as this isolate saw, without
 * counting: lets a door refuse before it checks a guess (the binding has no read-only query).
 */
export function exhausted(name: string, key: string, now = Date.now()): boolean {
  const until = exhaustedUntil.get(`${name}:${key}`);
  if (until === undefined) return false;
  if (until > now) return true;
  exhaustedUntil.delete(`${name}:${key}`);
  return false;
}

/** Seconds until the current window ends (the `Retry-After` of a 429), at least 1. */
export function retryAfterSeconds(now = Date.now()): number {
  return Math.max(1, Math.ceil((windowEnd(now) - now) / 1000));
}

function windowEnd(now: number): number {
  const period = RATE_WINDOW_SECONDS * 1000;
  return (Math.floor(now / period) + 1) * period;
}

/** The first four groups of an IPv6 address, expanded (`2001:db8::1` → `2001:db8:0:0::/64`). */
function ipv6Prefix64(ip: string): string {
  const [head, tail] = ip.toLowerCase().split("::", 2);
  const left = head ? head.split(":") : [];
  const right = tail !== undefined && tail !== "" ? tail.split(":") : [];
  const groups = tail === undefined ? left : [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill("0"), ...right];
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, "")).join(":")}::/64`;
}
