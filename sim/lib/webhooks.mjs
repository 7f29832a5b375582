// Deciding who gets a webhook when something happens, and building the envelope.
//
// A registration receives an action on a license when (docs/LIVECHAT.md §1.5, §2.2):
//  - its owner client has the app installed on the license;
//  - type "license": license webhooks are not disabled for that client on the license;
//    type "bot": the client owns a bot on the license whose routing status is not offline (BLOG-BOT);
//  - its filters match (author_type, only_my_chats, chat_presence, source_type, agent_ids).
// Envelope: {webhook_id, secret_key, action, organization_id, payload, [requester], additional_data} (§1.2).
// A registration of an installed client that would match but is not live (its bot offline or
// missing, license webhooks disabled) is logged as "withheld" with the reason (`webhooks log`).
import { CONFIGURATION_ACTIONS } from "./webhook-catalog.mjs";
import { clone, nowWithOffset } from "./util.mjs";

/** @typedef {import("./state.mjs").Store} Store */
/** @typedef {import("./state.mjs").License} License */
/** @typedef {import("./state.mjs").Chat} Chat */
/** @typedef {import("./state.mjs").WebhookRegistration} WebhookRegistration */
/** @typedef {import("./delivery.mjs").Deliverer} Deliverer */

/**
 * What the dispatcher needs to know about a happening besides its payload.
 * @typedef {object} EmitContext
 * @property {string | null} source      client id that caused it, null for the system (source_type filter)
 * @property {Chat} [chat]               for chat-scoped actions
 * @property {string[]} [presentBefore]  users present before the change (so removals still match presence filters)
 * @property {"agent" | "customer"} [authorType]  incoming_event / event_updated
 * @property {string} [agentId]          routing_status_set (agent_ids filter)
 * @property {{ user_id: string, account_id: string, client_id: string | null }} [requester]  configuration actions
 */

/**
 * Ids of users currently present in a chat.
 * @param {Chat} chat
 */
export function presentIds(chat) {
  return chat.users.filter((u) => u.present).map((u) => u.id);
}

export class WebhookDispatcher {
  /**
   * @param {{ store: Store, deliverer: Deliverer }} deps
   */
  constructor({ store, deliverer }) {
    this.store = store;
    this.deliverer = deliverer;
  }

  /**
   * Queue the webhook `action` for every registration that should receive it.
   * @param {License} license
   * @param {string} action
   * @param {object | object[]} payload
   * @param {EmitContext} ctx
   * @returns {number} deliveries queued
   */
  emit(license, action, payload, ctx) {
    const presence = ctx.chat ? [...new Set([...(ctx.presentBefore ?? []), ...presentIds(ctx.chat)])] : [];
    let queued = 0;
    for (const reg of Object.values(this.store.state.webhooks)) {
      if (reg.action !== action || !license.installs[reg.owner_client_id]?.installed) continue;
      if (!this.filtersMatch(reg, license, ctx, presence)) continue;
      const delivery = {
        kind: "webhook",
        key: `${license.organization_id}:${ctx.chat?.id ?? "-"}:${reg.url}`,
        url: reg.url,
        action,
        webhook_id: reg.id,
        webhook_type: reg.type,
        license: license.name,
        organization_id: license.organization_id,
        chat_id: ctx.chat?.id,
      };
      const withheld = this.withheldBecause(reg, license);
      if (withheld) {
        this.deliverer.withhold({ ...delivery, body: {} }, withheld);
        continue;
      }
      const body = {
        webhook_id: reg.id,
        secret_key: reg.secret_key,
        action,
        organization_id: license.organization_id,
        payload: reg.version === "3.5" ? toV35(clone(payload)) : clone(payload),
        ...(ctx.requester && CONFIGURATION_ACTIONS.has(action) && reg.version !== "3.5" ? { requester: ctx.requester } : {}),
        additional_data: this.additionalData(reg, ctx.chat, presence),
      };
      this.deliverer.enqueue({ ...delivery, body });
      queued++;
    }
    return queued;
  }

  /**
   * Whether a registration is live on a license (install, license state, bot status).
   * @param {WebhookRegistration} reg
   * @param {License} license
   */
  active(reg, license) {
    return Boolean(license.installs[reg.owner_client_id]?.installed) && !this.withheldBecause(reg, license);
  }

  /**
   * Why an installed client's registration gets nothing on a license, or undefined when it is
   * live: license webhooks disabled (type license), or no bot of the client that is not offline
   * (type bot: delivered while a bot is accepting or not accepting chats, BLOG-BOT).
   * @param {WebhookRegistration} reg
   * @param {License} license
   * @returns {string | undefined}
   */
  withheldBecause(reg, license) {
    if (reg.type === "license") return license.webhooks_disabled[reg.owner_client_id] ? "license webhooks disabled" : undefined;
    const bots = Object.values(license.bots).filter((bot) => bot.owner_client_id === reg.owner_client_id);
    if (bots.length === 0) return "bot webhook: the client has no bot on the license";
    if (bots.every((bot) => (license.routing[bot.id] ?? "offline") === "offline")) {
      return `bot webhook: the client's bot${bots.length > 1 ? "s are" : " is"} offline (${bots.map((b) => b.id).join(", ")})`;
    }
    return undefined;
  }

  /**
   * @param {WebhookRegistration} reg
   * @param {License} license
   * @param {EmitContext} ctx
   * @param {string[]} presence
   */
  filtersMatch(reg, license, ctx, presence) {
    const f = reg.filters ?? {};
    if (f.author_type && ctx.authorType !== f.author_type) return false;
    if (f.only_my_chats && ctx.chat?.properties?.source?.client_id !== reg.owner_client_id) return false;
    if (f.source_type) {
      const kind = ctx.source === null ? "system" : ctx.source === reg.owner_client_id ? "my_client" : "other_clients";
      if (!f.source_type.includes(kind)) return false;
    }
    if (f.agent_ids && !f.agent_ids.includes(ctx.agentId)) return false;
    const cp = f.chat_presence;
    if (cp) {
      const exclude = cp.user_ids?.exclude_values;
      if (exclude && exclude.some((id) => presence.includes(id))) return false;
      const wanted = cp.user_ids?.values;
      const positive = [];
      if (wanted) positive.push(wanted.some((id) => presence.includes(id)));
      if (cp.my_bots) {
        positive.push(presence.some((id) => license.bots[id]?.owner_client_id === reg.owner_client_id));
      }
      if (positive.length && !positive.some(Boolean)) return false;
    }
    return true;
  }

  /**
   * @param {WebhookRegistration} reg
   * @param {Chat | undefined} chat
   * @param {string[]} presence
   */
  additionalData(reg, chat, presence) {
    /** @type {Record<string, unknown>} */
    const data = {};
    if (!chat) return data;
    if (reg.additional_data.includes("chat_properties")) data.chat_properties = clone(chat.properties);
    if (reg.additional_data.includes("chat_presence_user_ids")) data.chat_presence_user_ids = [...presence];
    return data;
  }

  /**
   * Send an App Webhook (`application_installed`, `application_uninstalled`) to the app's URL
   * (docs/LIVECHAT.md §7 / APPWH). Same delivery and retry policy as chat webhooks.
   * @param {import("./state.mjs").App} app
   * @param {License} license
   * @param {"application_installed" | "application_uninstalled"} event
   */
  appWebhook(app, license, event) {
    if (!app.app_webhook_url) return undefined;
    const body = {
      applicationID: app.application_id,
      applicationName: app.name,
      clientID: app.client_id,
      date: nowWithOffset(),
      event,
      licenseID: license.license_id,
      organizationID: license.organization_id,
      payload: { applicationID: app.application_id },
      userID: license.owner.account_id,
    };
    return this.deliverer.enqueue({
      kind: "app",
      key: `app:${app.client_id}:${app.app_webhook_url}`,
      url: app.app_webhook_url,
      action: event,
      license: license.name,
      organization_id: license.organization_id,
      body,
    });
  }
}

/**
 * v3.5 shapes of the few fields that differ: customers' `visit` was `last_visit` (ACL v3.6).
 * @param {any} value
 */
function toV35(value) {
  if (Array.isArray(value)) return value.map(toV35);
  if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) value[k] = toV35(v);
    if (value.type === "customer" && "visit" in value) {
      value.last_visit = value.visit;
      delete value.visit;
    }
  }
  return value;
}
