import { describe, expect, expectTypeOf, it } from "vitest";
import { type HandlerContext, WebhookRouter } from "../../src/framework";
import type { RoutingStatus, WebhookPayload } from "../../src/livechat/webhooks";

describe("WebhookRouter", () => {
  it("registers per action and kind, in order, and unregisters", () => {
    const router = new WebhookRouter();
    const offA = router.on("incoming_event", () => {});
    router.on(["incoming_event", "event_updated"], () => {}, { name: "events" });
    router.on("incoming_event", () => {}, { kind: "bot", name: "bot-only" });
    router.on("thread_tagged", () => {}, { kind: "license", name: "license-only" });

    expect(router.handlersFor("incoming_event", "license").map((h) => h.name)).toEqual(["incoming_event#0", "events"]);
    expect(router.handlersFor("incoming_event", "bot").map((h) => h.name)).toEqual(["incoming_event#0", "events", "bot-only"]);
    expect(router.handlersFor("event_updated", "bot").map((h) => h.name)).toEqual(["events"]);
    expect(router.handlersFor("thread_tagged", "bot")).toEqual([]);
    expect(router.handlersFor("thread_tagged", "license").map((h) => h.name)).toEqual(["license-only"]);
    expect(router.handlersFor("no_such_action", "license")).toEqual([]);

    offA();
    offA(); // idempotent
    expect(router.handlersFor("incoming_event", "license").map((h) => h.name)).toEqual(["events"]);
  });

  it("default names follow the registration index; names must be unique; an action list must not be empty", () => {
    const router = new WebhookRouter();
    router.on("thread_tagged", () => {});
    router.on(["thread_tagged", "thread_untagged"], () => {});
    expect(router.handlersFor("thread_tagged", "license").map((h) => h.name)).toEqual(["thread_tagged#0", "thread_tagged|thread_untagged#1"]);
    router.on("thread_tagged", () => {}, { name: "mine" });
    expect(() => router.on("thread_untagged", () => {}, { name: "mine" })).toThrow(/named "mine" exists/);
    expect(() => router.on([], () => {})).toThrow(/no action/);
  });

  it("marks handlers that run whatever the bot's status", () => {
    const router = new WebhookRouter();
    router.on("routing_status_set", () => {}, { name: "tracker", ignoreBotStatus: true });
    router.on("routing_status_set", () => {}, { name: "plain" });
    expect(router.handlersFor("routing_status_set", "bot").map((h) => [h.name, h.ignoreBotStatus])).toEqual([
      ["tracker", true],
      ["plain", false],
    ]);
  });

  it("narrows the payload and ctx.action by action (checked by tsc)", () => {
    const router = new WebhookRouter();
    router.on("incoming_event", (payload, ctx) => {
      expectTypeOf(payload).toEqualTypeOf<WebhookPayload<"incoming_event">>();
      expectTypeOf(payload.chat_id).toEqualTypeOf<string>();
      expectTypeOf(ctx.action).toEqualTypeOf<"incoming_event">();
      // @ts-expect-error chat_id is a string, not a number
      const wrong: number = payload.chat_id;
      void wrong;
    });
    router.on("routing_status_set", (payload) => {
      expectTypeOf(payload.status).toEqualTypeOf<RoutingStatus>();
    });
    router.on(["thread_tagged", "thread_untagged"], (payload, ctx: HandlerContext<"thread_tagged" | "thread_untagged">) => {
      expectTypeOf(payload.tag).toEqualTypeOf<string>();
      expectTypeOf(ctx.action).toEqualTypeOf<"thread_tagged" | "thread_untagged">();
    });
    // @ts-expect-error not a webhook action
    router.on("incoming_nonsense", () => {});
    expect(router.handlersFor("thread_untagged", "license")).toHaveLength(1);
  });
});
