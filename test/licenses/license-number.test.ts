import { env, exports } from "cloudflare:workers";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { chatStub } from "../../src/chats/stub";
import { licenseNumberKey, organizationOfLicense } from "../../src/licenses/license-number";
import { licenseStub } from "../../src/licenses/stub";
import { fakeLiveChat } from "../helpers/fake-livechat";
import { fixture } from "../helpers/fixtures";
import { installLicense } from "../helpers/install";
import { mockLiveChat } from "../helpers/livechat-mock";
import { expandedSample, withLicenseId } from "../livechat/webhooks/samples";
import { ORIGIN, post, SECRET, settled, uniqueOrg } from "../webhooks/helpers";

let lc: ReturnType<typeof mockLiveChat>;
beforeEach(() => {
  lc = mockLiveChat();
  fakeLiveChat(lc);
});
afterEach(() => vi.restoreAllMocks());

/** A license number no other test uses (KV is shared within the file). */
const uniqueNumber = () => 700_000_000 + Math.floor(Math.random() * 100_000_000);

/** LiveChat's App Webhook for the install, naming the license's number (docs/LIVECHAT.md §7). */
function appInstalled(org: string, licenseId: number) {
  return exports.default.fetch(`${ORIGIN}/webhooks/app`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      ...fixture<Record<string, unknown>>("app_webhook.application_installed"),
      clientID: "test-client-id",
      organizationID: org,
      licenseID: licenseId,
      date: new Date().toISOString(),
    }),
  });
}

/** A documented sample as a v3.3-style body: the license named only by its number. */
const numbered = (name: string, licenseId: number) => ({ ...withLicenseId(expandedSample(name), licenseId), secret_key: SECRET });

describe("webhooks naming only the numeric license_id (docs/LIVECHAT.md §1.2)", () => {
  it("reach the installed organization the App Webhook mapped the number to, chat-scoped and license-scoped", async () => {
    const org = uniqueOrg("numbered");
    const licenseId = uniqueNumber();
    await installLicense(lc, org);
    expect((await appInstalled(org, licenseId)).status).toBe(200);
    expect(await env.TOKENS.get(licenseNumberKey(licenseId))).toBe(org);

    expect((await post("license", numbered("webhook.v3.6.thread_tagged", licenseId))).status).toBe(200);
    const [tagged] = await settled(() => chatStub(env, org, "PJ0MRSHTDG").recentDeliveries({ limit: 10 }), 1);
    expect(tagged).toMatchObject({ organizationId: org, licenseId, action: "thread_tagged", status: "processed" });
    expect(await chatStub(env, String(licenseId), "PJ0MRSHTDG").recentDeliveries({ limit: 10 })).toEqual([]);

    expect((await post("license", numbered("webhook.v3.6.tag_created", licenseId))).status).toBe(200);
    const [created] = await settled(() => licenseStub(env, org).recentDeliveries({ limit: 10 }), 1);
    expect(created).toMatchObject({ organizationId: org, licenseId, action: "tag_created" });
    expect(await licenseStub(env, String(licenseId)).recentDeliveries({ limit: 10 })).toEqual([]);
  });

  it("a number no installed license named keeps the number as its organization (no installed license is guessed)", async () => {
    const licenseId = uniqueNumber();
    expect((await post("license", numbered("webhook.v3.6.tag_created", licenseId))).status).toBe(200);
    const [stored] = await licenseStub(env, String(licenseId)).recentDeliveries({ limit: 10 });
    expect(stored).toMatchObject({ organizationId: String(licenseId), licenseId });
  });

  it("the ack of a body with organization_id reads no mapping; a numbered one reads it once per isolate", async () => {
    const org = uniqueOrg("numbered-ack");
    const licenseId = uniqueNumber();
    await installLicense(lc, org);
    await appInstalled(org, licenseId);
    const get = vi.spyOn(env.TOKENS, "get");
    for (let i = 0; i < 3; i++) {
      const body = { ...expandedSample("webhook.v3.6.tag_created"), secret_key: SECRET, organization_id: org, payload: { name: `t${i}` } };
      expect((await post("license", body)).status).toBe(200);
    }
    expect(get).not.toHaveBeenCalled();
    for (let i = 0; i < 3; i++) expect((await post("license", numbered("webhook.v3.6.tag_created", licenseId))).status).toBe(200);
    expect(get.mock.calls.filter((args) => (args[0] as unknown) === licenseNumberKey(licenseId))).toHaveLength(1);
  });

  it("a number another organization claimed since is left to it by the first one's uninstall", async () => {
    const [first, second] = [uniqueOrg("numbered-first"), uniqueOrg("numbered-second")];
    const licenseId = uniqueNumber();
    await installLicense(lc, first);
    await appInstalled(first, licenseId);
    await installLicense(lc, second);
    await appInstalled(second, licenseId);
    expect(await env.TOKENS.get(licenseNumberKey(licenseId))).toBe(second);
    expect(await licenseStub(env, first).uninstall()).toBe(true);
    expect(await env.TOKENS.get(licenseNumberKey(licenseId))).toBe(second);
  });

  it("the uninstall removes the mapping", async () => {
    const org = uniqueOrg("numbered-gone");
    const licenseId = uniqueNumber();
    await installLicense(lc, org);
    await appInstalled(org, licenseId);
    expect(await env.TOKENS.get(licenseNumberKey(licenseId))).toBe(org);
    expect(await licenseStub(env, org).uninstall()).toBe(true);
    expect(await env.TOKENS.get(licenseNumberKey(licenseId))).toBeNull();
    // Looked up afresh (a later clock than the isolate's cache), the number names no organization.
    expect(await organizationOfLicense(env.TOKENS, licenseId, Date.now() + 3_600_000)).toBeUndefined();
  });
});
