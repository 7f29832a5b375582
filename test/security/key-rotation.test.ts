import { env } from "cloudflare:workers";
import { abortAllDurableObjects, createExecutionContext, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import worker from "../../src/index";
import { License } from "../../src/objects";
import { licenseStub } from "../../src/licenses/stub";
import { fakeLiveChat } from "../helpers/fake-livechat";
import { sha256Base64Url } from "../../src/licenses/crypto";
import { fromAnyClient } from "../helpers/client";
import { installLicense, ORIGIN, rpcError, tokenResponse } from "../helpers/install";
import { mockLiveChat } from "../helpers/livechat-mock";
import { ADMIN_TOKEN } from "../routes/admin/helpers";

let lc: ReturnType<typeof mockLiveChat>;
beforeEach(() => {
  lc = mockLiveChat();
  fakeLiveChat(lc);
});
afterEach(() => vi.restoreAllMocks());

/** The key the test Worker seals with (vitest.config.mts): the one being rotated away from. */
const OLD_KEY = env.TOKEN_ENCRYPTION_KEY!;
const NEW_KEY = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
/** Step 1 of a rotation: the new key current, the old one still opening. Step 2: the old one removed. */
const ROTATING = { ...env, TOKEN_ENCRYPTION_KEY: NEW_KEY, TOKEN_ENCRYPTION_KEY_PREVIOUS: OLD_KEY };
const ROTATED = { ...env, TOKEN_ENCRYPTION_KEY: NEW_KEY, TOKEN_ENCRYPTION_KEY_PREVIOUS: "" };

/** The license's DO after a restart with `vars` (its storage as it was, nothing decrypted in memory). */
async function restartedWith<T>(org: string, vars: Env, fn: (license: License) => Promise<T>): Promise<T> {
  await abortAllDurableObjects();
  return runInDurableObject(licenseStub(env, org), (_instance, state) => fn(new License(state, vars)));
}

/** The admin overview's first page as the Worker configured with `vars` answers it. */
async function overview(vars: Env): Promise<{ licenses: { organizationId: string; oldKey: boolean }[]; configuration: any }> {
  const request = new Request("https://edge.example.test/admin/api/licenses?limit=100", { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  const res = await worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, vars, createExecutionContext());
  expect(res.status).toBe(200);
  return res.json();
}

describe("threat: TOKEN_ENCRYPTION_KEY cannot be rotated (a leaked key stays useful forever)", () => {
  it("rotates across restarts: the old key opens until everything is sealed again, the overview counts down, then it can go", async () => {
    const org = `org-rotate-${crypto.randomUUID()}`;
    const { tokens } = await installLicense(lc, org);
    const stub = licenseStub(env, org);
    await vi.waitUntil(async () => (await stub.botInfo())?.routingStatus === "accepting_chats", { timeout: 5000 });
    const botToken = (await stub.botCredentials()).token;

    // Without a previous key the overview says nothing about a rotation.
    expect((await overview(env)).configuration).toEqual({ warnings: [] });
    const before = await overview(ROTATING);
    expect(before.licenses.find((l) => l.organizationId === org)?.oldKey).toBe(true);
    expect(before.configuration.keyRotation.remaining).toBeGreaterThanOrEqual(1);

    // Restarted with the new key (old one as previous): the cron's reconcile seals everything again.
    const report = await restartedWith(org, ROTATING, (license) => license.reconcile());
    expect(report.fixed).toContain("sealed again with the current key");
    expect(report.failed).toEqual([]);
    const after = await overview(ROTATING);
    expect(after.licenses.find((l) => l.organizationId === org)?.oldKey).toBe(false);
    expect(after.configuration.keyRotation.remaining).toBe(before.configuration.keyRotation.remaining - 1);

    // Restarted without the old key: the grant and the bot's credentials still open.
    const rotated = await restartedWith(org, ROTATED, async (license) => ({
      token: (await license.credentials()).token,
      bot: (await license.botCredentials()).token,
    }));
    expect(rotated).toEqual({ token: tokens.access_token, bot: botToken });
    expect(lc.calls("/configuration/action/reset_bot_secret")).toHaveLength(0); // nothing was lost on the way

    // And the old key alone opens nothing any more.
    await abortAllDurableObjects();
    expect((await rpcError(licenseStub(env, org).credentials())).message).toMatch(/grant_unreadable/);
  });

  it("seals again on first read too, before any cron, grant and bot alike", async () => {
    const org = `org-rotate-read-${crypto.randomUUID()}`;
    const { tokens } = await installLicense(lc, org);
    const stub = licenseStub(env, org);
    await vi.waitUntil(async () => (await stub.botInfo())?.routingStatus === "accepting_chats", { timeout: 5000 });
    const botToken = (await stub.botCredentials()).token;

    const read = await restartedWith(org, ROTATING, async (license) => (await license.credentials()).token);
    expect(read).toBe(tokens.access_token);
    expect((await overview(ROTATING)).licenses.find((l) => l.organizationId === org)?.oldKey).toBe(false);
    const rotated = await restartedWith(org, ROTATED, async (license) => (await license.botCredentials()).token);
    expect(rotated).toBe(botToken);
  });
});

describe("an install flow under way while TOKEN_ENCRYPTION_KEY is rotated", () => {
  /** GET a path of the Worker configured with `vars`, as one browser (its client address fixed). */
  const browser = () => {
    const headers = fromAnyClient();
    return async (vars: Env, path: string, cookie?: string) => {
      const h = new Headers(headers);
      if (cookie) h.set("cookie", cookie);
      const request = new Request(`${ORIGIN}${path}`, { headers: h, redirect: "manual" });
      return worker.fetch(request as Request<unknown, IncomingRequestCfProperties>, vars, createExecutionContext());
    };
  };

  it("completes when the key changed between /install and LiveChat's redirect back: the state cookie opens with the previous key", async () => {
    const org = `org-rotate-oauth-${crypto.randomUUID()}`;
    const get = browser();
    const started = await get(env, "/install");
    expect(started.status).toBe(302);
    const cookie = (started.headers.get("set-cookie") ?? "").split(";")[0];
    const authorize = new URL(started.headers.get("location")!);

    lc.on("POST", "/v2/token", Response.json(tokenResponse(org)));
    const res = await get(ROTATING, `/install?code=dal%3Acode-rotate&state=${authorize.searchParams.get("state")}`, cookie);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("installed");
    const body = lc.calls("/v2/token")[0].body as Record<string, string>;
    expect(await sha256Base64Url(body.code_verifier)).toBe(authorize.searchParams.get("code_challenge"));
  });

  it("fails as expired once the previous key is gone", async () => {
    const get = browser();
    const started = await get(env, "/install");
    const cookie = (started.headers.get("set-cookie") ?? "").split(";")[0];
    const state = new URL(started.headers.get("location")!).searchParams.get("state");
    const res = await get(ROTATED, `/install?code=dal%3Acode-rotated&state=${state}`, cookie);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain("expired");
    expect(lc.calls("/v2/token")).toHaveLength(0);
  });
});
