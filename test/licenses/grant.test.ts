import { env } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { licenseStub } from "../../src/licenses/stub";
import { TokenStore } from "../../src/licenses/token-store";
import { installLicense, rpcError, tokenResponse } from "../helpers/install";
import { mockLiveChat } from "../helpers/livechat-mock";

let lc: ReturnType<typeof mockLiveChat>;
beforeEach(() => {
  lc = mockLiveChat();
});
afterEach(() => vi.restoreAllMocks());

const refreshCalls = () =>
  lc.calls("/v2/token").filter((c) => c.method === "POST" && (c.body as { grant_type?: string }).grant_type === "refresh_token");

describe("License DO grant", () => {
  it("returns the stored access token with its region while it is fresh", async () => {
    const org = "org-grant-fresh";
    const { tokens } = await installLicense(lc, org);
    const creds = await licenseStub(env, org).credentials();
    expect(creds).toEqual({ kind: "bearer", token: tokens.access_token, region: "dal" });
    expect(refreshCalls()).toHaveLength(0);
  });

  it("refreshes single-flight: 50 concurrent callers cause exactly one refresh", async () => {
    const org = "org-grant-single-flight";
    const { tokens } = await installLicense(lc, org, { expires_in: 60 }); // inside the refresh margin
    const fresh = tokenResponse(org, { access_token: "fra:refreshed-token", refresh_token: "rotated-refresh" });
    lc.on("POST", "/v2/token", async () => {
      await new Promise((r) => setTimeout(r, 50));
      return Response.json(fresh);
    });
    const stub = licenseStub(env, org);
    const all = await Promise.all(Array.from({ length: 50 }, () => stub.credentials()));
    expect(refreshCalls()).toHaveLength(1);
    expect(new Set(all.map((c) => c.token))).toEqual(new Set(["fra:refreshed-token"]));
    expect(all[0]).toMatchObject({ region: "fra" });
    const body = refreshCalls()[0].body as Record<string, string>;
    expect(body).toMatchObject({ refresh_token: tokens.refresh_token, client_id: "test-client-id", client_secret: "test-client-secret" });
    // The rotated refresh token is what is stored now.
    const stored = await new TokenStore(env.TOKENS, env.TOKEN_ENCRYPTION_KEY!).get(org);
    expect(stored).toMatchObject({ accessToken: "fra:refreshed-token", refreshToken: "rotated-refresh", region: "fra" });
  });

  it("keeps the old refresh token when the refresh answer has none", async () => {
    const org = "org-grant-keep-refresh";
    const { tokens } = await installLicense(lc, org, { expires_in: 10 });
    const { refresh_token: _omit, ...noRefresh } = tokenResponse(org, { access_token: "dal:new" });
    lc.on("POST", "/v2/token", Response.json(noRefresh));
    await licenseStub(env, org).credentials();
    const stored = await new TokenStore(env.TOKENS, env.TOKEN_ENCRYPTION_KEY!).get(org);
    expect(stored).toMatchObject({ accessToken: "dal:new", refreshToken: tokens.refresh_token });
  });

  it("marks the license as needing reinstall when the refresh token is rejected", async () => {
    const org = "org-grant-invalid-grant";
    await installLicense(lc, org, { expires_in: 10 });
    lc.on("POST", "/v2/token", Response.json({ error: "invalid_grant", error_description: "revoked" }, { status: 400 }));
    const stub = licenseStub(env, org);
    expect(await rpcError(stub.credentials())).toBeInstanceOf(Error);
    const installation = await stub.installation();
    expect(installation).toMatchObject({ installed: true, needsReinstall: true, reinstallReason: "invalid_grant" });
    // Later calls fail fast without asking LiveChat again.
    expect((await rpcError(stub.credentials())).message).toMatch(/reinstall/);
    expect(refreshCalls()).toHaveLength(1);
    const listed = await new TokenStore(env.TOKENS, env.TOKEN_ENCRYPTION_KEY!).list();
    expect(listed.licenses.find((l) => l.organizationId === org)?.needsReinstall).toBe(true);
    // Reinstalling clears the mark.
    await installLicense(lc, org);
    expect((await stub.installation()).needsReinstall).toBe(false);
  });

  it("reports not installed for an unknown organization", async () => {
    const stub = licenseStub(env, "org-never-installed");
    expect(await stub.installation()).toMatchObject({ installed: false });
    expect((await rpcError(stub.credentials())).message).toMatch(/not installed/);
  });
});

describe("token rejected by LiveChat before its stored expiry", () => {
  it("refreshes once for the rejected token; a caller holding an older token gets the current one", async () => {
    const org = "org-grant-rejected";
    const { tokens } = await installLicense(lc, org);
    lc.on("POST", "/v2/token", Response.json(tokenResponse(org, { access_token: "dal:after-rejection" })));
    const stub = licenseStub(env, org);
    const rejected = { kind: "bearer" as const, token: tokens.access_token };
    const [a, b] = await Promise.all([stub.credentials(rejected), stub.credentials(rejected)]);
    expect(a.token).toBe("dal:after-rejection");
    expect(b.token).toBe("dal:after-rejection");
    expect(refreshCalls()).toHaveLength(1);
    // The old token again (a late caller): already replaced, no second refresh.
    expect((await stub.credentials(rejected)).token).toBe("dal:after-rejection");
    expect(refreshCalls()).toHaveLength(1);
  });
});
