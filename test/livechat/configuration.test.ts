import { afterEach, describe, expect, it, vi } from "vitest";
import { ConfigurationApi } from "../../src/livechat/configuration";
import { LiveChatError } from "../../src/livechat/errors";
import type { Credentials } from "../../src/livechat/auth";
import * as schemas from "../../src/livechat/schemas/configuration";
import * as requests from "../../src/livechat/schemas/configuration-requests";
import { fixture, fixtureNames } from "../helpers/fixtures";
import { livechatError, mockLiveChat } from "../helpers/livechat-mock";
import { captureConsole, rejectionOf, testHttp } from "./helpers";

const API = "http://127.0.0.1:9002/"; // loopback, as the simulator runs it; trailing slash on purpose
const TOKEN = "fra:CONFIG-SECRET-TOKEN-42";

function api(credentials: Credentials | (() => Promise<Credentials>) = { kind: "bearer", token: TOKEN }, extra = {}) {
  const t = testHttp();
  return { ...t, config: new ConfigurationApi({ apiUrl: API, version: "3.6", credentials, http: t.http, ...extra }) };
}

afterEach(() => {
  vi.restoreAllMocks();
});

type Case = {
  action: string;
  call: (c: ConfigurationApi, body: any) => Promise<unknown>;
  /** Documented response sample; undefined for actions that answer with an empty body. */
  response?: string;
  request: string;
  requestSchema: { safeParse(v: unknown): { success: boolean } };
};

// Every method against LiveChat's documented request/response samples (docs/LIVECHAT.md §3.2–§3.4).
const cases: Case[] = [
  { action: "register_webhook", call: (c, b) => c.registerWebhook(b), request: "register_webhook", response: "register_webhook", requestSchema: requests.registerWebhookRequestSchema },
  { action: "list_webhooks", call: (c, b) => c.listWebhooks(b), request: "list_webhooks", response: "list_webhooks", requestSchema: requests.listWebhooksRequestSchema },
  { action: "unregister_webhook", call: (c, b) => c.unregisterWebhook(b), request: "unregister_webhook", requestSchema: requests.unregisterWebhookRequestSchema },
  { action: "enable_license_webhooks", call: (c, b) => c.enableLicenseWebhooks(b), request: "enable_license_webhooks", requestSchema: requests.licenseWebhooksRequestSchema },
  { action: "disable_license_webhooks", call: (c, b) => c.disableLicenseWebhooks(b), request: "disable_license_webhooks", requestSchema: requests.licenseWebhooksRequestSchema },
  { action: "get_license_webhooks_state", call: (c, b) => c.getLicenseWebhooksState(b), request: "get_license_webhooks_state", response: "get_license_webhooks_state", requestSchema: requests.licenseWebhooksRequestSchema },
  { action: "create_bot", call: (c, b) => c.createBot(b), request: "create_bot", response: "create_bot", requestSchema: requests.createBotRequestSchema },
  { action: "get_bot", call: (c, b) => c.getBot(b), request: "get_bot", response: "get_bot", requestSchema: requests.getBotRequestSchema },
  { action: "list_bots", call: (c, b) => c.listBots(b), request: "list_bots", response: "list_bots", requestSchema: requests.listBotsRequestSchema },
  { action: "update_bot", call: (c, b) => c.updateBot(b), request: "update_bot", requestSchema: requests.updateBotRequestSchema },
  { action: "delete_bot", call: (c, b) => c.deleteBot(b), request: "delete_bot", requestSchema: requests.deleteBotRequestSchema },
  { action: "issue_bot_token", call: (c, b) => c.issueBotToken(b), request: "issue_bot_token", response: "issue_bot_token", requestSchema: requests.issueBotTokenRequestSchema },
  { action: "reset_bot_secret", call: (c, b) => c.resetBotSecret(b), request: "reset_bot_secret", response: "reset_bot_secret", requestSchema: requests.resetBotSecretRequestSchema },
  { action: "list_tags", call: (c, b) => c.listTags(b), request: "list_tags", response: "list_tags", requestSchema: requests.listTagsRequestSchema },
];

describe("ConfigurationApi methods vs the documented samples", () => {
  it.each(cases)("$action", async ({ action, call, request, response, requestSchema }) => {
    const body = fixture(`configuration.v3.6.${request}.request`);
    const reply = response ? Response.json(fixture(`configuration.v3.6.${response}.response`)) : new Response("", { status: 200 });
    const lc = mockLiveChat().on("POST", `/configuration/action/${action}`, reply);
    const { config } = api();
    const result = await call(config, body);
    expect(result).toEqual(response ? fixture(`configuration.v3.6.${response}.response`) : undefined);

    const [sent] = lc.calls();
    expect(lc.calls()).toHaveLength(1);
    expect(sent.method).toBe("POST");
    expect(sent.url.href).toBe(`http://127.0.0.1:9002/v3.6/configuration/action/${action}`);
    expect(sent.headers.get("authorization")).toBe(`Bearer ${TOKEN}`);
    expect(sent.headers.get("content-type")).toBe("application/json");
    expect(sent.headers.get("x-region")).toBe("fra");
    expect(sent.body).toEqual(fixture(`configuration.v3.6.${request}.request`));
    expect(requestSchema.safeParse(sent.body).success).toBe(true);
  });

  it("covers every documented v3.6 response sample of the methods it implements", () => {
    const implemented = new Set(cases.flatMap((c) => (c.response ? [c.response] : [])).concat("list_webhook_names"));
    const documented = fixtureNames("configuration.v3.6.")
      .filter((n) => n.endsWith(".response"))
      .map((n) => n.slice("configuration.v3.6.".length, -".response".length))
      .filter((n) => !n.startsWith("batch_") && !n.includes("bot_template"));
    expect(documented.filter((n) => !implemented.has(n))).toEqual([]);
  });

  it("list_webhook_names needs no authentication (docs/LIVECHAT.md §3.2)", async () => {
    const lc = mockLiveChat().on("POST", "/configuration/action/list_webhook_names", Response.json(fixture("configuration.v3.6.list_webhook_names.response")));
    const { config } = api();
    const names = await config.listWebhookNames(fixture("configuration.v3.6.list_webhook_names.request"));
    expect(names).toEqual(fixture("configuration.v3.6.list_webhook_names.response"));
    expect(names[1].additional_data).toEqual(["chat_properties", "chat_presence_user_ids"]);
    const [sent] = lc.calls();
    expect(sent.headers.get("authorization")).toBeNull();
    expect(sent.body).toEqual({ version: "3.6" });
  });

  it("sends {} for the license-webhook methods by default (Bearer, docs/LIVECHAT.md §3.1)", async () => {
    const lc = mockLiveChat()
      .on("POST", "/configuration/action/enable_license_webhooks", new Response(null, { status: 200 }))
      .on("POST", "/configuration/action/get_license_webhooks_state", Response.json({ license_webhooks_enabled: false }));
    const { config } = api();
    await config.enableLicenseWebhooks();
    expect(await config.getLicenseWebhooksState()).toEqual({ license_webhooks_enabled: false });
    expect(lc.calls().map((c) => c.body)).toEqual([{}, {}]);
  });

  it("rejects a response that does not match the schema as invalid_response", async () => {
    mockLiveChat().on("POST", "/configuration/action/create_bot", Response.json({ id: "abc" }));
    const err = await rejectionOf(api().config.createBot({ name: "x" }));
    expect(err).toMatchObject({ type: "invalid_response", method: "configuration/create_bot", retryable: false });
    expect(err.detail).toContain("secret");
    mockLiveChat().on("POST", "/configuration/action/list_bots", Response.json({ not: "an array" }));
    expect((await rejectionOf(api().config.listBots())).type).toBe("invalid_response");
  });

  it("passes unknown response fields through", async () => {
    mockLiveChat().on("POST", "/configuration/action/get_bot", Response.json({ ...fixture("configuration.v3.6.get_bot.response"), new_field: [1] }));
    const bot = await api().config.getBot({ id: "5c9871d5372c824cbf22d860a707a578" });
    expect(bot.new_field).toEqual([1]);
    expect(bot.groups?.[2]).toEqual({ id: 2, priority: "first" });
  });
});

describe("ConfigurationApi auth, region and errors", () => {
  it("uses Basic base64(account_id:PAT) for PATs (docs/LIVECHAT.md §3.1)", async () => {
    const lc = mockLiveChat().on("POST", "/configuration/action/list_webhooks", Response.json([]));
    const { config } = api({ kind: "basic", accountId: "b7eff798-f8df-4364-8059-649c35c9ed0c", token: "dal:PAT123" });
    await config.listWebhooks({ owner_client_id: "cid" });
    const [sent] = lc.calls();
    expect(sent.headers.get("authorization")).toBe(`Basic ${btoa("b7eff798-f8df-4364-8059-649c35c9ed0c:dal:PAT123")}`);
    expect(sent.headers.get("x-region")).toBe("dal");
  });

  it("resolves a credential function once per call", async () => {
    mockLiveChat().on("POST", "/configuration/action/list_bots", livechatError(503, "service_unavailable"), Response.json([]));
    let n = 0;
    const { config } = api(async () => ({ kind: "bearer", token: `dal:token-${++n}` }));
    await config.listBots();
    await config.listBots();
    expect(n).toBe(2);
  });

  it("re-routes on misdirected_request, reports the region and keeps using it", async () => {
    const lc = mockLiveChat().on(
      "POST",
      "/configuration/action/list_bots",
      Response.json(fixture("configuration.v3.6.error.misdirected_request"), { status: 421 }),
      Response.json([]),
    );
    const seen: string[] = [];
    const { config } = api(undefined, { onRegion: (r: string) => seen.push(r) });
    expect(config.region).toBeUndefined();
    await config.listBots();
    await config.listBots();
    expect(lc.calls().map((c) => c.headers.get("x-region"))).toEqual(["fra", "dal", "dal"]);
    expect(seen).toEqual(["dal"]);
    expect(config.region).toBe("dal");
  });

  it("throws a typed error with LiveChat's type and message, without the token", async () => {
    const lines = captureConsole();
    mockLiveChat().on("POST", "/configuration/action/create_bot", livechatError(401, "authentication", `Invalid access token ${TOKEN}`));
    const err = await rejectionOf(api().config.createBot({ name: "Bot" }));
    expect(err).toBeInstanceOf(LiveChatError);
    expect(err).toMatchObject({ status: 401, type: "authentication", method: "configuration/create_bot", retryable: false });
    expect(err.detail).toBe("Invalid access token [redacted]");
    expect(`${err.message} ${JSON.stringify(err)}`).not.toContain("CONFIG-SECRET");
    expect(lines.join("\n")).not.toContain("CONFIG-SECRET");
  });

  it("keeps the issued bot token out of errors when the response is malformed", async () => {
    mockLiveChat().on("POST", "/configuration/action/issue_bot_token", Response.json({ token: 12345, echo: "x" }));
    const err = await rejectionOf(api().config.issueBotToken(fixture("configuration.v3.6.issue_bot_token.request")));
    expect(err.type).toBe("invalid_response");
    expect(JSON.stringify(err)).not.toContain("12345");
    expect(JSON.stringify(err)).not.toContain("641e2ae6d997d2009a3ac92a05f37fc3"); // bot_secret from the request
  });
});

describe("bot calls that must not run twice (docs/LIVECHAT.md §3.3)", () => {
  type BotCall = { action: string; call: (c: ConfigurationApi) => Promise<unknown>; response: string };
  const botCalls: BotCall[] = [
    // A repeated create_bot creates a second bot.
    { action: "create_bot", call: (c) => c.createBot({ name: "Bot" }), response: "create_bot" },
    // A repeated reset leaves a secret we never saw.
    { action: "reset_bot_secret", call: (c) => c.resetBotSecret({ id: "bot-1" }), response: "reset_bot_secret" },
    // Each issue mints a 24 h bot token that cannot be revoked.
    { action: "issue_bot_token", call: (c) => c.issueBotToken(fixture("configuration.v3.6.issue_bot_token.request")), response: "issue_bot_token" },
  ];
  const lostAnswers = [
    { name: "503", reply: () => livechatError(503, "service_unavailable"), type: "service_unavailable" },
    { name: "internal (500)", reply: () => livechatError(500, "internal"), type: "internal" },
    { name: "a timeout", reply: () => new Promise<Response>((resolve) => setTimeout(() => resolve(Response.json({})), 300)), type: "timeout" },
  ];
  const cases = botCalls.flatMap((b) => lostAnswers.map((l) => ({ ...b, ...l })));

  function slowApi() {
    const t = testHttp({ timeoutMs: 50 });
    return { ...t, config: new ConfigurationApi({ apiUrl: API, version: "3.6", credentials: { kind: "bearer", token: TOKEN }, http: t.http }) };
  }

  it.each(cases)("$action answered with $name reaches LiveChat once and fails retryably", async ({ action, call, response, reply, type }) => {
    const lc = mockLiveChat().on("POST", `/configuration/action/${action}`, reply, Response.json(fixture(`configuration.v3.6.${response}.response`)));
    const { config, waits } = slowApi();
    const err = await rejectionOf(call(config));
    expect(err).toBeInstanceOf(LiveChatError);
    expect(err).toMatchObject({ type, method: `configuration/${action}`, retryable: true });
    expect(lc.calls()).toHaveLength(1);
    expect(waits).toEqual([]);
  });

  it.each(botCalls)("$action is still retried after a rate limit, which rejects before processing", async ({ action, call, response }) => {
    const lc = mockLiveChat().on(
      "POST",
      `/configuration/action/${action}`,
      livechatError(429, "too_many_requests"),
      Response.json(fixture(`configuration.v3.6.${response}.response`)),
    );
    const { config } = slowApi();
    expect(await call(config)).toEqual(fixture(`configuration.v3.6.${response}.response`));
    expect(lc.calls()).toHaveLength(2);
  });
});
