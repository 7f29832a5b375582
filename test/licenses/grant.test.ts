import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Credentials } from "../../src/livechat/auth";
import { licenseStub } from "../../src/licenses/stub";
import { TokenStore } from "../../src/licenses/token-store";
import { fakeLiveChat } from "../helpers/fake-livechat";
import { fixture } from "../helpers/fixtures";
import { heldReply } from "../helpers/held-reply";
import { installLicense, rpcError, storedTokens, tokenResponse } from "../helpers/install";
import { mockLiveChat } from "../helpers/livechat-mock";
import { captureConsole } from "../livechat/helpers";

let lc: ReturnType<typeof mockLiveChat>;
beforeEach(() => {
  lc = mockLiveChat();
});
afterEach(() => vi.restoreAllMocks());

const refreshCalls = () =>
  lc.calls("/v2/token").filter((c) => c.method === "POST" && (c.body as { grant_type?: string }).grant_type === "refresh_token");

/** The revocations the DO sent to LiveChat (`DELETE /v2/token`), by the token revoked. */
const revoked = () => lc.calls("/v2/token").filter((c) => c.method === "DELETE").map((c) => c.headers.get("authorization"));

const kvTokens = (org: string) => storedTokens(org);
const kvListing = async (org: string) =>
  (await new TokenStore(env.TOKENS, { current: env.TOKEN_ENCRYPTION_KEY! }).list()).licenses.find((l) => l.organizationId === org);

/**
 * Install against a working fake LiveChat and wait until the provisioning alarm is done, so the
 * test's own calls are the only ones the License DO makes.
 */
async function settledInstall(org: string, overrides: Record<string, unknown> = {}) {
  fakeLiveChat(lc);
  const { tokens } = await installLicense(lc, org, overrides);
  const stub = licenseStub(env, org);
  await vi.waitUntil(async () => (await stub.botInfo())?.routingStatus === "accepting_chats", { timeout: 5000 });
  const rejected: Credentials = { kind: "bearer", token: tokens.access_token };
  return { stub, tokens, rejected };
}

/** An RPC call's outcome as a value, so it can be awaited after other calls. */
function settle(call: PromiseLike<unknown>): Promise<{ ok: true; value: unknown } | { ok: false; error: Error }> {
  return Promise.resolve(call).then(
    (value) => ({ ok: true as const, value }),
    (error: Error) => ({ ok: false as const, error }),
  );
}

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
    const stored = await storedTokens(org);
    expect(stored).toMatchObject({ accessToken: "fra:refreshed-token", refreshToken: "rotated-refresh", region: "fra" });
  });

  it("keeps the old refresh token when the refresh answer has none", async () => {
    const org = "org-grant-keep-refresh";
    const { tokens } = await installLicense(lc, org, { expires_in: 10 });
    const { refresh_token: _omit, ...noRefresh } = tokenResponse(org, { access_token: "dal:new" });
    lc.on("POST", "/v2/token", Response.json(noRefresh));
    await licenseStub(env, org).credentials();
    const stored = await storedTokens(org);
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
    const listed = await new TokenStore(env.TOKENS, { current: env.TOKEN_ENCRYPTION_KEY! }).list();
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

describe("client-level OAuth errors: our client credentials refused, not the license's grant (docs/LIVECHAT.md §6.2)", () => {
  it.each([
    { status: 401, code: "invalid_client" },
    { status: 400, code: "invalid_client" },
    { status: 400, code: "unauthorized_client" },
  ])("a refresh answered $status $code leaves the grant intact, fails retryably and is tried again on the next call", async ({ status, code }) => {
    const org = `org-grant-client-${status}-${code}`;
    const { stub, tokens, rejected } = await settledInstall(org);
    const lines = captureConsole();
    lc.on("POST", "/v2/token", Response.json({ error: code, error_description: "Client authentication failed" }, { status }));
    const err = await rpcError(stub.credentials(rejected));
    expect(err.message).toContain(code);
    expect((err as Error & { retryable?: boolean }).retryable).toBe(true);
    expect(await stub.installation()).toMatchObject({ installed: true, needsReinstall: false });
    expect((await kvListing(org))?.needsReinstall).toBe(false);
    expect(await kvTokens(org)).toMatchObject({ accessToken: tokens.access_token, refreshToken: tokens.refresh_token });
    // Logged as an error for the operator, without any token or secret.
    expect(lines.some((l) => l.includes('"level":"error"') && l.includes(code))).toBe(true);
    for (const secret of [tokens.access_token, tokens.refresh_token, env.LIVECHAT_CLIENT_SECRET!]) expect(lines.join("\n")).not.toContain(secret);
    // The secret is fixed: the next call refreshes and succeeds.
    lc.on("POST", "/v2/token", Response.json(tokenResponse(org, { access_token: "dal:after-the-fix" })));
    expect((await stub.credentials(rejected)).token).toBe("dal:after-the-fix");
    expect(refreshCalls()).toHaveLength(2);
  });

  it.each([
    { info: "alive", reply: () => Response.json(fixture("accounts.info.response")), outcome: "ignored_grant_alive" },
    { info: "unreachable", reply: () => new Response("down", { status: 503 }), outcome: "unconfirmed" },
  ])("an uninstall hint is not confirmed by a client-level refresh error; the tokens stay (token $info)", async ({ reply, outcome }) => {
    const org = `org-grant-client-liveness-${outcome}`;
    const { stub, tokens } = await settledInstall(org, { expires_in: 60 }); // inside the refresh margin: liveness refreshes first
    lc.on("POST", "/v2/token", Response.json({ error: "invalid_client", error_description: "Client authentication failed" }, { status: 401 }));
    lc.on("GET", "/v2/info", reply);
    expect(await stub.uninstallIfRevoked()).toBe(outcome);
    expect(revoked()).toEqual([]);
    expect(await kvTokens(org)).toMatchObject({ accessToken: tokens.access_token });
    expect(await stub.installation()).toMatchObject({ installed: true, needsReinstall: false });
  });

  it("a license marked for reinstall though LiveChat never refused its grant is not taken for uninstalled", async () => {
    const org = "org-grant-mark-without-refusal";
    // No refresh token: the first refresh marks the license for reinstall without asking LiveChat.
    const { refresh_token: _omit, ...noRefresh } = tokenResponse(org, { expires_in: 60 });
    const stub = licenseStub(env, org);
    await stub.install(noRefresh);
    expect((await rpcError(stub.credentials())).message).toMatch(/reinstall/);
    expect(await stub.installation()).toMatchObject({ needsReinstall: true, reinstallReason: "no refresh token" });
    lc.on("GET", "/v2/info", Response.json(fixture("accounts.info.response")));
    lc.on("DELETE", "/v2/token", Response.json({}));
    expect(await stub.uninstallIfRevoked()).toBe("ignored_grant_alive");
    expect(lc.calls("/v2/info")[0].headers.get("authorization")).toBe(`Bearer ${noRefresh.access_token}`);
    expect(revoked()).toEqual([]);
    expect(await kvTokens(org)).not.toBeNull();
  });

  it("a reinstall mark left by a client-level error (earlier versions set one) does not block the license", async () => {
    const org = "org-grant-legacy-client-mark";
    const { stub, rejected } = await settledInstall(org);
    await runInDurableObject(stub, async (_instance, state) => {
      await state.storage.put("grant-status", { needsReinstall: true, reinstallReason: "invalid_client" });
    });
    expect((await stub.installation()).needsReinstall).toBe(false);
    lc.on("POST", "/v2/token", Response.json(tokenResponse(org, { access_token: "dal:unblocked" })));
    expect((await stub.credentials(rejected)).token).toBe("dal:unblocked");
    expect((await kvListing(org))?.needsReinstall).toBe(false);
  });
});

describe("a refresh whose answer was lost is not repeated (docs/LIVECHAT.md §6.2: 25 tokens per client per account)", () => {
  it("a refresh answered 503 reaches LiveChat once, fails retryably and is tried again on the next call", async () => {
    const org = "org-grant-refresh-503";
    const { stub, rejected } = await settledInstall(org);
    lc.on("POST", "/v2/token", new Response("unavailable", { status: 503 }), Response.json(tokenResponse(org, { access_token: "dal:second-call" })));
    const err = await rpcError(stub.credentials(rejected));
    expect((err as Error & { retryable?: boolean }).retryable).toBe(true);
    expect(refreshCalls()).toHaveLength(1);
    expect((await stub.installation()).needsReinstall).toBe(false);
    expect((await stub.credentials(rejected)).token).toBe("dal:second-call");
    expect(refreshCalls()).toHaveLength(2);
  });
});

describe("a refresh racing a reinstall or an uninstall", () => {
  /** Start a refresh (the current token was rejected) and hold LiveChat's answer until the test releases it. */
  async function heldRefresh(org: string) {
    const installed = await settledInstall(org);
    const held = heldReply();
    lc.on("POST", "/v2/token", held.reply);
    const pending = settle(installed.stub.credentials(installed.rejected));
    await held.reached();
    return { ...installed, held, pending };
  }

  it("a reinstall during the refresh wins: the refresh's token is discarded and revoked", async () => {
    const org = "org-race-refresh-install";
    const { stub, held, pending } = await heldRefresh(org);
    const reinstall = tokenResponse(org);
    await stub.install(reinstall);
    held.release(() => Response.json(tokenResponse(org, { access_token: "dal:minted-for-the-old-grant" })));
    const outcome = await pending;
    expect(await kvTokens(org)).toMatchObject({ accessToken: reinstall.access_token, refreshToken: reinstall.refresh_token });
    expect(await stub.installation()).toMatchObject({ installed: true, needsReinstall: false });
    // The caller gets what is current: the new grant's token.
    expect(outcome).toMatchObject({ ok: true, value: { token: reinstall.access_token } });
    expect((await stub.credentials()).token).toBe(reinstall.access_token);
    // Revoked (best effort), so it does not count against the token cap.
    expect(revoked()).toContain("Bearer dal:minted-for-the-old-grant");
  });

  it("a reinstall during a refresh that LiveChat refuses (invalid_grant) is not marked for reinstall", async () => {
    const org = "org-race-refresh-refused-install";
    const { stub, held, pending } = await heldRefresh(org);
    const reinstall = tokenResponse(org);
    await stub.install(reinstall);
    held.release(() => Response.json({ error: "invalid_grant", error_description: "revoked" }, { status: 400 }));
    const outcome = await pending;
    expect(await stub.installation()).toMatchObject({ installed: true, needsReinstall: false });
    expect((await kvListing(org))?.needsReinstall).toBe(false);
    expect(await kvTokens(org)).toMatchObject({ accessToken: reinstall.access_token });
    // The refusal concerned the replaced grant: the caller gets the new one's token.
    expect(outcome).toMatchObject({ ok: true, value: { token: reinstall.access_token } });
  });

  it("an uninstall during the refresh stays: the tokens are not written back", async () => {
    const org = "org-race-refresh-uninstall";
    const { stub, held, pending } = await heldRefresh(org);
    await stub.uninstall();
    held.release(() => Response.json(tokenResponse(org, { access_token: "dal:minted-after-uninstall" })));
    const outcome = await pending;
    expect(await kvTokens(org)).toBeNull();
    expect((await stub.installation()).installed).toBe(false);
    expect(outcome.ok).toBe(false);
    expect(outcome.ok ? "" : outcome.error.message).toMatch(/not installed/);
    expect(revoked()).toContain("Bearer dal:minted-after-uninstall");
  });

  it("a reinstall stores the new grant before revoking the old token", async () => {
    const org = "org-race-install-revoke";
    const { stub, tokens } = await settledInstall(org);
    const held = heldReply();
    lc.on("DELETE", "/v2/token", held.reply);
    const reinstall = tokenResponse(org);
    const installing = settle(stub.install(reinstall));
    await held.reached();
    expect(held.calls[0].headers.get("authorization")).toBe(`Bearer ${tokens.access_token}`);
    // The old token's revocation is still on the wire, and the new grant is already in use.
    expect(await kvTokens(org)).toMatchObject({ accessToken: reinstall.access_token });
    expect((await stub.credentials()).token).toBe(reinstall.access_token);
    held.release(() => Response.json({}));
    expect(await installing).toMatchObject({ ok: true, value: { installed: true, needsReinstall: false } });
  });
});
