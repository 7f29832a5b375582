import { afterEach, describe, expect, it, vi } from "vitest";
import { AgentChatApi } from "../../src/livechat/agent-chat";
import { LiveChatError } from "../../src/livechat/errors";
import type { Credentials } from "../../src/livechat/auth";
import * as schemas from "../../src/livechat/schemas/agent-chat";
import * as requests from "../../src/livechat/schemas/agent-chat-requests";
import { fixture, fixtureNames } from "../helpers/fixtures";
import { livechatError, mockLiveChat } from "../helpers/livechat-mock";
import { captureConsole, rejectionOf, testHttp } from "./helpers";

const API = "http://127.0.0.1:9002";
/** A bot JWT has no region prefix (docs/LIVECHAT.md §6.3): the caller passes the license's region. */
const BOT_JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJCT1QtU0VDUkVUIn0.SIGNATURE-BOT-SECRET-xyz";
const BOT: Credentials = { kind: "bearer", token: BOT_JWT, region: "fra" };

function api(credentials: Credentials = BOT, extra = {}) {
  const t = testHttp();
  return { ...t, agent: new AgentChatApi({ apiUrl: API, version: "3.6", credentials, http: t.http, ...extra }) };
}

afterEach(() => {
  vi.restoreAllMocks();
});

type Case = {
  action: string;
  call: (a: AgentChatApi, body: any) => Promise<unknown>;
  response?: string;
  requestSchema: { safeParse(v: unknown): { success: boolean } };
};

// Every method against LiveChat's documented request/response samples (docs/LIVECHAT.md §4.3).
const cases: Case[] = [
  { action: "set_routing_status", call: (a, b) => a.setRoutingStatus(b), requestSchema: requests.setRoutingStatusRequestSchema },
  { action: "list_routing_statuses", call: (a, b) => a.listRoutingStatuses(b), response: "list_routing_statuses", requestSchema: requests.listRoutingStatusesRequestSchema },
  { action: "get_chat", call: (a, b) => a.getChat(b), response: "get_chat", requestSchema: requests.getChatRequestSchema },
  { action: "list_chats", call: (a, b) => a.listChats(b), response: "list_chats", requestSchema: requests.listChatsRequestSchema },
  { action: "list_threads", call: (a, b) => a.listThreads(b), response: "list_threads", requestSchema: requests.listThreadsRequestSchema },
  { action: "add_user_to_chat", call: (a, b) => a.addUserToChat(b), requestSchema: requests.addUserToChatRequestSchema },
  { action: "remove_user_from_chat", call: (a, b) => a.removeUserFromChat(b), requestSchema: requests.removeUserFromChatRequestSchema },
  { action: "send_event", call: (a, b) => a.sendEvent(b), response: "send_event", requestSchema: requests.sendEventRequestSchema },
  { action: "tag_thread", call: (a, b) => a.tagThread(b), requestSchema: requests.tagThreadRequestSchema },
  { action: "untag_thread", call: (a, b) => a.untagThread(b), requestSchema: requests.tagThreadRequestSchema },
  { action: "deactivate_chat", call: (a, b) => a.deactivateChat(b), requestSchema: requests.deactivateChatRequestSchema },
  { action: "update_thread_properties", call: (a, b) => a.updateThreadProperties(b), requestSchema: requests.updateThreadPropertiesRequestSchema },
];

describe("AgentChatApi methods vs the documented samples", () => {
  it.each(cases)("$action", async ({ action, call, response, requestSchema }) => {
    const body = fixture(`agent.v3.6.${action}.request`);
    const reply = response ? Response.json(fixture(`agent.v3.6.${response}.response`)) : new Response("", { status: 200 });
    const lc = mockLiveChat().on("POST", `/agent/action/${action}`, reply);
    const { agent } = api();
    const result = await call(agent, body);
    expect(result).toEqual(response ? fixture(`agent.v3.6.${response}.response`) : undefined);

    expect(lc.calls()).toHaveLength(1);
    const [sent] = lc.calls();
    expect(sent.method).toBe("POST");
    expect(sent.url.href).toBe(`http://127.0.0.1:9002/v3.6/agent/action/${action}`);
    expect(sent.headers.get("authorization")).toBe(`Bearer ${BOT_JWT}`);
    expect(sent.headers.get("content-type")).toBe("application/json");
    expect(sent.headers.get("x-region")).toBe("fra");
    expect(sent.headers.get("x-author-id")).toBeNull(); // gone in v3.6 (docs/LIVECHAT.md §4.2)
    expect(sent.body).toEqual(fixture(`agent.v3.6.${action}.request`));
    expect(requestSchema.safeParse(sent.body).success).toBe(true);
  });

  it("covers every documented v3.6 response sample", () => {
    const implemented = new Set(cases.flatMap((c) => (c.response ? [c.response] : [])));
    const documented = fixtureNames("agent.v3.6.")
      .filter((n) => n.endsWith(".response"))
      .map((n) => n.slice("agent.v3.6.".length, -".response".length));
    expect(documented.filter((n) => !implemented.has(n))).toEqual([]);
  });

  it("types the parsed chat for callers", async () => {
    mockLiveChat().on("POST", "/agent/action/get_chat", Response.json(fixture("agent.v3.6.get_chat.response")));
    const chat = await api().agent.getChat({ chat_id: "PJ0MRSHTDG" });
    expect(chat.thread?.events?.[0]).toMatchObject({ type: "message", text: "Hello", author_id: "smith@example.com" });
    expect(chat.users.map((u) => u.type)).toEqual(["customer", "agent"]);
    expect(chat.thread?.customer_visit).toBeDefined(); // unknown fields pass through
  });

  it("sends the optional fields it is given and defaults list bodies to {}", async () => {
    const lc = mockLiveChat()
      .on("POST", "/agent/action/list_chats", Response.json({ chats_summary: [], found_chats: 0 }))
      .on("POST", "/agent/action/list_routing_statuses", Response.json([]));
    const { agent } = api();
    await agent.listChats();
    await agent.listChats({ filters: { active: true }, limit: 100 });
    await agent.listRoutingStatuses();
    expect(lc.calls().map((c) => c.body)).toEqual([{}, { filters: { active: true }, limit: 100 }, {}]);
  });

  it("rejects a send_event reply without event_id as invalid_response", async () => {
    mockLiveChat().on("POST", "/agent/action/send_event", Response.json({}));
    const err = await rejectionOf(api().agent.sendEvent(fixture("agent.v3.6.send_event.request")));
    expect(err).toMatchObject({ type: "invalid_response", method: "agent/send_event" });
  });

  it("rejects a get_chat reply without users as invalid_response", async () => {
    const { users: _, ...chat } = fixture("agent.v3.6.get_chat.response");
    mockLiveChat().on("POST", "/agent/action/get_chat", Response.json(chat));
    expect((await rejectionOf(api().agent.getChat({ chat_id: "X" }))).type).toBe("invalid_response");
  });
});

describe("AgentChatApi region and errors", () => {
  it("derives X-Region from the access token prefix when no region is given", async () => {
    const lc = mockLiveChat().on("POST", "/agent/action/set_routing_status", new Response(null, { status: 200 }));
    await api({ kind: "bearer", token: "fra-a:abc" }).agent.setRoutingStatus({ status: "accepting_chats" });
    expect(lc.calls()[0].headers.get("x-region")).toBe("fra-a");
  });

  it("retries once with the region from misdirected_request (documented error sample)", async () => {
    const lc = mockLiveChat().on(
      "POST",
      "/agent/action/send_event",
      Response.json(fixture("agent.v3.6.error.misdirected_request"), { status: 421 }),
      Response.json(fixture("agent.v3.6.send_event.response")),
    );
    const regions: string[] = [];
    const { agent, waits } = api(BOT, { onRegion: (r: string) => regions.push(r) });
    const res = await agent.sendEvent(fixture("agent.v3.6.send_event.request"));
    expect(res.event_id).toBe("K600PKZON8");
    expect(lc.calls().map((c) => c.headers.get("x-region"))).toEqual(["fra", "dal"]);
    expect(regions).toEqual(["dal"]);
    expect(waits).toEqual([]);
  });

  it("fails fast with chat_inactive, carrying LiveChat's message and no token", async () => {
    const lines = captureConsole();
    const lc = mockLiveChat().on("POST", "/agent/action/send_event", livechatError(400, "chat_inactive", "Chat is not active"));
    const err = await rejectionOf(api().agent.sendEvent({ chat_id: "PW94SJTGW6", event: { type: "message", text: "hi" } }));
    expect(err).toBeInstanceOf(LiveChatError);
    expect(err).toMatchObject({ type: "chat_inactive", status: 400, detail: "Chat is not active", retryable: false, method: "agent/send_event" });
    expect(lc.calls()).toHaveLength(1);
    const text = `${err.message} ${JSON.stringify(err)} ${lines.join("\n")}`;
    expect(text).not.toContain("SECRET");
    expect(text).not.toContain(BOT_JWT);
  });

  it("retries too_many_requests with backoff, then gives up at maxAttempts", async () => {
    const lc = mockLiveChat().on("POST", "/agent/action/tag_thread", livechatError(429, "too_many_requests", "Too many requests"));
    const { agent, waits } = api();
    const err = await rejectionOf(agent.tagThread(fixture("agent.v3.6.tag_thread.request")));
    expect(err).toMatchObject({ type: "too_many_requests", retryable: true });
    expect(lc.calls()).toHaveLength(4);
    expect(waits).toEqual([125, 250, 500]);
  });

  it("redacts a JWT echoed back by LiveChat", async () => {
    mockLiveChat().on("POST", "/agent/action/get_chat", livechatError(401, "authentication", `token ${BOT_JWT} expired`, { token: BOT_JWT }));
    const err = await rejectionOf(api().agent.getChat({ chat_id: "X" }));
    expect(err.detail).toBe("token [redacted] expired");
    expect(err.data).toEqual({ token: "[redacted]" });
  });
});

describe("non-idempotent send_event", () => {
  const event = { chat_id: "C1", event: { type: "message", text: "hi", visibility: "all" } } as const;

  it("is not retried after a 5xx, which may follow a stored event", async () => {
    const lc = mockLiveChat().on("POST", "/agent/action/send_event", livechatError(500, "internal"), Response.json({ event_id: "E1" }));
    const { agent } = api();
    await expect(agent.sendEvent(event)).rejects.toMatchObject({ type: "internal" });
    expect(lc.calls("/send_event")).toHaveLength(1);
  });

  it("is retried after a rate limit, which rejects before processing", async () => {
    const lc = mockLiveChat().on("POST", "/agent/action/send_event", livechatError(429, "too_many_requests"), Response.json({ event_id: "E1" }));
    const { agent } = api();
    expect(await agent.sendEvent(event)).toEqual({ event_id: "E1" });
    expect(lc.calls("/send_event")).toHaveLength(2);
  });
});

describe("credentials rejected by LiveChat", () => {
  it("asks the credential source once for new credentials and retries once", async () => {
    const lc = mockLiveChat().on("POST", "/agent/action/get_chat", (call) =>
      call.headers.get("authorization") === "Bearer dal:new" ? Response.json(fixture("agent.v3.6.get_chat.response")) : livechatError(401, "authentication", "Invalid access token"),
    );
    const asked: (Credentials | undefined)[] = [];
    const source = async (rejected?: Credentials): Promise<Credentials> => {
      asked.push(rejected);
      return { kind: "bearer", token: rejected ? "dal:new" : "dal:old" };
    };
    const { agent } = api(undefined, { credentials: source });
    await agent.getChat({ chat_id: "C1" });
    expect(asked).toEqual([undefined, { kind: "bearer", token: "dal:old" }]);
    expect(lc.calls("/get_chat").map((c) => c.headers.get("authorization"))).toEqual(["Bearer dal:old", "Bearer dal:new"]);
  });

  it("gives up after the second rejection", async () => {
    const lc = mockLiveChat().on("POST", "/agent/action/get_chat", livechatError(401, "authentication", "Invalid access token"));
    const { agent } = api(undefined, { credentials: async () => ({ kind: "bearer", token: "dal:x" }) as Credentials });
    await expect(agent.getChat({ chat_id: "C1" })).rejects.toMatchObject({ type: "authentication" });
    expect(lc.calls("/get_chat")).toHaveLength(2);
  });
});
