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
      { action: "incoming_chat", type: "bot", filters: { chat_presence: { my_bots: true } } },
      { action: "incoming_event", type: "bot", filters: { chat_presence: { my_bots: true } } },
      { action: "routing_status_set", type: "bot" },
    ]);
  });

  it("gives license incoming_event no author filter: customer and agent messages both count", () => {
    const r = new WebhookRouter();
    r.on("incoming_event", noop);
    const [event] = declareWebhooks(r);
    expect(event).toEqual({ action: "incoming_event", type: "license" });
    expect(settingsFor("incoming_event", "license")).toEqual({});
  });

  it("filters bot webhooks to chats with our bots only where chat_presence is allowed (docs/LIVECHAT.md §2.2)", () => {
    const names = new Map(webhookNames("3.6").map((n) => [n.action, n.filters]));
    for (const action of webhookActions) {
      const settings = settingsFor(action, "bot");
      if (settings.filters?.chat_presence) expect(names.get(action) ?? ["chat_presence"]).toContain("chat_presence");
      else expect(names.get(action) ?? []).not.toContain("chat_presence");
    }
    expect(settingsFor("thread_tagged", "bot")).toEqual({ filters: { chat_presence: { my_bots: true } } });
    expect(settingsFor("bot_deleted", "bot")).toEqual({});
  });

  it("applies overrides per action and type", () => {
    const r = new WebhookRouter();
    r.on("incoming_chat", noop);
    r.on("incoming_chat", noop, { kind: "bot" });
    const desired = declareWebhooks(r, { incoming_chat: { license: { additional_data: ["chat_properties"] } } });
    expect(desired[0]).toEqual({ action: "incoming_chat", type: "license", additional_data: ["chat_properties"] });
    expect(desired.find((d) => d.type === "bot")).toEqual({
      action: "incoming_chat",
      type: "bot",
      filters: { chat_presence: { my_bots: true } },
    });
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
    const first = declareWebhooks(r);
    first.find((d) => d.type === "bot")!.filters!.chat_presence!.my_bots = false;
    expect(declareWebhooks(r).find((d) => d.type === "bot")!.filters).toEqual({ chat_presence: { my_bots: true } });
  });
});

describe("appWebhooks (the app's router in src/handlers.ts)", () => {
  it("registers every action a handler of the app needs, plus the base, and is valid for v3.6", () => {
    const desired = appWebhooks();
    for (const base of BASE_WEBHOOKS) expect(desired).toContainEqual(expect.objectContaining(base));
    for (const action of webhookActions) {
      if (router.handlersFor(action, "license").length > 0) expect(desired).toContainEqual(expect.objectContaining({ action, type: "license" }));
      if (router.handlersFor(action, "bot").some((h) => h.kind === "bot")) expect(desired).toContainEqual(expect.objectContaining({ action, type: "bot" }));
    }
    expect(checkAgainstNames(desired, webhookNames("3.6"), "3.6")).toEqual([]);
  });
});
