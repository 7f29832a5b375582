import { afterEach, describe, expect, it, vi } from "vitest";
import type { AdmittedDelivery, JsonObject, ProcessAttempt } from "../../src/deliveries";
import {
  BOT_NOT_ACCEPTING,
  type ChatHandle,
  createProcessor,
  type HandlerContext,
  HandlerError,
  type LicenseRpc,
  NOT_INSTALLED,
  trackBotDeleted, trackRoutingStatus,
  WebhookRouter,
} from "../../src/framework";
import { createLogger } from "../../src/log";
import { defaultSettings } from "../../src/licenses/settings";
import { fixture } from "../helpers/fixtures";
import { mockLiveChat } from "../helpers/livechat-mock";

afterEach(() => vi.restoreAllMocks());

const config = { apiUrl: "https://api.livechat.test", apiVersion: "3.6" as const, botWebhookType: "bot" as "bot" | "license" };

function fakeLicense(options: { installed?: boolean; accepting?: boolean } = {}) {
  const calls = { installation: 0, credentials: 0, botRoutingStatus: 0, recorded: [] as unknown[] };
  const rpc: LicenseRpc = {
    installation: async () => (calls.installation++, { installed: options.installed ?? true, needsReinstall: false }),
    credentials: async () => (calls.credentials++, { kind: "bearer", token: "dal:license-token", region: "dal" }),
    botCredentials: async () => ({ kind: "bearer", token: "bot-jwt", region: "dal" }),
    botInfo: async () => ({ id: "bot-1", name: "Assistant", createdAt: 0 }),
    settings: async () => defaultSettings({ replyTimeoutSeconds: 120 }),
    botRoutingStatus: async () => (
      calls.botRoutingStatus++, { agentId: "bot-1", acceptingChats: options.accepting ?? false }
    ),
    recordRoutingStatus: async (update) => (calls.recorded.push(update), true),
    recordBotDeleted: async (update) => (calls.recorded.push(update), true),
    recordRegion: async (region) => void calls.recorded.push({ region }),
  };
  return { rpc, calls };
}

function stored(overrides: Partial<AdmittedDelivery> = {}): AdmittedDelivery {
  return {
    id: "d-1",
    seq: 1,
    kind: "license",
    organizationId: "org-d",
    chatId: "CHAT-D",
    action: "incoming_event",
    webhookId: "wh",
    dedupeKey: "license:incoming_event:CHAT-D:T:E1",
    payload: { chat_id: "CHAT-D", thread_id: "T", event: { ...fixture<JsonObject>("event.v3.6.message"), id: "E1" } },
    additionalData: { chat_presence_user_ids: ["a"] },
    requester: { client_id: "c" },
    receivedAt: 1_000,
    status: "pending",
    attempts: 1,
    handled: [],
    ...overrides,
  };
}

function attempt(delivery: AdmittedDelivery, n = 1): ProcessAttempt & { marked: string[] } {
  const marked: string[] = [];
  return { delivery, attempt: n, markHandled: (name) => void marked.push(name), marked };
}

function setup(options: { installed?: boolean; accepting?: boolean; chat?: ChatHandle; botWebhookType?: "bot" | "license" } = {}) {
  const router = new WebhookRouter();
  const license = fakeLicense(options);
  const processor = createProcessor({
    router,
    config: () => ({ ...config, botWebhookType: options.botWebhookType ?? "bot" }),
    license: () => license.rpc,
    chat: () => options.chat,
    log: createLogger({ test: "dispatch" }),
  });
  return { router, license, processor };
}

describe("createProcessor", () => {
  it("runs the action's handlers in registration order with a full context", async () => {
    const chat: ChatHandle = { id: "CHAT-D", organizationId: "org-d", store: {} as ChatHandle["store"] };
    const { router, processor, license } = setup({ chat });
    const order: string[] = [];
    let seen: HandlerContext | undefined;
    router.on("incoming_event", (payload, ctx) => {
      order.push(`first ${payload.event.id}`);
      seen = ctx;
    });
    router.on("incoming_event", () => void order.push("second"));
    router.on("thread_tagged", () => void order.push("other action"));

    const a = attempt(stored(), 2);
    expect(await processor(a)).toEqual({ status: "processed" });
    expect(order).toEqual(["first E1", "second"]);
    expect(a.marked).toEqual(["incoming_event#0", "incoming_event#1"]);
    expect(seen).toMatchObject({
      action: "incoming_event",
      kind: "license",
      organizationId: "org-d",
      chatId: "CHAT-D",
      delivery: {
        id: "d-1",
        dedupeKey: "license:incoming_event:CHAT-D:T:E1",
        webhookId: "wh",
        receivedAt: 1_000,
        attempt: 2,
        additionalData: { chat_presence_user_ids: ["a"] },
        requester: { client_id: "c" },
      },
      chat,
    });
    expect(seen!.license.organizationId).toBe("org-d");
    expect(license.calls.credentials).toBe(0); // ctx.api was never touched: no credentials needed
  });

  it("logs through a child logger carrying organization, chat, action and delivery", async () => {
    const { router, processor } = setup();
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: string) => void lines.push(line));
    router.on("incoming_event", (_p, ctx) => ctx.log.info("hello", { token: "dal:abcdefghijk" }));
    await processor(attempt(stored()));
    expect(JSON.parse(lines[0])).toEqual({
      level: "info",
      msg: "hello",
      test: "dispatch",
      organization_id: "org-d",
      chat_id: "CHAT-D",
      action: "incoming_event",
      delivery_id: "d-1",
      token: "[redacted]",
    });
  });

  it("ctx.api calls LiveChat as the license, with credentials fetched from the License DO", async () => {
    const { router, processor, license } = setup();
    const lc = mockLiveChat();
    lc.on("POST", "/v3.6/agent/action/send_event", Response.json({ event_id: "NEW" }));
    router.on("incoming_event", async (payload, ctx) => {
      const { event_id } = await ctx.api.agent.sendEvent({
        chat_id: payload.chat_id,
        event: { type: "message", text: "echo", visibility: "all" },
      });
      expect(event_id).toBe("NEW");
      expect(ctx.api.agent).toBe(ctx.api.agent); // built once
    });
    await processor(attempt(stored()));
    const [call] = lc.calls("/send_event");
    expect(call.url.href).toBe("https://api.livechat.test/v3.6/agent/action/send_event");
    expect(call.headers.get("authorization")).toBe("Bearer dal:license-token");
    expect(license.calls.credentials).toBe(1);
  });

  it("a throwing handler fails the attempt, named; handlers done before it are not run again", async () => {
    const { router, processor } = setup();
    const runs: string[] = [];
    let failing = true;
    router.on("incoming_event", () => void runs.push("a"), { name: "a" });
    router.on(
      "incoming_event",
      () => {
        runs.push("b");
        if (failing) throw new TypeError("bad thing");
      },
      { name: "b" },
    );
    const first = attempt(stored());
    const error = await processor(first).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HandlerError);
    expect((error as HandlerError).message).toBe("handler b failed: TypeError: bad thing");
    expect(first.marked).toEqual(["a"]);

    failing = false;
    const second = attempt(stored({ handled: first.marked }), 2);
    expect(await processor(second)).toEqual({ status: "processed" });
    expect(runs).toEqual(["a", "b", "b"]);
    expect(second.marked).toEqual(["b"]);
  });

  it("records not_installed without running handlers", async () => {
    const { router, processor, license } = setup({ installed: false });
    const handler = vi.fn();
    router.on("incoming_event", handler);
    expect(await processor(attempt(stored()))).toEqual({ status: "not_installed", note: NOT_INSTALLED });
    expect(handler).not.toHaveBeenCalled();
    expect(license.calls.installation).toBe(1);
  });

  it("validates the stored payload: one that does not parse is unprocessable, with its validation error", async () => {
    const { router, processor } = setup();
    const handler = vi.fn();
    router.on("incoming_event", handler);
    const outcome = await processor(attempt(stored({ payload: { chat_id: 1 } })));
    expect(outcome.status).toBe("unprocessable");
    expect(outcome).toMatchObject({ note: "invalid_payload", error: expect.stringMatching(/^chat_id: /) });
    expect(handler).not.toHaveBeenCalled();
  });

  it("processes an action without handlers as processed, noting it", async () => {
    const { processor } = setup();
    expect(await processor(attempt(stored()))).toEqual({ status: "processed", note: "no handlers" });
  });

  describe("bot deliveries", () => {
    it("are skipped while the bot is not accepting chats; handlers that ignore the status still run", async () => {
      const { router, processor, license } = setup({ accepting: false });
      const runs: string[] = [];
      router.on("incoming_event", () => void runs.push("gated"));
      router.on("incoming_event", () => void runs.push("always"), { ignoreBotStatus: true });
      expect(await processor(attempt(stored({ kind: "bot" })))).toEqual({ status: "skipped", note: BOT_NOT_ACCEPTING });
      expect(runs).toEqual(["always"]);
      expect(license.calls.botRoutingStatus).toBe(1);
    });

    it("run while the bot accepts chats", async () => {
      const { router, processor } = setup({ accepting: true });
      const runs: string[] = [];
      router.on("incoming_event", (_p, ctx) => void runs.push(ctx.kind));
      expect(await processor(attempt(stored({ kind: "bot" })))).toEqual({ status: "processed" });
      expect(runs).toEqual(["bot"]);
    });

    it("license deliveries never ask for the bot's status; kind filters apply", async () => {
      const { router, processor, license } = setup({ accepting: false });
      const runs: string[] = [];
      router.on("incoming_event", () => void runs.push("license-only"), { kind: "license" });
      router.on("incoming_event", () => void runs.push("bot-only"), { kind: "bot" });
      await processor(attempt(stored()));
      expect(runs).toEqual(["license-only"]);
      expect(license.calls.botRoutingStatus).toBe(0);
    });

    it("BOT_WEBHOOK_TYPE=license: bot behaviours run from license deliveries, gated on the bot accepting chats", async () => {
      for (const accepting of [true, false]) {
        const { router, processor } = setup({ accepting, botWebhookType: "license" });
        const runs: string[] = [];
        router.on("incoming_event", () => void runs.push("license-only"), { kind: "license" });
        router.on("incoming_event", () => void runs.push("behaviour"), { kind: "bot" });
        router.on("incoming_event", () => void runs.push("bookkeeping"), { kind: "bot", ignoreBotStatus: true });
        const outcome = await processor(attempt(stored()));
        if (accepting) {
          expect(outcome).toEqual({ status: "processed" });
          expect(runs).toEqual(["license-only", "behaviour", "bookkeeping"]);
        } else {
          expect(outcome).toEqual({ status: "skipped", note: BOT_NOT_ACCEPTING });
          expect(runs).toEqual(["license-only", "bookkeeping"]);
        }
      }
    });
  });

  it("the built-in tracker hands routing_status_set to the License DO, normalised, even while the bot is not accepting", async () => {
    const { router, processor, license } = setup({ accepting: false });
    trackRoutingStatus(router);
    const delivery = stored({
      kind: "bot",
      action: "routing_status_set",
      chatId: undefined,
      payload: { agent_id: "bot-1", status: "accepting chats" },
      receivedAt: 42,
    });
    expect(await processor(attempt(delivery))).toEqual({ status: "processed" });
    expect(license.calls.recorded).toEqual([{ agentId: "bot-1", status: "accepting_chats", at: 42 }]);
    expect(license.calls.botRoutingStatus).toBe(0);
  });

  it("the built-in bot_deleted tracker hands the deleted id to the License DO", async () => {
    const { router, processor, license } = setup({ accepting: false });
    trackBotDeleted(router);
    const delivery = stored({ action: "bot_deleted", chatId: undefined, payload: { id: "bot-1" }, receivedAt: 43 });
    expect(await processor(attempt(delivery))).toEqual({ status: "processed" });
    expect(license.calls.recorded).toEqual([{ agentId: "bot-1", at: 43 }]);
  });
});
