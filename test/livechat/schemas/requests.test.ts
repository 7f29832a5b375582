import { describe, expect, it } from "vitest";
import * as agent from "../../../src/livechat/schemas/agent-chat";
import * as agentRequests from "../../../src/livechat/schemas/agent-chat-requests";
import * as configuration from "../../../src/livechat/schemas/configuration";
import * as configurationRequests from "../../../src/livechat/schemas/configuration-requests";
import { fixture } from "../../helpers/fixtures";

describe("request schemas accept the documented request samples and reject malformed ones", () => {
  it("configuration requests", () => {
    expect(configurationRequests.registerWebhookRequestSchema.safeParse(fixture("configuration.v3.6.register_webhook.request")).success).toBe(true);
    expect(configurationRequests.registerWebhookRequestSchema.safeParse({ url: "u", action: "a", secret_key: "s", owner_client_id: "c", type: "global" }).success).toBe(false);
    expect(configurationRequests.createBotRequestSchema.safeParse({ name: "x", default_group_priority: "urgent" }).success).toBe(false);
    expect(configurationRequests.createBotRequestSchema.safeParse({ name: "x", groups: [{ id: 0, priority: "first" }], max_chats_count: 6 }).success).toBe(true);
    expect(configurationRequests.issueBotTokenRequestSchema.safeParse({ bot_id: "b" }).success).toBe(false);
    expect(configurationRequests.getBotRequestSchema.safeParse({ id: "x", fields: ["groups", "timezone"] }).success).toBe(true);
    expect(configurationRequests.getBotRequestSchema.safeParse({ id: "x", fields: ["password"] }).success).toBe(false);
  });

  it("agent requests", () => {
    expect(agentRequests.setRoutingStatusRequestSchema.safeParse(fixture("agent.v3.6.set_routing_status.request")).success).toBe(true);
    expect(agentRequests.setRoutingStatusRequestSchema.safeParse({ status: "offline" }).success).toBe(true); // bots (docs/LIVECHAT.md §4.3)
    // Webhook spelling with a space is not an API value (test/fixtures/livechat/SOURCES.md).
    expect(agentRequests.setRoutingStatusRequestSchema.safeParse({ status: "accepting chats" }).success).toBe(false);
    expect(agentRequests.addUserToChatRequestSchema.safeParse({ chat_id: "c", user_id: "u", user_type: "bot", visibility: "all" }).success).toBe(false);
    expect(agentRequests.sendEventRequestSchema.safeParse({ chat_id: "c" }).success).toBe(false);
    expect(agentRequests.tagThreadRequestSchema.safeParse({ chat_id: "c", thread_id: "t" }).success).toBe(false);
    expect(agentRequests.listChatsRequestSchema.safeParse({ sort_order: "random" }).success).toBe(false);
  });

  it("list responses accept routing statuses with either spelling (normalised elsewhere)", () => {
    const statuses = agent.listRoutingStatusesResponseSchema.parse([{ agent_id: "a", status: "accepting chats" }]);
    expect(statuses[0].status).toBe("accepting chats");
  });
});
