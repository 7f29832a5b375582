import { describe, expect, it } from "vitest";
import { authorizationHeader, regionOf, resolveCredentials, secretsOf, type Credentials } from "../../src/livechat/auth";

describe("credentials (docs/LIVECHAT.md §3.1)", () => {
  it("builds Bearer and Basic base64(account_id:PAT) headers", () => {
    expect(authorizationHeader({ kind: "bearer", token: "dal:abc" })).toBe("Bearer dal:abc");
    const basic = authorizationHeader({ kind: "basic", accountId: "b7eff798-f8df", token: "dal:pat" });
    expect(basic).toBe(`Basic ${btoa("b7eff798-f8df:dal:pat")}`);
    expect(atob(basic.slice(6))).toBe("b7eff798-f8df:dal:pat");
  });

  it("encodes non-ASCII account ids as UTF-8", () => {
    const header = authorizationHeader({ kind: "basic", accountId: "zoë", token: "t" });
    const bytes = Uint8Array.from(atob(header.slice(6)), (c) => c.charCodeAt(0));
    expect(new TextDecoder().decode(bytes)).toBe("zoë:t");
  });

  it("takes the region from an explicit value first, then the token prefix (docs/LIVECHAT.md §6.3)", () => {
    expect(regionOf({ kind: "bearer", token: "fra:abc" })).toBe("fra");
    expect(regionOf({ kind: "bearer", token: "fra:abc", region: "dal" })).toBe("dal");
    expect(regionOf({ kind: "bearer", token: "eyJ.jwt.sig", region: "fra" })).toBe("fra");
    expect(regionOf({ kind: "bearer", token: "eyJ.jwt.sig" })).toBeUndefined();
    expect(regionOf({ kind: "bearer", token: "fra:abc", region: "not a region" })).toBe("fra");
    expect(regionOf({ kind: "basic", accountId: "a", token: "fra:pat" })).toBe("fra");
  });

  it("lists every secret form of the credentials", () => {
    const c: Credentials = { kind: "basic", accountId: "acc", token: "dal:pat" };
    expect(secretsOf(c)).toEqual(["dal:pat", `Basic ${btoa("acc:dal:pat")}`, btoa("acc:dal:pat")]);
  });

  it("resolves fixed credentials and credential functions", async () => {
    const c: Credentials = { kind: "bearer", token: "dal:x" };
    expect(await resolveCredentials(c)).toBe(c);
    expect(await resolveCredentials(async () => c)).toBe(c);
  });
});
