import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { chatStub } from "../../../src/chats/stub";
import { backoff } from "../../../src/deliveries";
import type { DeliveryHost } from "../../../src/framework";
import { router } from "../../../src/handlers";
import { formPatch, formValues } from "../../../src/routes/admin/settings-form";
import { defaultSettings } from "../../../src/licenses/settings";
import { licenseStub } from "../../../src/licenses/stub";
import { incomingEvent, install, post, uniqueOrg } from "../../webhooks/helpers";
import { adminFetch, api, login, postForm } from "./helpers";

const offs: (() => void)[] = [];
afterEach(() => {
  offs.splice(0).forEach((off) => off());
});

describe("admin dashboard", () => {
  it("overview lists installed licenses with links to their page", async () => {
    const org = uniqueOrg("dash");
    await install(org);
    const { cookie } = await login();
    const html = await (await adminFetch("/admin", { headers: { cookie } })).text();
    expect(html).toContain(`href="/admin/licenses/${org}"`);
    expect(html).toContain("Log out");
  });

  it("license page: installation, bot, chart of 24 hourly bars, dead letter with a replay button, deliveries, settings form", async () => {
    const org = uniqueOrg("page");
    await install(org);
    await runInDurableObject(chatStub(env, org, "PG"), (instance) => {
      (instance as unknown as { deliveries: DeliveryHost }).deliveries.inbox.retry = backoff({ maxAttempts: 1, baseMs: 0 });
    });
    let healthy = false;
    offs.push(
      router.on("incoming_event", (_p, ctx) => {
        if (ctx.organizationId === org && !healthy) throw new Error("handler <b>exploded</b>");
      }),
    );
    await post("license", incomingEvent(org, "PG", "E1"));
    await vi.waitUntil(async () => (await api(`/licenses/${org}/dead-letters`)).body.deadLetters.length === 1, { timeout: 5_000 });

    const { cookie, csrf } = await login();
    const res = await adminFetch(`/admin/licenses/${org}`, { headers: { cookie } });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain("Installation");
    expect(html).toContain("Not provisioned yet.");
    expect(html.match(/<g><title>/g)).toHaveLength(24);
    expect(html).toContain('class="b-dead"');
    expect(html).toContain("handler &lt;b&gt;exploded&lt;/b&gt;"); // escaped
    expect(html).not.toContain("<b>exploded</b>");
    const [, deliveryId] = /action="\/admin\/licenses\/[^/]+\/deliveries\/([^/]+)\/replay"/.exec(html)!;
    expect(html).toContain('name="replyTimeoutSeconds"');
    expect(html).toContain(`name="_csrf" value="${csrf}"`);

    healthy = true;
    const replay = await postForm(`/admin/licenses/${org}/deliveries/${deliveryId}/replay`, cookie, {
      _csrf: csrf,
      chat: "PG",
      back: `/admin/licenses/${org}`,
    });
    expect(replay.status).toBe(303);
    expect(replay.headers.get("location")).toBe(`/admin/licenses/${org}?notice=replayed`);
    await vi.waitUntil(async () => (await api(`/licenses/${org}/dead-letters`)).body.deadLetters.length === 0, { timeout: 5_000 });
    const after = await (await adminFetch(`/admin/licenses/${org}?notice=replayed`, { headers: { cookie } })).text();
    expect(after).toContain("Delivery queued again");
    expect(after).toContain("No dead letters.");

    const chat = await adminFetch(`/admin/licenses/${org}/chats/PG`, { headers: { cookie } });
    expect(chat.status).toBe(200);
    expect(await chat.text()).toContain("No pending timers.");
    const detail = await adminFetch(`/admin/licenses/${org}/deliveries/${deliveryId}?chat=PG`, { headers: { cookie } });
    expect(await detail.text()).toContain("&quot;action&quot;: &quot;incoming_event&quot;");
    expect((await adminFetch(`/admin/licenses/${uniqueOrg("none")}`, { headers: { cookie } })).status).toBe(404);
  });

  it("the settings form saves changes and re-shows rejected values with the problems", async () => {
    const org = uniqueOrg("form");
    await install(org);
    const { cookie, csrf } = await login();
    const current = (await api(`/licenses/${org}/settings`)).body;
    const fields = { ...formValues(current), _csrf: csrf };

    const saved = await postForm(`/admin/licenses/${org}/settings`, cookie, {
      ...fields,
      replyTimeoutSeconds: "45",
      tagSuggestions: "refund: Refunds take 5 days.\nrefund: Sorry!\nsales: Ask about the plan.",
    });
    expect(saved.status).toBe(303);
    expect(saved.headers.get("location")).toBe(`/admin/licenses/${org}?notice=saved#settings`);
    const now = (await api(`/licenses/${org}/settings`)).body;
    expect(now.replyTimeoutSeconds).toBe(45);
    expect(now.tagSuggestions).toEqual({ refund: ["Refunds take 5 days.", "Sorry!"], sales: ["Ask about the plan."] });

    const rejected = await postForm(`/admin/licenses/${org}/settings`, cookie, { ...fields, replyTimeoutSeconds: "2", workingHours: "{nope" });
    expect(rejected.status).toBe(400);
    const html = await rejected.text();
    expect(html).toContain("The settings were not saved");
    expect(html).toContain("workingHours: not valid JSON");
    expect(html).toContain("{nope");
    const invalid = await postForm(`/admin/licenses/${org}/settings`, cookie, { ...fields, replyTimeoutSeconds: "2" });
    expect(invalid.status).toBe(400);
    expect(await invalid.text()).toMatch(/replyTimeoutSeconds: /);
    expect((await api(`/licenses/${org}/settings`)).body.replyTimeoutSeconds).toBe(45);
  });

  it("the form sends only changed settings (a bot name or working-hours change re-provisions the bot)", () => {
    const settings = defaultSettings({ replyTimeoutSeconds: 120 });
    expect(formPatch(formValues(settings), settings)).toEqual({ ok: true, patch: {} });
    const changed = formPatch({ ...formValues(settings), replyMessage: "Hold on", reviewUrl: "https://x.example/r" }, settings);
    expect(changed).toEqual({
      ok: true,
      patch: { replyMessage: "Hold on", rating: { reviewUrl: "https://x.example/r" } }, // rating merges field by field: only what changed
    });
    expect(formPatch({ ...formValues(settings), tagSuggestions: "no colon here" })).toEqual({
      ok: false,
      problems: ['tagSuggestions: line 1 must read "tag: suggestion"'],
    });
  });
});

describe("admin dashboard: which license, and its reconcile state", () => {
  it("shows the LiveChat license number an App Webhook named beside the organization id (the token carries none)", async () => {
    const org = uniqueOrg("dash-number");
    await install(org);
    await licenseStub(env, org).recordAppEvent({ event: "application_installed", receivedAt: Date.now(), outcome: "recorded", licenseId: 104130623 });
    const { cookie } = await login();
    const overview = await (await adminFetch("/admin", { headers: { cookie } })).text();
    const row = overview.slice(overview.indexOf(`href="/admin/licenses/${org}"`));
    expect(row.slice(0, row.indexOf("</td>"))).toContain("license 104130623");
    const page = await (await adminFetch(`/admin/licenses/${org}`, { headers: { cookie } })).text();
    expect(page).toContain("LiveChat license 104130623");
  });

  it("a reconcile that fixed the drift it found shows in sync; one that failed to fix it shows the failure", async () => {
    const org = uniqueOrg("dash-drift");
    await install(org);
    const report = (failed: { step: string; error: string }[]) => ({
      at: Date.now(),
      durationMs: 5,
      drift: ["license webhooks disabled"],
      fixed: failed.length ? [] : ["license webhooks enabled"],
      failed,
    });
    const overviewRow = async () => {
      const { cookie } = await login();
      const html = await (await adminFetch("/admin", { headers: { cookie } })).text();
      const row = html.slice(html.indexOf(`href="/admin/licenses/${org}"`));
      return row.slice(0, row.indexOf("</tr>"));
    };
    await runInDurableObject(licenseStub(env, org), (_i, state) => state.storage.put("reconcile-history", [report([{ step: "license_webhooks", error: "internal" }])]));
    expect(await overviewRow()).toContain("1 failed");
    await runInDurableObject(licenseStub(env, org), (_i, state) => state.storage.put("reconcile-history", [report([])]));
    const row = await overviewRow();
    expect(row).toContain("in sync (1 fixed)");
    expect(row).not.toMatch(/\d drift/);
  });
});
