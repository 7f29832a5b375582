import { describe, expect, it } from "vitest";
import { LICENSE_SNAPSHOT_TTL_MS, LicenseCache, type LicenseSnapshot, type LicenseSource } from "../../src/chats/license-cache";
import type { Settings } from "../../src/licenses/settings";

function fakeLicense() {
  const calls: string[] = [];
  let version = 0;
  const source: LicenseSource = {
    async handlerSnapshot(): Promise<LicenseSnapshot> {
      calls.push("handlerSnapshot");
      version++;
      return {
        installation: { installed: true } as LicenseSnapshot["installation"],
        botInfo: null,
        settings: { replyTimeoutSeconds: version } as unknown as Settings,
        botRoutingStatus: { acceptingChats: version > 0 },
      };
    },
    async credentials() {
      calls.push("credentials");
      return { token: "t" } as Awaited<ReturnType<LicenseSource["credentials"]>>;
    },
    async botCredentials() {
      calls.push("botCredentials");
      return { token: "b" } as Awaited<ReturnType<LicenseSource["botCredentials"]>>;
    },
    async recordBotDeleted() {
      calls.push("recordBotDeleted");
      return true;
    },
    async recordRegion() {
      calls.push("recordRegion");
    },
    async recordRoutingStatus() {
      calls.push("recordRoutingStatus");
      return true;
    },
  };
  return { source, calls };
}

describe("LicenseCache", () => {
  it("serves every handler read within the TTL from one snapshot RPC, then refreshes", async () => {
    const { source, calls } = fakeLicense();
    let now = 1_000;
    const cache = new LicenseCache(() => source, { now: () => now });
    const license = cache.handle("org");
    const [installation, bot, settings, routing] = await Promise.all([
      license.installation(),
      license.botInfo(),
      license.settings(),
      license.botRoutingStatus(),
    ]);
    expect(installation.installed).toBe(true);
    expect(bot).toBeNull();
    expect(settings.replyTimeoutSeconds).toBe(1);
    expect(routing.acceptingChats).toBe(true);
    now += LICENSE_SNAPSHOT_TTL_MS - 1;
    expect((await cache.handle("org").settings()).replyTimeoutSeconds).toBe(1);
    expect(calls).toEqual(["handlerSnapshot"]);
    now += 1;
    expect((await license.settings()).replyTimeoutSeconds).toBe(2);
    expect(calls).toEqual(["handlerSnapshot", "handlerSnapshot"]);
  });

  it("sends fresh calls straight through and forgets the snapshot after a routing status change", async () => {
    const { source, calls } = fakeLicense();
    const cache = new LicenseCache(() => source, { now: () => 0 });
    const license = cache.handle("org");
    await license.settings();
    await license.credentials();
    await license.botCredentials();
    await license.recordRoutingStatus({ agentId: "bot", status: "accepting_chats", at: 1 });
    expect((await license.settings()).replyTimeoutSeconds).toBe(2);
    expect(calls).toEqual(["handlerSnapshot", "credentials", "botCredentials", "recordRoutingStatus", "handlerSnapshot"]);
  });

  it("does not keep a failed snapshot, and TTL 0 asks on every read", async () => {
    const { source, calls } = fakeLicense();
    let fail = true;
    const flaky: LicenseSource = { ...source, handlerSnapshot: () => (fail ? Promise.reject(new Error("down")) : source.handlerSnapshot()) };
    const cache = new LicenseCache(() => flaky, { now: () => 0 });
    await expect(cache.handle("org").settings()).rejects.toThrow("down");
    fail = false;
    expect((await cache.handle("org").settings()).replyTimeoutSeconds).toBe(1);

    const uncached = new LicenseCache(() => source, { now: () => 0, ttlMs: () => 0 });
    await uncached.handle("org").settings();
    await uncached.handle("org").settings();
    expect(calls).toEqual(["handlerSnapshot", "handlerSnapshot", "handlerSnapshot"]);
  });

  it("gives every read its own copy, so one handler's edits never reach the next read", async () => {
    const { source, calls } = fakeLicense();
    const cache = new LicenseCache(() => source, { now: () => 0 });
    const license = cache.handle("org");
    const [first, concurrent] = await Promise.all([license.settings(), license.settings()]);
    first.replyTimeoutSeconds = 999;
    (await license.installation()).installed = false;
    expect(concurrent).not.toBe(first);
    expect(concurrent.replyTimeoutSeconds).toBe(1);
    expect((await license.settings()).replyTimeoutSeconds).toBe(1);
    expect((await license.installation()).installed).toBe(true);
    expect(calls).toEqual(["handlerSnapshot"]);
  });
});
