import { Hono } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import { describe, expect, it } from "vitest";
import { clearHostCookie, getHostCookie, setHostCookie } from "../../src/http/cookies";

/** The same request read (or answered) by hono/cookie and by src/http/cookies.ts. */
const app = new Hono()
  .get("/read/ours", (c) => c.json({ value: getHostCookie(c, "s") ?? null }))
  .get("/read/hono", (c) => c.json({ value: getCookie(c, "s", "host") ?? null }))
  .get("/set/ours", (c) => {
    setHostCookie(c, "s", "a b;c=d/é", { httpOnly: true, sameSite: "Strict", maxAge: 3600 });
    setHostCookie(c, "t", "v", { sameSite: "Lax", maxAge: 60 });
    setHostCookie(c, "u", "w", { maxAge: 1.5 });
    clearHostCookie(c, "s");
    return c.body(null, 204);
  })
  .get("/set/hono", (c) => {
    setCookie(c, "s", "a b;c=d/é", { path: "/", secure: true, httpOnly: true, sameSite: "Strict", maxAge: 3600, prefix: "host" });
    setCookie(c, "t", "v", { path: "/", secure: true, sameSite: "Lax", maxAge: 60, prefix: "host" });
    setCookie(c, "u", "w", { path: "/", secure: true, maxAge: 1.5, prefix: "host" });
    deleteCookie(c, "s", { path: "/", secure: true, prefix: "host" });
    return c.body(null, 204);
  });

const read = async (who: "ours" | "hono", cookie?: string) =>
  (await (await app.request(`/read/${who}`, cookie === undefined ? {} : { headers: { cookie } })).json()) as { value: string | null };

describe("__Host- cookies as hono/cookie reads and writes them", () => {
  const headers = [
    undefined,
    "",
    "__Host-s=abc",
    "other=1; __Host-s=v2.123.nonce.mac",
    "__Host-s=%E2%9C%93%20ok",
    "__Host-s=%E2%9C",
    '__Host-s="quoted"',
    '__Host-s="',
    "__Host-s=bad,value; __Host-s=good",
    " \t__Host-s \t= spaced\t ; x=1",
    "s=plain; __Secure-s=sec",
    "__Host-s=first; __Host-s=second",
    "__Host-s",
    "__host-s=lower",
  ];
  it.each(headers.map((h) => [h ?? "(none)", h]))("reads %j", async (_label, header) => {
    expect(await read("ours", header)).toEqual(await read("hono", header));
  });

  it("writes the same Set-Cookie headers", async () => {
    // No value here has a comma, so the joined header splits back into the four cookies.
    const ours = (await app.request("/set/ours")).headers.get("set-cookie")?.split(", ") ?? [];
    expect(ours).toEqual((await app.request("/set/hono")).headers.get("set-cookie")?.split(", "));
    expect(ours[0]).toBe("__Host-s=a%20b%3Bc%3Dd%2F%C3%A9; Max-Age=3600; Path=/; HttpOnly; Secure; SameSite=Strict");
    expect(ours[3]).toBe("__Host-s=; Max-Age=0; Path=/; Secure");
  });
});
