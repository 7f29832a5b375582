import { env } from "cloudflare:workers";
import { SELF } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { licenseStub } from "../../src/licenses/stub";
import { MAX_APP_WEBHOOK_BYTES, MAX_APP_WEBHOOK_DEPTH } from "../../src/routes/app-webhooks";
import { fakeLiveChat } from "../helpers/fake-livechat";
import { fixture } from "../helpers/fixtures";
import { installLicense, ORIGIN } from "../helpers/install";
import { mockLiveChat } from "../helpers/livechat-mock";

/**
 * Threat (issue 21, item 4): `/webhooks/app` is unauthenticated (docs/LIVECHAT.md §7); a hostile body
 * (deeply nested, huge) must be refused with a precise 4xx in the route, before any Durable Object
 * sees it, for an installed organization as much as for any other.
 */

let lc: ReturnType<typeof mockLiveChat>;
beforeEach(() => {
  lc = mockLiveChat();
  fakeLiveChat(lc);
});
afterEach(() => vi.restoreAllMocks());

const post = (body: string) => SELF.fetch(`${ORIGIN}/webhooks/app`, { method: "POST", headers: { "content-type": "application/json" }, body });
const event = (org: string, payload: unknown) =>
  JSON.stringify({ ...fixture("app_webhook.application_installed"), clientID: "test-client-id", organizationID: org, payload });

describe("hostile App Webhook bodies", () => {
  it("a payload nested 60,000 deep is refused (413: past the size bound), one nested 30,000 deep within it is a 400; the license records nothing", async () => {
    const org = "org-sec-hostile-deep";
    await installLicense(lc, org);
    const nested = (levels: number) => event(org, "PLACEHOLDER").replace('"PLACEHOLDER"', `${"[".repeat(levels)}${"]".repeat(levels)}`);
    expect((await post(nested(60_000))).status).toBe(413);
    const res = await post(nested(30_000));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { type: "invalid_app_webhook", message: expect.stringContaining("nested") } });
    expect(await licenseStub(env, org).listAppEvents()).toEqual([]);
  });

  it("nesting just past the bound is refused; at the bound it is recorded", async () => {
    const org = "org-sec-hostile-depth-bound";
    await installLicense(lc, org);
    const nested = (levels: number) => JSON.parse(`${'{"a":'.repeat(levels)}1${"}".repeat(levels)}`);
    // The body itself is one level; its payload adds the rest.
    expect((await post(event(org, nested(MAX_APP_WEBHOOK_DEPTH)))).status).toBe(400);
    const ok = await post(event(org, nested(MAX_APP_WEBHOOK_DEPTH - 1)));
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ ok: true, outcome: "recorded" });
  });

  it("an array bomb or a body past the size bound is refused before it is parsed into anything stored", async () => {
    const org = "org-sec-hostile-size";
    await installLicense(lc, org);
    const big = await post(event(org, { blob: "x".repeat(MAX_APP_WEBHOOK_BYTES) }));
    expect(big.status).toBe(413);
    const arrays = await post(event(org, { list: "[".repeat(30_000) + "]".repeat(30_000) }).replace(/"\[+\]+"/, "[".repeat(30_000) + "]".repeat(30_000)));
    expect(arrays.status).toBe(400);
    const notJson = await post("{".repeat(1000));
    expect(notJson.status).toBe(400);
    expect(await licenseStub(env, org).listAppEvents()).toEqual([]);
  });
});
