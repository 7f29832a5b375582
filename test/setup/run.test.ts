import { afterEach, describe, expect, it, vi } from "vitest";
import type { Credentials } from "../../src/livechat/auth";
import { ConfigurationApi } from "../../src/livechat/configuration";
import type { DesiredWebhook } from "../../src/setup/declaration";
import { checkAgainstNames, runSetup, SetupError, webhookDescription, type SetupOptions } from "../../src/setup/run";
import { fixture } from "../helpers/fixtures";
import { livechatError, mockLiveChat } from "../helpers/livechat-mock";
import { API_URL, fakeConfiguration, quietHttp, webhookNames } from "./fake-configuration";

const CLIENT = "client-1";
const SECRET = "whsec-0123456789abcdef";
const PUBLIC = "https://edge.example.test";
const MY_BOTS = { chat_presence: { my_bots: true } };

const desired: DesiredWebhook[] = [
  { action: "incoming_event", type: "license" },
  { action: "routing_status_set", type: "license" },
  { action: "incoming_chat", type: "bot", filters: MY_BOTS },
];

function api(credentials: Credentials = { kind: "bearer", token: "dal:ACCESS-TOKEN-abcdef" }, version = "3.6") {
  return new ConfigurationApi({ apiUrl: API_URL, version, credentials, http: quietHttp() });
}

function setup(extra: Partial<SetupOptions> = {}) {
  const lines: string[] = [];
  const options: SetupOptions = {
    api: api(),
    clientId: CLIENT,
    secret: SECRET,
    url: PUBLIC,
    version: "3.6",
    desired,
    log: (line) => lines.push(line),
    ...extra,
  };
  return { options, lines, run: () => runSetup(options) };
}

const paths = (lc: ReturnType<typeof mockLiveChat>) => lc.calls().map((c) => c.url.pathname.split("/").pop());

afterEach(() => {
  vi.restoreAllMocks();
});

describe("runSetup", () => {
  it("registers each missing webhook with the right body", async () => {
    const fake = fakeConfiguration();
    const { run } = setup();
    const report = await run();

    const bodies = fake.lc.calls("/register_webhook").map((c) => c.body);
    const WEBHOOK_DESCRIPTION = await webhookDescription(SECRET);
    expect(WEBHOOK_DESCRIPTION).toMatch(/^livechat-edge secret:[0-9a-f]{8}$/);
    expect(WEBHOOK_DESCRIPTION).not.toContain(SECRET);
    expect(bodies).toEqual([
      { url: `${PUBLIC}/webhooks/license`, action: "incoming_event", secret_key: SECRET, owner_client_id: CLIENT, type: "license", description: WEBHOOK_DESCRIPTION },
      { url: `${PUBLIC}/webhooks/license`, action: "routing_status_set", secret_key: SECRET, owner_client_id: CLIENT, type: "license", description: WEBHOOK_DESCRIPTION },
      { url: `${PUBLIC}/webhooks/bot`, action: "incoming_chat", secret_key: SECRET, owner_client_id: CLIENT, type: "bot", description: WEBHOOK_DESCRIPTION, filters: MY_BOTS },
    ]);
    expect(fake.lc.calls("/list_webhooks")[0].body).toEqual({ owner_client_id: CLIENT });
    expect(report.registered.map((r) => r.id)).toEqual(["wh-1", "wh-2", "wh-3"]);
    expect(report.changed).toBe(true);
    expect(fake.hooks).toHaveLength(3);
  });

  it("sends additional_data when declared", async () => {
    const fake = fakeConfiguration();
    const want: DesiredWebhook = { action: "incoming_chat", type: "license", additional_data: ["chat_properties"] };
    await setup({ desired: [want] }).run();
    expect(fake.lc.calls("/register_webhook")[0].body).toMatchObject({ action: "incoming_chat", additional_data: ["chat_properties"] });
  });

  it("changes nothing when run a second time", async () => {
    const fake = fakeConfiguration();
    await setup().run();
    const before = fake.lc.calls().length;
    const { run, lines } = setup();
    const second = await run();
    const calls = fake.lc.calls().slice(before).map((c) => c.url.pathname.split("/").pop());
    expect(calls).toEqual(["list_webhook_names", "list_webhooks"]);
    expect(second.changed).toBe(false);
    expect(second.plan.add).toEqual([]);
    expect(second.plan.remove).toEqual([]);
    expect(second.plan.keep).toHaveLength(3);
    expect(lines).toContain("Plan: 0 to add, 0 to remove, 3 unchanged");
    expect(lines.at(-1)).toBe("Done: nothing to change.");
  });

  it("re-registers what was registered with another webhook secret, and says so (list_webhooks does not return secret_key)", async () => {
    const fake = fakeConfiguration();
    await setup({ secret: "whsec-the-old-one-0123" }).run();
    const old = fake.hooks.map((h) => h.id);
    const { run, lines } = setup();
    const report = await run();
    expect(report.plan.otherSecret).toBe(3);
    expect(report.unregistered.map((u) => u.id)).toEqual(old);
    expect(fake.lc.calls("/register_webhook").slice(3).map((c) => (c.body as { secret_key: string }).secret_key)).toEqual([SECRET, SECRET, SECRET]);
    expect(lines).toContain("Plan: 3 to add, 3 to remove, 0 unchanged");
    expect(lines.some((l) => l.includes("3 registered with another LIVECHAT_WEBHOOK_SECRET"))).toBe(true);
    // And then it is settled.
    expect((await setup().run()).changed).toBe(false);
  });

  it("registers the replacement before unregistering the stale webhook", async () => {
    const fake = fakeConfiguration([
      { id: "old-1", url: `${PUBLIC}/webhooks/license`, action: "incoming_event", type: "license", owner_client_id: CLIENT, filters: { author_type: "customer" } },
      { id: "old-2", url: `${PUBLIC}/webhooks/bot`, action: "thread_untagged", type: "bot", owner_client_id: CLIENT, filters: {} },
      { id: "keep-1", url: `${PUBLIC}/webhooks/license`, action: "routing_status_set", type: "license", owner_client_id: CLIENT, filters: {} },
      { id: "other", url: "https://staging.example.test/webhooks/license", action: "incoming_event", type: "license", owner_client_id: CLIENT, filters: {} },
    ]);
    const report = await setup().run();
    expect(fake.ops).toEqual(["register license incoming_event wh-1", "register bot incoming_chat wh-2", "unregister old-1", "unregister old-2"]);
    expect(fake.lc.calls("/unregister_webhook").map((c) => c.body)).toEqual([
      { id: "old-1", owner_client_id: CLIENT },
      { id: "old-2", owner_client_id: CLIENT },
    ]);
    expect(report.unregistered.map((u) => u.id)).toEqual(["old-1", "old-2"]);
    expect(fake.hooks.map((h) => h.id).sort()).toEqual(["keep-1", "other", "wh-1", "wh-2"]);
  });

  it("prune-all also removes registrations at other urls", async () => {
    const fake = fakeConfiguration([
      { id: "other", url: "https://staging.example.test/webhooks/license", action: "incoming_event", type: "license", owner_client_id: CLIENT },
    ]);
    await setup({ pruneAll: true }).run();
    expect(fake.ops.at(-1)).toBe("unregister other");
    expect(fake.ops.slice(0, -1).every((op) => op.startsWith("register"))).toBe(true);
  });

  it("dry run calls only the two list endpoints and prints the plan", async () => {
    const fake = fakeConfiguration([
      { id: "stale", url: `${PUBLIC}/webhooks/license`, action: "thread_untagged", type: "license", owner_client_id: CLIENT, filters: {} },
    ]);
    const { run, lines } = setup({ dryRun: true });
    const report = await run();
    expect(paths(fake.lc)).toEqual(["list_webhook_names", "list_webhooks"]);
    expect(report.dryRun).toBe(true);
    expect(report.changed).toBe(false);
    expect(report.plan.add).toHaveLength(3);
    expect(report.plan.remove.map((w) => w.id)).toEqual(["stale"]);
    expect(lines).toEqual([
      `LiveChat webhooks of client ${CLIENT}, API v3.6 (dry run)`,
      `  license → ${PUBLIC}/webhooks/license`,
      `  bot     → ${PUBLIC}/webhooks/bot`,
      "Plan: 3 to add, 1 to remove, 0 unchanged",
      "  + license incoming_event",
      "  + license routing_status_set",
      '  + bot     incoming_chat  filters={"chat_presence":{"my_bots":true}}',
      `  - license thread_untagged  id=stale url=${PUBLIC}/webhooks/license`,
      "Dry run: nothing changed.",
    ]);
  });

  it("reports an action the API version does not know, and changes nothing", async () => {
    const fake = fakeConfiguration();
    const run = setup({ desired: [...desired, { action: "incoming_customer", type: "license" }] }).run();
    const err = await run.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SetupError);
    expect((err as SetupError).problems).toEqual([
      "incoming_customer (license webhook): API v3.6 has no such webhook action (list_webhook_names)",
    ]);
    expect(paths(fake.lc)).toEqual(["list_webhook_names"]);
    expect(fake.lc.calls("/list_webhook_names")[0].body).toEqual({ version: "3.6" });
    expect(fake.lc.calls("/list_webhook_names")[0].headers.get("authorization")).toBeNull();
  });

  it("checks against the configured version's names (v3.5 has no thread_summary_set)", async () => {
    const fake = fakeConfiguration([], { version: "3.5" });
    const err = await setup({ api: api(undefined, "3.5"), version: "3.5", desired: [{ action: "thread_summary_set", type: "license" }] })
      .run()
      .catch((e: unknown) => e);
    expect((err as SetupError).problems[0]).toMatch(/thread_summary_set .*API v3\.5 has no such webhook action/);
    expect(fake.lc.calls()[0].url.pathname).toBe("/v3.5/configuration/action/list_webhook_names");
    expect(fake.lc.calls("/register_webhook")).toHaveLength(0);
  });

  it("reports filters and additional_data the action does not allow, before any change", async () => {
    const fake = fakeConfiguration();
    const err = await setup({
      desired: [
        { action: "incoming_chat", type: "license", filters: { author_type: "customer" } },
        { action: "agent_deleted", type: "license", additional_data: ["chat_properties"] },
        { action: "incoming_event", type: "license", filters: { author_type: "agent", source_type: ["system"] } },
      ],
    })
      .run()
      .catch((e: unknown) => e);
    expect((err as SetupError).problems).toEqual([
      'incoming_chat (license webhook): filter "author_type" is not allowed in API v3.6 (allowed: chat_presence, only_my_chats, source_type)',
      'agent_deleted (license webhook): additional_data "chat_properties" is not offered in API v3.6 (offered: none)',
    ]);
    expect(paths(fake.lc)).toEqual(["list_webhook_names"]);
  });

  it("allows source_type even where list_webhook_names omits it (documented sample)", () => {
    const sample = fixture("configuration.v3.6.list_webhook_names.response");
    const problems = checkAgainstNames(
      [{ action: "chat_access_updated", type: "bot", filters: { chat_presence: { my_bots: true }, source_type: ["my_client"] } }],
      sample,
      "3.6",
    );
    expect(problems).toEqual([]);
  });

  it("fails before any change when adding would pass 3 webhooks per action", async () => {
    const fake = fakeConfiguration(
      [1, 2, 3].map((n) => ({ id: `d${n}`, url: `https://deploy${n}.example.test/webhooks/license`, action: "incoming_event", type: "license", owner_client_id: CLIENT })),
    );
    const err = await setup().run().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SetupError);
    expect((err as SetupError).problems[0]).toMatch(/incoming_event: 3 registered \+ 1 to add exceeds/);
    expect((err as SetupError).report?.plan.add).toHaveLength(3);
    expect(paths(fake.lc)).toEqual(["list_webhook_names", "list_webhooks"]);
  });

  it("removes nothing when a registration fails", async () => {
    const fake = fakeConfiguration([
      { id: "stale", url: `${PUBLIC}/webhooks/license`, action: "thread_untagged", type: "license", owner_client_id: CLIENT },
    ]);
    let n = 0;
    fake.lc.on("POST", "/configuration/action/register_webhook", () =>
      ++n === 2 ? livechatError(400, "validation", "Wrong format of request") : Response.json({ id: `new-${n}` }),
    );
    const err = await setup().run().catch((e: unknown) => e);
    expect((err as SetupError).problems[0]).toBe(
      "register_webhook license routing_status_set failed: validation (HTTP 400): Wrong format of request. Nothing was removed; run setup again to continue.",
    );
    expect((err as SetupError).report?.registered.map((r) => r.id)).toEqual(["new-1"]);
    expect(fake.lc.calls("/unregister_webhook")).toHaveLength(0);
  });

  it("treats a stale webhook that is already gone as removed", async () => {
    const fake = fakeConfiguration([
      { id: "stale", url: `${PUBLIC}/webhooks/license`, action: "thread_untagged", type: "license", owner_client_id: CLIENT },
    ]);
    fake.lc.on("POST", "/configuration/action/unregister_webhook", livechatError(404, "not_found", "Webhook not found"));
    const { run, lines } = setup();
    const report = await run();
    expect(report.unregistered).toEqual([]);
    expect(lines).toContain("already gone  license thread_untagged (stale)");
  });

  it("authenticates with a Personal Access Token as Basic account_id:PAT", async () => {
    const fake = fakeConfiguration();
    await setup({ api: api({ kind: "basic", accountId: "acc-42", token: "pat-secret-value" }) }).run();
    const authenticated = fake.lc.calls().filter((c) => !c.url.pathname.endsWith("/list_webhook_names"));
    expect(authenticated.length).toBeGreaterThan(0);
    for (const call of authenticated) expect(call.headers.get("authorization")).toBe(`Basic ${btoa("acc-42:pat-secret-value")}`);
  });

  it("never prints the webhook secret", async () => {
    fakeConfiguration();
    const { run, lines } = setup();
    const report = await run();
    expect(lines.join("\n")).not.toContain(SECRET);
    expect(JSON.stringify(report)).not.toContain(SECRET);
  });

  it("rejects bad inputs before calling LiveChat", async () => {
    const lc = mockLiveChat();
    const err = await setup({ url: "edge.example.test", secret: " ", clientId: "" }).run().catch((e: unknown) => e);
    expect((err as SetupError).problems).toEqual([
      "the client id (LIVECHAT_CLIENT_ID) is empty",
      "the webhook secret (LIVECHAT_WEBHOOK_SECRET) is empty",
      "the public URL (PUBLIC_URL or --url) must be an absolute http(s) URL",
    ]);
    expect(lc.calls()).toHaveLength(0);
  });

  it("names the failing call when a list call fails", async () => {
    const lc = mockLiveChat();
    lc.on("POST", "/configuration/action/list_webhook_names", Response.json(webhookNames("3.6")));
    lc.on("POST", "/configuration/action/list_webhooks", livechatError(401, "authentication", "Invalid access token"));
    const err = await setup().run().catch((e: unknown) => e);
    expect((err as SetupError).problems).toEqual(["list_webhooks failed: authentication (HTTP 401): Invalid access token"]);
  });
});
