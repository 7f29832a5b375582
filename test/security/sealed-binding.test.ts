import { env } from "cloudflare:workers";
import { abortAllDurableObjects, runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { licenseStub } from "../../src/licenses/stub";
import { fakeLiveChat } from "../helpers/fake-livechat";
import { installLicense, rpcError } from "../helpers/install";
import { mockLiveChat } from "../helpers/livechat-mock";

let lc: ReturnType<typeof mockLiveChat>;
beforeEach(() => {
  lc = mockLiveChat();
  fakeLiveChat(lc);
});
afterEach(() => vi.restoreAllMocks());

async function provisioned(org: string) {
  await installLicense(lc, org);
  const stub = licenseStub(env, org);
  await vi.waitUntil(async () => (await stub.botInfo())?.routingStatus === "accepting_chats", { timeout: 5000 });
  return { bot: (await stub.botInfo())!, botToken: (await stub.botCredentials()).token, token: (await stub.credentials()).token };
}

type Stored = Record<string, unknown>;

describe("threat: a sealed value of one license opens in another", () => {
  it("a bot secret and token copied into another license's storage do not open there (bound to organization and bot)", async () => {
    const victim = `org-victim-${crypto.randomUUID()}`;
    const other = `org-other-${crypto.randomUUID()}`;
    const stolen = await provisioned(victim);
    await provisioned(other);
    const record = await runInDurableObject(licenseStub(env, victim), (_i, state) => state.storage.get<Stored>("bot"));
    // The other license's bot record now holds the victim's ciphertexts (as a storage mix-up or a
    // copied backup would), under the victim's bot id too.
    await runInDurableObject(licenseStub(env, other), (_i, state) => state.storage.put("bot", { ...record }));
    await abortAllDurableObjects();

    const issuedBefore = lc.calls("/configuration/action/issue_bot_token").length;
    const error = await rpcError(licenseStub(env, other).botCredentials());
    expect(error.message).toMatch(/decrypt|OperationError/i);
    // Never used as the other license: no token issued with the victim's secret.
    expect(lc.calls("/configuration/action/issue_bot_token").slice(issuedBefore)).toEqual([]);
    // The victim's own DO still opens them.
    expect((await licenseStub(env, victim).botCredentials()).token).toBe(stolen.botToken);
  });

  it("a grant copied into another license's storage does not open there", async () => {
    const victim = `org-victim-grant-${crypto.randomUUID()}`;
    const other = `org-other-grant-${crypto.randomUUID()}`;
    const stolen = await provisioned(victim);
    await provisioned(other);
    const grant = await runInDurableObject(licenseStub(env, victim), (_i, state) => state.storage.get<string>("grant"));
    await runInDurableObject(licenseStub(env, other), (_i, state) => state.storage.put("grant", grant));
    await abortAllDurableObjects();
    const error = await rpcError(licenseStub(env, other).credentials());
    expect(error.message).toMatch(/grant_unreadable/);
    expect((await licenseStub(env, victim).credentials()).token).toBe(stolen.token);
  });
});
