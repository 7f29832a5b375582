import { HttpClient } from "../../src/livechat/http";
import type { Webhook } from "../../src/livechat/schemas/configuration";
import { isChatScoped, webhookActionsV35, webhookActionsV36, type WebhookAction } from "../../src/livechat/webhooks";
import type { Logger } from "../../src/log";
import { livechatError, mockLiveChat, type RecordedCall } from "../helpers/livechat-mock";

export const API_URL = "https://api.livechat.test";

/** Allowed filters per action as docs/LIVECHAT.md §2.2 tabulates them. */
export function allowedFilters(action: WebhookAction): string[] {
  if (action === "routing_status_set") return ["agent_ids", "source_type"];
  if (action === "customer_session_fields_updated" || action === "incoming_customer") return ["chat_presence", "source_type"];
  if (action === "incoming_event" || action === "event_updated") return ["chat_presence", "author_type", "only_my_chats", "source_type"];
  if (isChatScoped(action)) return ["chat_presence", "only_my_chats", "source_type"];
  return ["source_type"];
}

/** A `list_webhook_names` answer for a version, in the documented shape (CP sample). */
export function webhookNames(version: string) {
  const actions = version === "3.5" ? webhookActionsV35 : webhookActionsV36;
  return actions.map((action) => ({
    action,
    filters: allowedFilters(action),
    ...(action === "agent_deleted" ? {} : { additional_data: ["chat_properties", "chat_presence_user_ids"] }),
  }));
}

/** An HttpClient that never sleeps and logs nowhere. */
export function quietHttp(): HttpClient {
  const logger: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => logger };
  return new HttpClient({ sleep: async () => {}, random: () => 0, logger, maxAttempts: 2 });
}

/**
 * A stateful Configuration API at the fetch boundary: `list_webhooks` answers what was
 * registered (without `secret_key`, as LiveChat does), `register_webhook` enforces the 3-per-action
 * limit, `unregister_webhook` answers `not_found` for unknown ids. `ops` logs mutating calls in order.
 */
export function fakeConfiguration(initial: Webhook[] = [], options: { version?: string } = {}) {
  const lc = mockLiveChat();
  const hooks: (Webhook & { secret_key?: string })[] = initial.map((w) => ({ ...w }));
  const ops: string[] = [];
  let next = 1;
  lc.on("POST", "/configuration/action/list_webhook_names", () => Response.json(webhookNames(options.version ?? "3.6")));
  lc.on("POST", "/configuration/action/list_webhooks", (call: RecordedCall) => {
    const owner = (call.body as { owner_client_id: string }).owner_client_id;
    return Response.json(
      hooks.filter((h) => h.owner_client_id === owner).map(({ secret_key: _secret, ...listed }) => listed),
    );
  });
  lc.on("POST", "/configuration/action/register_webhook", (call: RecordedCall) => {
    const body = call.body as Record<string, any>;
    if (hooks.filter((h) => h.action === body.action && h.owner_client_id === body.owner_client_id).length >= 3) {
      return livechatError(422, "limit_reached", "Webhooks limit reached");
    }
    const id = `wh-${next++}`;
    hooks.push({
      id,
      url: body.url,
      description: body.description ?? "",
      action: body.action,
      filters: body.filters ?? {},
      owner_client_id: body.owner_client_id,
      type: body.type,
      ...(body.additional_data?.length ? { additional_data: body.additional_data } : {}),
      secret_key: body.secret_key,
    });
    ops.push(`register ${body.type} ${body.action} ${id}`);
    return Response.json({ id });
  });
  lc.on("POST", "/configuration/action/unregister_webhook", (call: RecordedCall) => {
    const { id } = call.body as { id: string };
    const index = hooks.findIndex((h) => h.id === id);
    if (index < 0) return livechatError(404, "not_found", "Webhook not found");
    hooks.splice(index, 1);
    ops.push(`unregister ${id}`);
    return new Response("{}", { status: 200 });
  });
  return { lc, hooks, ops };
}
