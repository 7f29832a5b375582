// The simulated LiveChat world: chats, threads, events, users, tags, properties, routing.
// Every change that LiveChat reports as a webhook goes through here and is emitted once, so
// the Agent Chat API (requests of the app) and the control API (the customer and the human
// agent) produce the same webhooks. Permission checks of the Web API live in
// agent-chat.mjs; this module only changes state and reports it.
import { ApiError } from "./errors.mjs";
import { chatId as newChatId, clone, nowMicros, uuid } from "./util.mjs";
import { presentIds } from "./webhooks.mjs";

/** @typedef {import("./state.mjs").Store} Store */
/** @typedef {import("./state.mjs").License} License */
/** @typedef {import("./state.mjs").Chat} Chat */
/** @typedef {import("./state.mjs").Thread} Thread */
/** @typedef {import("./state.mjs").ChatUser} ChatUser */
/** @typedef {import("./webhooks.mjs").WebhookDispatcher} WebhookDispatcher */

/**
 * Who does something. `clientId` is the OAuth client the action came through: it decides the
 * `source_type` filter (null = the system).
 * @typedef {object} Actor
 * @property {"agent" | "bot" | "customer" | "system"} kind
 * @property {string} id
 * @property {string | null} clientId
 */

/** Client ids of LiveChat's own front ends, the sources of what customers and agents do by hand. */
export const WIDGET_CLIENT_ID = "livechat-widget-sim";
export const AGENT_APP_CLIENT_ID = "livechat-agent-app-sim";

/** The system (router, rating system messages): `source_type: system`. */
export const SYSTEM = /** @type {Actor} */ ({ kind: "system", id: "", clientId: null });

const PRIORITY_TIER = { first: 0, normal: 1, last: 2 };

export class World {
  /**
   * @param {{ store: Store, dispatcher: WebhookDispatcher }} deps
   */
  constructor({ store, dispatcher }) {
    this.store = store;
    this.dispatcher = dispatcher;
  }

  // ---------------------------------------------------------------- lookups & serialisation

  /**
   * The agent-side kind of a user id on a license: "agent" (human), "bot", "customer" or undefined.
   * @param {License} license
   * @param {string} id
   */
  kindOf(license, id) {
    if (license.owner.id === id) return "agent";
    if (license.bots[id]) return "bot";
    if (license.customers[id]) return "customer";
    return undefined;
  }

  /**
   * Display name of any user id (for transcripts).
   * @param {License} license
   * @param {string} id
   */
  nameOf(license, id) {
    if (license.owner.id === id) return license.owner.name;
    return license.bots[id]?.name ?? license.customers[id]?.name ?? id;
  }

  /**
   * A chat user as the Agent Chat API shows it (test/fixtures/livechat/user.v3.6.agent.json, user.v3.6.customer.json).
   * @param {License} license
   * @param {Chat} chat
   * @param {ChatUser} member
   */
  userObject(license, chat, member) {
    const seen = member.events_seen_up_to ? { events_seen_up_to: member.events_seen_up_to } : {};
    if (member.type === "customer") {
      const c = license.customers[member.id];
      return {
        id: c.id,
        type: "customer",
        name: c.name,
        ...(c.email ? { email: c.email } : {}),
        present: member.present,
        ...seen,
        created_at: c.created_at,
        visit: {
          started_at: chat.created_at,
          ip: "127.0.0.1",
          user_agent: "livechat-sim",
          geolocation: { country: "Poland", country_code: "PL", city: "Wroclaw", timezone: "Europe/Warsaw" },
        },
        statistics: { chats_count: Object.values(license.chats).filter((x) => x.users.some((u) => u.id === c.id)).length },
      };
    }
    const bot = license.bots[member.id];
    if (bot) {
      return { id: bot.id, name: bot.name, type: "agent", present: member.present, avatar: bot.avatar, visibility: member.visibility, ...seen };
    }
    if (member.id !== license.owner.id) {
      // A deleted bot that was in the chat: only what the chat itself remembers.
      return { id: member.id, type: "agent", present: member.present, visibility: member.visibility, ...seen };
    }
    const a = license.owner;
    return { id: a.id, name: a.name, email: a.email, type: "agent", present: member.present, avatar: a.avatar, visibility: member.visibility, ...seen };
  }

  /**
   * A thread as the API shows it (test/fixtures/livechat/structure.v3.6.thread.json).
   * @param {Thread} thread
   */
  threadObject(thread) {
    const { event_seq: _seq, ...rest } = thread;
    return clone(rest);
  }

  /**
   * A chat with one thread (get_chat, incoming_chat).
   * @param {License} license
   * @param {Chat} chat
   * @param {Thread} [thread] defaults to the latest
   */
  chatObject(license, chat, thread = latestThread(chat)) {
    return {
      id: chat.id,
      ...(thread ? { thread: this.threadObject(thread) } : {}),
      users: chat.users.map((u) => this.userObject(license, chat, u)),
      properties: clone(chat.properties),
      access: clone(chat.access),
      is_followed: false,
    };
  }

  /**
   * A chat summary (list_chats; test/fixtures/livechat/structure.v3.6.chat_summary.json).
   * @param {License} license
   * @param {Chat} chat
   */
  chatSummary(license, chat) {
    const last = latestThread(chat);
    /** @type {Record<string, { thread_id: string, thread_created_at: string, event: object }>} */
    const lastPerType = {};
    for (const thread of chat.threads) {
      for (const event of thread.events) {
        lastPerType[event.type] = { thread_id: thread.id, thread_created_at: thread.created_at, event: clone(event) };
      }
    }
    return {
      id: chat.id,
      last_event_per_type: lastPerType,
      users: chat.users.map((u) => this.userObject(license, chat, u)),
      ...(last
        ? {
            last_thread_summary: {
              id: last.id,
              created_at: last.created_at,
              user_ids: [...last.user_ids],
              properties: clone(last.properties),
              active: last.active,
              access: clone(last.access),
              tags: [...last.tags],
            },
          }
        : {}),
      properties: clone(chat.properties),
      access: clone(chat.access),
      is_followed: false,
    };
  }

  // ---------------------------------------------------------------- routing

  /**
   * Number of active chats a user is present in.
   * @param {License} license
   * @param {string} userId
   */
  activeChatsOf(license, userId) {
    return Object.values(license.chats).filter((c) => latestThread(c)?.active && c.users.some((u) => u.id === userId && u.present)).length;
  }

  /**
   * The agent or bot the router would assign now: accepting chats, free slot, by group priority
   * (first > normal > last; supervisor never), humans before bots on equal priority, then the
   * least busy. A simplified LiveChat router (C36 "Create Bot" priorities).
   * @param {License} license
   * @param {string[]} [exclude]
   * @returns {string | undefined}
   */
  pickAssignee(license, exclude = []) {
    const candidates = [{ id: license.owner.id, tier: PRIORITY_TIER.normal, bot: 0, max: license.owner.max_chats_count }];
    for (const bot of Object.values(license.bots)) {
      const priority = bot.groups.find((g) => g.id === 0)?.priority;
      if (priority === undefined || !(priority in PRIORITY_TIER)) continue;
      candidates.push({ id: bot.id, tier: PRIORITY_TIER[priority], bot: 1, max: bot.max_chats_count });
    }
    const available = candidates
      .filter((c) => !exclude.includes(c.id) && license.routing[c.id] === "accepting_chats")
      .map((c) => ({ ...c, load: this.activeChatsOf(license, c.id) }))
      .filter((c) => c.load < c.max)
      .sort((a, b) => a.tier - b.tier || a.bot - b.bot || a.load - b.load);
    return available[0]?.id;
  }

  // ---------------------------------------------------------------- chats & threads

  /**
   * A customer on the license (new unless `customerId` names an existing one).
   * @param {License} license
   * @param {{ name: string, email?: string, customerId?: string }} input
   */
  customer(license, { name, email, customerId }) {
    if (customerId && license.customers[customerId]) return license.customers[customerId];
    const customer = { id: customerId ?? uuid(), name, ...(email ? { email } : {}), created_at: nowMicros() };
    license.customers[customer.id] = customer;
    return customer;
  }

  /**
   * A customer starts a chat from the widget (Customer Chat API `start_chat`): a new chat with one
   * active thread, routed to an agent or bot unless `route` is false; `incoming_chat` carries the
   * initial message in `thread.events` (docs/LIVECHAT.md §2.3) unless `firstMessageAsEvent` sends it
   * afterwards as `incoming_event`.
   * @param {License} license
   * @param {{ customerName: string, customerEmail?: string, customerId?: string, text?: string,
   *   route?: boolean, firstMessageAsEvent?: boolean }} input
   */
  startChat(license, input) {
    const customer = this.customer(license, { name: input.customerName, email: input.customerEmail, customerId: input.customerId });
    /** @type {Chat} */
    const chat = {
      id: newChatId(),
      license: license.name,
      created_at: nowMicros(),
      properties: { source: { client_id: WIDGET_CLIENT_ID } },
      access: { group_ids: [0] },
      users: [{ id: customer.id, type: "customer", visibility: "all", present: true }],
      threads: [],
    };
    license.chats[chat.id] = chat;
    const actor = { kind: /** @type {const} */ ("customer"), id: customer.id, clientId: WIDGET_CLIENT_ID };
    const thread = this.openThread(license, chat, input, actor);
    return { chat, thread, customer };
  }

  /**
   * The customer writes into a chat whose thread is closed: a new thread starts (Customer Chat
   * API `resume_chat`), routed again, reported as `incoming_chat`.
   * @param {License} license
   * @param {Chat} chat
   * @param {{ text?: string, route?: boolean, firstMessageAsEvent?: boolean }} input
   */
  resumeChat(license, chat, input) {
    const customer = chat.users.find((u) => u.type === "customer");
    const actor = { kind: /** @type {const} */ ("customer"), id: customer?.id ?? "", clientId: WIDGET_CLIENT_ID };
    return this.openThread(license, chat, input, actor);
  }

  /**
   * @param {License} license
   * @param {Chat} chat
   * @param {{ text?: string, route?: boolean, firstMessageAsEvent?: boolean }} input
   * @param {Actor} actor the customer
   */
  openThread(license, chat, input, actor) {
    const previous = latestThread(chat);
    /** @type {Thread} */
    const thread = {
      id: newChatId(),
      created_at: nowMicros(),
      active: true,
      user_ids: chat.users.filter((u) => u.present).map((u) => u.id),
      events: [],
      properties: {},
      tags: [],
      access: { group_ids: [0] },
      event_seq: 0,
    };
    if (previous) {
      previous.next_thread_id = thread.id;
      thread.previous_thread_id = previous.id;
    }
    chat.threads.push(thread);
    const assignee = input.route === false ? undefined : this.pickAssignee(license);
    if (assignee) this.join(chat, thread, assignee, "all");
    else thread.queue = { position: 1, wait_time: 0, queued_at: thread.created_at };
    const initial = input.text && !input.firstMessageAsEvent;
    if (initial) this.storeEvent(thread, actor, { type: "message", text: input.text, visibility: "all" });
    this.dispatcher.emit(license, "incoming_chat", { chat: this.chatObject(license, chat, thread) }, { source: actor.clientId, chat });
    if (input.text && !initial) this.sendEvent(license, chat, actor, { type: "message", text: input.text, visibility: "all" });
    return thread;
  }

  /**
   * Make a user present in the chat and its active thread.
   * @param {Chat} chat
   * @param {Thread} thread
   * @param {string} userId
   * @param {"all" | "agents"} visibility
   * @param {"agent" | "customer"} [type]
   */
  join(chat, thread, userId, visibility, type = "agent") {
    let member = chat.users.find((u) => u.id === userId);
    if (!member) chat.users.push((member = { id: userId, type, visibility, present: true }));
    member.present = true;
    member.visibility = visibility;
    if (!thread.user_ids.includes(userId)) thread.user_ids.push(userId);
    delete thread.queue;
  }

  /**
   * `add_user_to_chat`: the user joins, `user_added_to_chat` is sent.
   * @param {License} license
   * @param {Chat} chat
   * @param {{ userId: string, userType: "agent" | "customer", visibility: "all" | "agents", reason?: string }} input
   * @param {Actor} actor
   */
  addUser(license, chat, input, actor) {
    const thread = /** @type {Thread} */ (latestThread(chat));
    this.join(chat, thread, input.userId, input.visibility, input.userType);
    const member = /** @type {ChatUser} */ (chat.users.find((u) => u.id === input.userId));
    this.dispatcher.emit(
      license,
      "user_added_to_chat",
      {
        chat_id: chat.id,
        thread_id: thread.id,
        user: this.userObject(license, chat, member),
        user_type: input.userType,
        reason: input.reason ?? "manual",
        requester_id: actor.id,
      },
      { source: actor.clientId, chat },
    );
  }

  /**
   * `remove_user_from_chat`: the user leaves, `user_removed_from_chat` is sent.
   * @param {License} license
   * @param {Chat} chat
   * @param {{ userId: string, userType: "agent" | "customer", reason?: string }} input
   * @param {Actor} actor
   */
  removeUser(license, chat, input, actor) {
    const before = presentIds(chat);
    const member = chat.users.find((u) => u.id === input.userId);
    if (member) member.present = false;
    const thread = latestThread(chat);
    this.dispatcher.emit(
      license,
      "user_removed_from_chat",
      {
        chat_id: chat.id,
        thread_id: thread?.id,
        user_id: input.userId,
        user_type: input.userType,
        reason: input.reason ?? "manual",
        requester_id: actor.id,
      },
      { source: actor.clientId, chat, presentBefore: before },
    );
  }

  /**
   * Store an event in a thread (no webhook).
   * @param {Thread} thread
   * @param {Actor} actor
   * @param {Record<string, any>} input  validated event fields (type, text, visibility, ...)
   */
  storeEvent(thread, actor, input) {
    const { type, visibility = "all", custom_id, properties, ...fields } = input;
    const event = {
      id: `${thread.id}_${++thread.event_seq}`,
      ...(custom_id !== undefined ? { custom_id } : {}),
      created_at: nowMicros(),
      visibility,
      type,
      ...fields,
      ...(type === "system_message" ? {} : { author_id: actor.id }),
      ...(properties !== undefined ? { properties } : {}),
    };
    thread.events.push(event);
    return event;
  }

  /**
   * `send_event` (or a message typed in the widget / agent app): store it in the active thread
   * (or the last one for `attach_to_last_thread` system messages) and send `incoming_event`.
   * @param {License} license
   * @param {Chat} chat
   * @param {Actor} actor
   * @param {Record<string, any>} input
   * @param {Thread} [thread]
   */
  sendEvent(license, chat, actor, input, thread = latestThread(chat)) {
    const t = /** @type {Thread} */ (thread);
    const event = this.storeEvent(t, actor, input);
    const member = chat.users.find((u) => u.id === actor.id);
    if (member) member.events_seen_up_to = event.created_at;
    const authorType = actor.kind === "customer" ? "customer" : actor.kind === "system" ? undefined : "agent";
    this.dispatcher.emit(license, "incoming_event", { chat_id: chat.id, thread_id: t.id, event: clone(event) }, {
      source: actor.clientId,
      chat,
      authorType,
    });
    return event;
  }

  /**
   * Close the active thread (`deactivate_chat`): agents leave, `chat_deactivated` is sent.
   * @param {License} license
   * @param {Chat} chat
   * @param {Actor} actor
   */
  deactivate(license, chat, actor) {
    const thread = /** @type {Thread} */ (latestThread(chat));
    const before = presentIds(chat);
    thread.active = false;
    delete thread.queue;
    for (const u of chat.users) if (u.type === "agent") u.present = false;
    this.dispatcher.emit(
      license,
      "chat_deactivated",
      { chat_id: chat.id, thread_id: thread.id, ...(actor.kind === "system" ? {} : { user_id: actor.id }) },
      { source: actor.clientId, chat, presentBefore: before },
    );
  }

  /**
   * `transfer_chat` to agents (or back to the router for a group): current agents leave, the
   * target joins; `chat_transferred`, `user_removed_from_chat` and `user_added_to_chat` are sent.
   * @param {License} license
   * @param {Chat} chat
   * @param {{ agentIds?: string[], groupIds?: number[], assignee?: string }} target
   * @param {Actor} actor
   */
  transfer(license, chat, target, actor) {
    const thread = /** @type {Thread} */ (latestThread(chat));
    const leaving = chat.users.filter((u) => u.type === "agent" && u.present && u.id !== target.assignee);
    this.dispatcher.emit(
      license,
      "chat_transferred",
      {
        chat_id: chat.id,
        thread_id: thread.id,
        requester_id: actor.id,
        reason: "manual",
        transferred_to: target.agentIds ? { agent_ids: [...target.agentIds] } : { group_ids: [...(target.groupIds ?? [0])] },
      },
      { source: actor.clientId, chat },
    );
    for (const u of leaving) this.removeUser(license, chat, { userId: u.id, userType: "agent", reason: "chat_transferred" }, actor);
    if (target.assignee && !chat.users.some((u) => u.id === target.assignee && u.present)) {
      this.addUser(license, chat, { userId: target.assignee, userType: "agent", visibility: "all", reason: "chat_transferred" }, actor);
    } else if (!target.assignee) {
      thread.queue = { position: 1, wait_time: 0, queued_at: nowMicros() };
    }
  }

  /**
   * @param {License} license
   * @param {Chat} chat
   * @param {Thread} thread
   * @param {string} tag
   * @param {boolean} add
   * @param {Actor} actor
   * @returns {boolean} whether anything changed (no webhook otherwise)
   */
  tag(license, chat, thread, tag, add, actor) {
    const has = thread.tags.includes(tag);
    if (has === add) return false;
    thread.tags = add ? [...thread.tags, tag] : thread.tags.filter((t) => t !== tag);
    this.dispatcher.emit(license, add ? "thread_tagged" : "thread_untagged", { chat_id: chat.id, thread_id: thread.id, tag }, {
      source: actor.clientId,
      chat,
    });
    return true;
  }

  /**
   * Update (merge) or delete properties of a thread, or of the chat when `thread` is null.
   * `*_properties_updated` carries the changed values, `*_properties_deleted` the names.
   * @param {License} license
   * @param {Chat} chat
   * @param {Thread | null} thread
   * @param {Record<string, Record<string, unknown>> | Record<string, string[]>} properties
   * @param {"update" | "delete"} op
   * @param {Actor} actor
   */
  properties(license, chat, thread, properties, op, actor) {
    const target = thread ? thread.properties : chat.properties;
    for (const [ns, values] of Object.entries(properties)) {
      if (op === "update") target[ns] = { ...(target[ns] ?? {}), ...clone(/** @type {Record<string, unknown>} */ (values)) };
      else {
        for (const name of /** @type {string[]} */ (values)) if (target[ns]) delete target[ns][name];
        if (target[ns] && Object.keys(target[ns]).length === 0) delete target[ns];
      }
    }
    const action = `${thread ? "thread" : "chat"}_properties_${op === "update" ? "updated" : "deleted"}`;
    this.dispatcher.emit(
      license,
      action,
      { chat_id: chat.id, ...(thread ? { thread_id: thread.id } : {}), properties: clone(properties) },
      { source: actor.clientId, chat },
    );
  }

  /**
   * A customer rates the chat (Customer SDK `rateChat`): thread properties `rating.score`
   * (1 good, 0 bad) and `rating.comment` on the latest thread, then LiveChat's system messages
   * `rating.chat_rated` (and `rating.chat_commented`) (docs/LIVECHAT.md §5).
   * @param {License} license
   * @param {Chat} chat
   * @param {{ score: 0 | 1, comment?: string }} rating
   */
  rate(license, chat, rating) {
    const thread = /** @type {Thread} */ (latestThread(chat));
    const customerId = chat.users.find((u) => u.type === "customer")?.id ?? "";
    const actor = { kind: /** @type {const} */ ("customer"), id: customerId, clientId: WIDGET_CLIENT_ID };
    const values = { score: rating.score, ...(rating.comment !== undefined ? { comment: rating.comment } : {}) };
    this.properties(license, chat, thread, { rating: values }, "update", actor);
    const customer = this.nameOf(license, customerId);
    const score = rating.score === 1 ? "good" : "bad";
    this.systemMessage(license, chat, thread, "rating.chat_rated", `${customer} rated the chat as ${score}`, { customer, score });
    if (rating.comment !== undefined) {
      this.systemMessage(license, chat, thread, "rating.chat_commented", `${customer} left the following comment: ${rating.comment}`, {
        customer,
        comment: rating.comment,
      });
    }
  }

  /**
   * The customer cancels the rating (Customer SDK `cancelRate`): `thread_properties_deleted` with
   * `rating: ["score","comment"]` and the `rating.chat_rating_canceled` system message.
   * @param {License} license
   * @param {Chat} chat
   */
  unrate(license, chat) {
    const thread = /** @type {Thread} */ (latestThread(chat));
    const customerId = chat.users.find((u) => u.type === "customer")?.id ?? "";
    const actor = { kind: /** @type {const} */ ("customer"), id: customerId, clientId: WIDGET_CLIENT_ID };
    this.properties(license, chat, thread, { rating: ["score", "comment"] }, "delete", actor);
    const customer = this.nameOf(license, customerId);
    this.systemMessage(license, chat, thread, "rating.chat_rating_canceled", `${customer} canceled the rating`, { customer });
  }

  /**
   * A system message from LiveChat itself (`incoming_event`, `source_type: system`, no author).
   * @param {License} license
   * @param {Chat} chat
   * @param {Thread} thread
   * @param {string} type
   * @param {string} text
   * @param {Record<string, string>} textVars
   */
  systemMessage(license, chat, thread, type, text, textVars) {
    return this.sendEvent(
      license,
      chat,
      SYSTEM,
      { type: "system_message", visibility: "all", text, system_message_type: type, text_vars: textVars },
      thread,
    );
  }

  /**
   * Create a tag (C36 "Tags") and send `tag_created`.
   * @param {License} license
   * @param {{ name: string, groupIds: number[] }} input
   * @param {Actor} actor
   * @param {{ user_id: string, account_id: string, client_id: string | null }} requester
   */
  createTag(license, { name, groupIds }, actor, requester) {
    if (license.tags.some((t) => t.name === name)) throw new ApiError("already_exists", "Tag already exists");
    const tag = { name, group_ids: [...groupIds], author_id: actor.id, created_at: nowMicros() };
    license.tags.push(tag);
    this.dispatcher.emit(license, "tag_created", clone(tag), { source: actor.clientId, requester });
    return tag;
  }

  /**
   * Set a routing status and send `routing_status_set` with the spaced spelling the webhook docs
   * use ("accepting chats", docs/LIVECHAT.md §2.3).
   * @param {License} license
   * @param {string} agentId
   * @param {import("./state.mjs").RoutingStatus} status
   * @param {Actor} actor
   */
  setRoutingStatus(license, agentId, status, actor) {
    license.routing[agentId] = status;
    this.dispatcher.emit(license, "routing_status_set", { agent_id: agentId, status: status.replace(/_/g, " ") }, {
      source: actor.clientId,
      agentId,
    });
  }
}

/**
 * The latest thread of a chat (undefined for a chat without threads).
 * @param {Chat} chat
 */
export function latestThread(chat) {
  return chat.threads[chat.threads.length - 1];
}
