import { env } from "cloudflare:workers";
import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { AccountsClient } from "../../src/livechat/accounts";
import { createLogger } from "../../src/log";
import { openSealed, sealWith } from "../../src/licenses/crypto";
import { LicenseGrant } from "../../src/licenses/grant";
import { licenseStub } from "../../src/licenses/stub";
import { TokenStore } from "../../src/licenses/token-store";
import { fakeLiveChat } from "../helpers/fake-livechat";
import { installLicense, tokenResponse } from "../helpers/install";
import { mockLiveChat } from "../helpers/livechat-mock";

let lc: ReturnType<typeof mockLiveChat>;
beforeEach(() => {
  lc = mockLiveChat();
});
afterEach(() => vi.restoreAllMocks());

const OLD = { current: env.TOKEN_ENCRYPTION_KEY! };
const NEW_KEY = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));
const ROTATING = { current: NEW_KEY, previous: env.TOKEN_ENCRYPTION_KEY! };

const accounts = new AccountsClient({ accountsUrl: "https://accounts.livechat.test", clientId: "test-client-id", clientSecret: "test-client-secret" });
const log = createLogger({ component: "test" });

describe("LicenseGrant during a key rotation", () => {
  it("a re-seal never writes over a grant refreshed while it was sealing", async () => {
    const org = `org-reseal-race-${crypto.randomUUID()}`;
    const refreshed = tokenResponse(org);
    lc.on("POST", "/v2/token", Response.json(refreshed));
    const stored = await runInDurableObject(licenseStub(env, org), async (_i, state) => {
      const before = new LicenseGrant(state.storage, new TokenStore(env.TOKENS, OLD), OLD, accounts, log);
      await before.install(tokenResponse(org) as never);
      // Restarted with the new key. While the bot's values are sealed again (the first step of a
      // re-seal), a refresh writes a new grant: the re-seal must then leave it alone.
      let refreshing = false;
      const rotated: LicenseGrant = new LicenseGrant(state.storage, new TokenStore(env.TOKENS, ROTATING), ROTATING, accounts, log, async () => {
        if (refreshing) return;
        refreshing = true;
        await rotated.refresh();
      });
      expect(await rotated.reseal()).toBe(false);
      const fresh = new LicenseGrant(state.storage, new TokenStore(env.TOKENS, { current: NEW_KEY }), { current: NEW_KEY }, accounts, log);
      return (await fresh.credentials()).token;
    });
    expect(stored).toBe(refreshed.access_token);
  });

  it("does nothing (decrypts nothing) for a grant already marked with the current key", async () => {
    const org = `org-reseal-noop-${crypto.randomUUID()}`;
    await runInDurableObject(licenseStub(env, org), async (_i, state) => {
      const grant = new LicenseGrant(state.storage, new TokenStore(env.TOKENS, ROTATING), ROTATING, accounts, log);
      expect(await grant.reseal()).toBe(false); // nothing stored
      await grant.install(tokenResponse(org) as never);
      const sealed = await state.storage.get("grant");
      expect(await grant.reseal()).toBe(false);
      expect(await state.storage.get("grant")).toBe(sealed);
    });
  });
});

describe("bot credentials sealed in the unbound form of an older version", () => {
  it("open on first read and are sealed again bound to the organization and the bot", async () => {
    fakeLiveChat(lc);
    const org = `org-legacy-bot-${crypto.randomUUID()}`;
    await installLicense(lc, org);
    const stub = licenseStub(env, org);
    await vi.waitUntil(async () => (await stub.botInfo())?.routingStatus === "accepting_chats", { timeout: 5000 });
    const bot = (await stub.botInfo())!;
    type Record = { id: string; sealedSecret: string; sealedToken: string };
    // As an older version stored them: bound to the constant "bot-secret" / "bot-token".
    const secret = (await lc.calls("/configuration/action/issue_bot_token").at(-1)!.body) as { bot_secret: string };
    await runInDurableObject(stub, async (_i, state) => {
      const record = (await state.storage.get<Record>("bot"))!;
      await state.storage.put("bot", {
        ...record,
        sealedSecret: await sealWith(OLD, secret.bot_secret, "bot-secret"),
        sealedToken: await sealWith(OLD, "legacy-bot-token", "bot-token"),
      });
    });
    await abortAllDurableObjects();

    expect((await licenseStub(env, org).botCredentials()).token).toBe("legacy-bot-token");
    const context = (what: string) => JSON.stringify([`bot-${what}`, org, bot.id]);
    const opened = await runInDurableObject(licenseStub(env, org), async (instance, state) => {
      await (instance as unknown as { m: { bot: { reseal(org: string): Promise<void> } } }).m.bot.reseal(org);
      const record = (await state.storage.get<Record>("bot"))!;
      return {
        secret: await openSealed(OLD, record.sealedSecret, context("secret")),
        token: await openSealed(OLD, record.sealedToken, context("token")),
      };
    });
    expect(opened).toEqual({ secret: { plaintext: secret.bot_secret, stale: false }, token: { plaintext: "legacy-bot-token", stale: false } });
  });
});
