import { env } from "cloudflare:workers";
import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { importSealingKey, seal } from "../../src/licenses/crypto";
import { licenseStub } from "../../src/licenses/stub";
import { licenseKey, TokenStore } from "../../src/licenses/token-store";
import { fakeLiveChat } from "../helpers/fake-livechat";
import { installLicense, storedTokens } from "../helpers/install";
import { mockLiveChat } from "../helpers/livechat-mock";

let lc: ReturnType<typeof mockLiveChat>;
beforeEach(() => {
  lc = mockLiveChat();
  fakeLiveChat(lc);
});
afterEach(() => vi.restoreAllMocks());

/** A TOKEN_ENCRYPTION_KEY other than the Worker's (as after `.dev.vars` was regenerated). */
const OTHER_KEY = btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(32))));

interface StoredBot {
  id: string;
  sealedSecret: string;
  sealedToken?: string;
}

/** Install, wait for the bot, then re-seal the License DO's grant and bot secrets under {@link OTHER_KEY}. */
async function installedUnderOtherKey(org: string) {
  await installLicense(lc, org);
  const stub = licenseStub(env, org);
  await vi.waitUntil(async () => (await stub.botInfo())?.routingStatus === "accepting_chats", { timeout: 5000 });
  const other = await importSealingKey(OTHER_KEY);
  const botId = await runInDurableObject(stub, async (_instance, state) => {
    const bot = (await state.storage.get<StoredBot>("bot"))!;
    await state.storage.put({
      grant: await seal(other, JSON.stringify({ organizationId: org }), licenseKey(org)),
      bot: { ...bot, sealedSecret: await seal(other, "old-secret", "bot-secret"), sealedToken: await seal(other, "old-token", "bot-token") },
    });
    return bot.id;
  });
  // A restart (as after `npm start` again): nothing decrypted stays in memory.
  await abortAllDurableObjects();
  return { stub: licenseStub(env, org), botId };
}

describe("a license whose state was sealed with another TOKEN_ENCRYPTION_KEY", () => {
  it("installs again: the unreadable grant is replaced, not a 500", async () => {
    const org = "org-other-key-grant";
    const { stub } = await installedUnderOtherKey(org);
    const { res, tokens } = await installLicense(lc, org);
    expect(res.status).toBe(200);
    expect(await storedTokens(org)).toMatchObject({ accessToken: tokens.access_token });
    expect((await stub.credentials()).token).toBe(tokens.access_token);
  });

  it("keeps its bot: provisioning resets the unreadable bot secret and issues a token with the new one", async () => {
    const org = "org-other-key-bot";
    const { stub, botId } = await installedUnderOtherKey(org);
    const resetsBefore = lc.calls("/configuration/action/reset_bot_secret").length;
    await installLicense(lc, org);
    await vi.waitUntil(async () => lc.calls("/configuration/action/reset_bot_secret").length > resetsBefore, { timeout: 5000 });
    const creds = await stub.botCredentials();
    expect(creds.kind).toBe("bearer");
    expect((await stub.botInfo())?.id).toBe(botId);
    expect(lc.calls("/configuration/action/reset_bot_secret").at(-1)?.body).toEqual({ id: botId });
    expect(lc.calls("/configuration/action/create_bot")).toHaveLength(1);
    const issued = lc.calls("/configuration/action/issue_bot_token").at(-1)?.body as { bot_secret: string; bot_id: string };
    expect(issued.bot_id).toBe(botId);
    expect(issued.bot_secret).not.toBe("old-secret");
  });
});
