import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { liveChatApis } from "../../src/framework/context";
import { RoutedRegion } from "../../src/licenses/routed-region";
import { licenseStub } from "../../src/licenses/stub";
import { fakeLiveChat } from "../helpers/fake-livechat";
import { fixture } from "../helpers/fixtures";
import { installLicense } from "../helpers/install";
import { livechatError, mockLiveChat, type RecordedCall } from "../helpers/livechat-mock";

let lc: ReturnType<typeof mockLiveChat>;
let fake: ReturnType<typeof fakeLiveChat>;
beforeEach(() => {
  lc = mockLiveChat();
  fake = fakeLiveChat(lc);
});
afterEach(() => vi.restoreAllMocks());

const webApiCalls = () => lc.calls().filter((c) => /\/(agent|configuration)\/action\//.test(c.url.pathname));
const regionOf = (call: RecordedCall) => call.headers.get("X-Region");

describe("the region LiveChat names in misdirected_request is kept with the license (docs/LIVECHAT.md §6.3)", () => {
  it("after one re-route, every later client of the license, and one built after a restart, goes to that region first", async () => {
    const org = "org-region-misdirected";
    // The license lives in `fra`, its token says `dal`: LiveChat answers misdirected_request until X-Region is fra.
    lc.on("POST", "/configuration/action/list_bots", (call) =>
      regionOf(call) === "fra"
        ? Response.json([...fake.bots.values()].map(({ id, name }) => ({ id, name, avatar_path: "" })))
        : livechatError(421, "misdirected_request", "Wrong region", { region: "fra" }),
    );
    await installLicense(lc, org);
    const stub = licenseStub(env, org);
    await vi.waitUntil(async () => (await stub.botInfo())?.routingStatus === "accepting_chats", { timeout: 5000 });

    const [first, rerouted, ...later] = webApiCalls();
    expect(first.url.pathname).toMatch(/list_bots$/);
    expect(regionOf(first)).toBe("dal");
    expect(rerouted.url.pathname).toMatch(/list_bots$/);
    expect(regionOf(rerouted)).toBe("fra");
    // create_bot, issue_bot_token, set_routing_status: other clients, fra from the first attempt.
    expect(later.length).toBeGreaterThanOrEqual(3);
    expect(later.map(regionOf)).toEqual(later.map(() => "fra"));

    // A restarted License DO (its modules built again) reads the region from storage.
    await runInDurableObject(stub, (instance) => {
      (instance as unknown as { parts?: unknown }).parts = undefined;
    });
    expect(await stub.credentials()).toMatchObject({ region: "fra" });
    expect(await stub.botCredentials()).toMatchObject({ region: "fra" });
    expect((await stub.installation()).region).toBe("fra");
    const before = lc.calls().length;
    await stub.reconcile();
    const checks = lc.calls().slice(before);
    expect(checks.length).toBeGreaterThan(0);
    expect(checks.map(regionOf)).toEqual(checks.map(() => "fra"));
  });

  it("a Chat DO's clients hand the re-route to the license (recordRegion)", async () => {
    const recorded: string[] = [];
    const apis = liveChatApis(
      { apiUrl: "https://api.livechatinc.com", apiVersion: "3.6" },
      {
        credentials: async () => ({ kind: "bearer", token: "dal:license-token" }),
        botCredentials: async () => ({ kind: "bearer", token: "bot-jwt", region: "dal" }),
        recordRegion: async (region) => void recorded.push(region),
      },
    );
    lc.on("POST", "/agent/action/list_routing_statuses", (call) =>
      regionOf(call) === "fra" ? Response.json(fixture("agent.v3.6.list_routing_statuses.response")) : livechatError(421, "misdirected_request", "Wrong region", { region: "fra" }),
    );
    await apis.bot.listRoutingStatuses();
    expect(recorded).toEqual(["fra"]);
  });
});

describe("RoutedRegion", () => {
  it("stands while the token prefix is the one it corrected; LiveChat naming the prefix itself forgets it", async () => {
    await runInDurableObject(licenseStub(env, "org-region-unit"), async (_instance, state) => {
      const routed = new RoutedRegion(state.storage);
      expect(await routed.resolve("dal")).toBe("dal");
      await routed.learn("fra", "dal");
      expect(await routed.resolve("dal")).toBe("fra");
      // A token minted in another data center since is newer word than the re-route.
      expect(await routed.resolve("fra-a")).toBe("fra-a");
      expect(await new RoutedRegion(state.storage).resolve("dal")).toBe("fra");
      await routed.learn("not a region!", "dal");
      expect(await routed.resolve("dal")).toBe("fra");
      await routed.learn("dal", "dal");
      expect(await new RoutedRegion(state.storage).resolve("dal")).toBe("dal");
      // A bot JWT's license without any prefix (a PAT-less, prefix-less token) still gets the learned region.
      await routed.learn("fra", undefined);
      expect(await routed.resolve(undefined)).toBe("fra");
    });
  });
});
