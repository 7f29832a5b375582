import { describe, expect, it } from "vitest";
import { WebhookRouter } from "../../src/framework";
import { router } from "../../src/handlers";
import { webhookActions, type WebhookAction } from "../../src/livechat/webhooks";
import { appWebhooks, BASE_WEBHOOKS, declareWebhooks, settingsFor } from "../../src/setup/declaration";
import { checkAgainstNames } from "../../src/setup/run";
import { webhookNames } from "./fake-configuration";

const noop = () => {};

/** The license webhooks the bot behaviours need (reply timer, tag suggestions, rating reaction). */
const BEHAVIOUR_ACTIONS: WebhookAction[] = [
  "incoming_chat",
  "incoming_event",
  "chat_deactivated",
  "chat_transferred",
  "user_added_to_chat",
  "user_removed_from_chat",
  "thread_tagged",
  "thread_properties_updated",
  "thread_properties_deleted",
  "routing_status_set",
];

describe("declareWebhooks", () => {
  it("always holds the built-in bookkeeping webhooks", () => {
    const desired = declareWebhooks(new WebhookRouter());
    expect(desired).toEqual([
      { action: "routing_status_set", type: "license" },
      { action: "bot_deleted", type: "license" },
    ]);
    expect(BASE_WEBHOOKS.map((b) => b.action)).toEqual(["routing_status_set", "bot_deleted"]);
  });

  it("maps handler kinds: bot → bot webhook, license or none → license webhook", () => {
    const r = new WebhookRouter();
    r.on("incoming_chat", noop);
    r.on("thread_tagged", noop, { kind: "license" });
    r.on("incoming_event", noop, { kind: "bot" });
    r.on(["routing_status_set", "incoming_chat"], noop, { kind: "bot" });
    const desired = declareWebhooks(r);
    expect(desired).toEqual([
      { action: "incoming_chat", type: "license" },
      { action: "thread_tagged", type: "license" },
      { action: "routing_status_set", type: "license" },
      { action: "bot_deleted", type: "license" },
      { action: "incoming_chat", type: "bot" },
      { action: "incoming_event", type: "bot" },
      { action: "routing_status_set", type: "bot" },
    ]);
  });

  it("with botWebhookType license, bot behaviours become license webhooks (one per action)", () => {
    const r = new WebhookRouter();
    r.on("incoming_chat", noop);
    r.on("incoming_chat", noop, { kind: "bot" });
    r.on("incoming_event", noop, { kind: "bot" });
    r.on("chat_deactivated", noop, { kind: "license" });
    expect(declareWebhooks(r, { botWebhookType: "license" })).toEqual([
      { action: "incoming_chat", type: "license" },
      { action: "chat_deactivated", type: "license" },
      { action: "incoming_event", type: "license" },
      { action: "routing_status_set", type: "license" },
      { action: "bot_deleted", type: "license" },
    ]);
  });

  it("gives incoming_event no author filter and bot webhooks no chat_presence filter: the bot hears chats it is not in yet", () => {
    const r = new WebhookRouter();
    r.on("incoming_event", noop);
    r.on("incoming_event", noop, { kind: "bot" });
    expect(declareWebhooks(r).filter((d) => d.action === "incoming_event")).toEqual([
      { action: "incoming_event", type: "license" },
      { action: "incoming_event", type: "bot" },
    ]);
    for (const action of webhookActions) {
      expect(settingsFor(action, "license")).toEqual({});
      expect(settingsFor(action, "bot")).toEqual({});
    }
  });

  it("applies overrides per action and type", () => {
    const r = new WebhookRouter();
    r.on("incoming_chat", noop);
    r.on("incoming_chat", noop, { kind: "bot" });
    const desired = declareWebhooks(r, {
      overrides: { incoming_chat: { license: { additional_data: ["chat_properties"] }, bot: { filters: { chat_presence: { my_bots: true } } } } },
    });
    expect(desired[0]).toEqual({ action: "incoming_chat", type: "license", additional_data: ["chat_properties"] });
    expect(desired.find((d) => d.type === "bot")).toEqual({ action: "incoming_chat", type: "bot", filters: { chat_presence: { my_bots: true } } });
  });

  it("covers the bot behaviours' actions as license webhooks, all valid for v3.6", () => {
    const r = new WebhookRouter();
    r.on(BEHAVIOUR_ACTIONS, noop);
    const desired = declareWebhooks(r);
    for (const action of BEHAVIOUR_ACTIONS) expect(desired).toContainEqual({ action, type: "license" });
    expect(desired.filter((d) => d.type === "bot")).toEqual([]);
    expect(checkAgainstNames(desired, webhookNames("3.6"), "3.6")).toEqual([]);
  });

  it("returns copies: mutating the result does not change the next declaration", () => {
    const r = new WebhookRouter();
    r.on("incoming_event", noop, { kind: "bot" });
    const overrides = { incoming_event: { bot: { filters: { chat_presence: { my_bots: true } } } } };
    const first = declareWebhooks(r, { overrides });
    first.find((d) => d.type === "bot")!.filters!.chat_presence!.my_bots = false;
    expect(declareWebhooks(r, { overrides }).find((d) => d.type === "bot")!.filters).toEqual({ chat_presence: { my_bots: true } });
  });
});

describe("appWebhooks (the app's router in src/handlers.ts)", () => {
  /** The bot's behaviours: delivered only while the bot is not offline (docs/LIVECHAT.md §1.5). */
  const BOT_ACTIONS = [
    "incoming_chat",
    "incoming_event",
    "chat_transferred",
    "user_added_to_chat",
    "user_removed_from_chat",
    "thread_tagged",
    "thread_properties_updated",
    "thread_properties_deleted",
  ];
  /** What must arrive whatever the bot's status. */
  const LICENSE_ACTIONS = ["chat_deactivated", "routing_status_set", "bot_deleted"];

  it("bot mode (the default): behaviours as bot webhooks, bookkeeping as license webhooks, valid for v3.5 and v3.6", () => {
    const desired = appWebhooks();
    expect(desired.filter((d) => d.type === "bot").map((d) => d.action).sort()).toEqual([...BOT_ACTIONS].sort());
    expect(desired.filter((d) => d.type === "license").map((d) => d.action).sort()).toEqual([...LICENSE_ACTIONS].sort());
    for (const base of BASE_WEBHOOKS) expect(desired).toContainEqual(expect.objectContaining(base));
    expect(checkAgainstNames(desired, webhookNames("3.6"), "3.6")).toEqual([]);
    expect(checkAgainstNames(desired, webhookNames("3.5"), "3.5")).toEqual([]);
  });

  it("license mode: every action a license webhook, none a bot webhook", () => {
    const desired = appWebhooks("license");
    expect(desired.filter((d) => d.type === "bot")).toEqual([]);
    expect(desired.map((d) => d.action).sort()).toEqual([...BOT_ACTIONS, ...LICENSE_ACTIONS].sort());
    expect(checkAgainstNames(desired, webhookNames("3.6"), "3.6")).toEqual([]);
  });

  it("registers every action a handler of the app needs", () => {
    const desired = appWebhooks();
    for (const action of webhookActions) {
      if (router.handlersFor(action, "license").some((h) => h.kind !== "bot")) expect(desired).toContainEqual(expect.objectContaining({ action, type: "license" }));
      if (router.handlersFor(action, "bot").some((h) => h.kind === "bot")) expect(desired).toContainEqual(expect.objectContaining({ action, type: "bot" }));
    }
  });
});
