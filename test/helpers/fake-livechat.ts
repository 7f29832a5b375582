import type { mockLiveChat, RecordedCall } from "./livechat-mock";
import { livechatError } from "./livechat-mock";

/**
 * A small stateful LiveChat behind the fetch mock, for flows that span several calls (bot
 * provisioning, reconcile): bots with secrets and tokens, routing statuses, license webhook state.
 * Answers with the documented response shapes (docs/LIVECHAT.md §3.2–§3.3, §4.3).
 */
export function fakeLiveChat(lc: ReturnType<typeof mockLiveChat>) {
  const state = {
    bots: new Map<string, { id: string; name: string; secret: string }>(),
    routing: new Map<string, string>(),
    webhooksEnabled: true,
    tokensIssued: 0,
    nextBot: 1,
  };
  const body = (call: RecordedCall) => (call.body ?? {}) as Record<string, any>;
  lc.on("POST", "/configuration/action/list_bots", () =>
    Response.json([...state.bots.values()].map(({ id, name }) => ({ id, name, avatar_path: "" }))),
  );
  lc.on("POST", "/configuration/action/create_bot", (call) => {
    const id = `bot-${state.nextBot++}-${crypto.randomUUID().slice(0, 8)}`; // unique across tests sharing DO storage
    state.bots.set(id, { id, name: body(call).name, secret: `secret-${id}` });
    return Response.json({ id, secret: `secret-${id}` });
  });
  lc.on("POST", "/configuration/action/get_bot", (call) => {
    const bot = state.bots.get(body(call).id);
    return bot ? Response.json({ id: bot.id, name: bot.name, owner_client_id: "test-client-id" }) : livechatError(404, "not_found", "Bot not found");
  });
  lc.on("POST", "/configuration/action/update_bot", () => Response.json({}));
  lc.on("POST", "/configuration/action/delete_bot", (call) => {
    if (!state.bots.delete(body(call).id)) return livechatError(404, "not_found", "Bot not found");
    state.routing.delete(body(call).id);
    return Response.json({});
  });
  lc.on("POST", "/configuration/action/reset_bot_secret", (call) => {
    const bot = state.bots.get(body(call).id);
    if (!bot) return livechatError(404, "not_found");
    bot.secret = `secret-${bot.id}-reset`;
    return Response.json({ secret: bot.secret });
  });
  lc.on("POST", "/configuration/action/issue_bot_token", (call) => {
    const bot = state.bots.get(body(call).bot_id);
    if (!bot || bot.secret !== body(call).bot_secret) return livechatError(401, "authentication", "Invalid bot secret");
    state.tokensIssued++;
    return Response.json({ token: `bot-jwt-${bot.id}-${state.tokensIssued}` });
  });
  lc.on("POST", "/agent/action/set_routing_status", (call) => {
    state.routing.set(body(call).agent_id, body(call).status);
    return Response.json({});
  });
  lc.on("POST", "/agent/action/list_routing_statuses", () =>
    Response.json([...state.routing].map(([agent_id, status]) => ({ agent_id, status }))),
  );
  lc.on("POST", "/configuration/action/get_license_webhooks_state", () =>
    Response.json({ license_webhooks_enabled: state.webhooksEnabled }),
  );
  lc.on("POST", "/configuration/action/enable_license_webhooks", () => {
    state.webhooksEnabled = true;
    return Response.json({});
  });
  lc.on("DELETE", "/v2/token", Response.json({}));
  return state;
}
