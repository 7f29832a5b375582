import { env, exports } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { anyClientIp } from "../helpers/client";
import { ADMIN_TOKEN, ORIGIN } from "../routes/admin/helpers";

/**
 * Threat (issue 21, item 3): guessing `ADMIN_TOKEN` online, through the login form or as a Bearer
 * token. Each client gets ADMIN_LIMITER's 10 attempts a minute (wrangler.toml); every client
 * together gets ADMIN_FAILURES' failed attempts, then 429 with Retry-After.
 */

/** ADMIN_LIMITER's limit in wrangler.toml. */
const ADMIN_LIMIT = 10;

afterEach(() => vi.restoreAllMocks());

const login = (ip: string, token: string) =>
  exports.default.fetch(`${ORIGIN}/admin/login`, {
    method: "POST",
    redirect: "manual",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: ORIGIN, "cf-connecting-ip": ip },
    body: new URLSearchParams({ token }).toString(),
  });

const bearer = (ip: string, token: string) =>
  exports.default.fetch(`${ORIGIN}/admin/api/licenses`, { headers: { authorization: `Bearer ${token}`, "cf-connecting-ip": ip } });

/** A flood well inside one limiter window (60 s, aligned to the minute locally). */
async function awayFromWindowEdge() {
  const into = Date.now() % 60_000;
  if (into > 50_000) await new Promise((resolve) => setTimeout(resolve, 60_000 - into + 100));
}

const guess = (i: number) => `guess-${i}-${"x".repeat(32)}`;

describe("admin token guessing", () => {
  it("login: a client gets 429 with Retry-After past its attempts, and then even the right token is refused; other clients are not", async () => {
    await awayFromWindowEdge();
    const ip = anyClientIp();
    for (let i = 0; i < ADMIN_LIMIT; i++) expect((await login(ip, guess(i))).status).toBe(401);
    const limited = await login(ip, guess(99));
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(await limited.text()).toContain("Too many attempts");
    expect((await login(ip, ADMIN_TOKEN)).status).toBe(429); // refused before the token is compared
    expect((await login(anyClientIp(), ADMIN_TOKEN)).status).toBe(303);
  });

  it("Bearer: failed attempts are counted per client; past them 429 (JSON, Retry-After), also for the right token from that client", async () => {
    await awayFromWindowEdge();
    const ip = anyClientIp();
    for (let i = 0; i < ADMIN_LIMIT; i++) expect((await bearer(ip, guess(i))).status).toBe(401);
    const limited = await bearer(ip, guess(99));
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toMatch(/^\d+$/);
    expect(await limited.json()).toMatchObject({ error: { type: "too_many_requests" } });
    expect((await bearer(ip, ADMIN_TOKEN)).status).toBe(429);
    expect((await bearer(anyClientIp(), ADMIN_TOKEN)).status).toBe(200);
  });

  it("Bearer: an operator's scripts with the right token are never throttled", async () => {
    const ip = anyClientIp();
    for (let i = 0; i < ADMIN_LIMIT * 3; i++) expect((await bearer(ip, ADMIN_TOKEN)).status).toBe(200);
  });

  // Last in the file: once the ceiling is reached, this isolate refuses logins for the rest of the window.
  it("past the fleet-wide ceiling on failures, a guess from any new client is refused with 429, and so is a login attempt", async () => {
    const ceiling = vi.spyOn(env.ADMIN_FAILURES, "limit").mockResolvedValue({ success: false });
    expect((await bearer(anyClientIp(), guess(1))).status).toBe(429);
    expect(ceiling).toHaveBeenCalledWith({ key: "all" });
    expect((await login(anyClientIp(), guess(2))).status).toBe(429);
    // The right token as Bearer still works: only failures count.
    expect((await bearer(anyClientIp(), ADMIN_TOKEN)).status).toBe(200);
  });
});
