// Agent Chat Web API v3.6 (and v3.5): `POST /v3.x/agent/action/<method>` (docs/LIVECHAT.md §4).
// Rules enforced as documented (A36/A35): the sender must be present in the chat; users with
// `visibility: agents` can't send `visibility: all`; add/remove/deactivate/transfer need the
// requester's presence unless `ignore_requester_presence`; actions needing an active thread
// answer `chat_inactive`; scopes per method table.
import { ApiError, forbidden, invalid, notFound } from "./errors.mjs";
import { needScope } from "./auth.mjs";
import { hasAnyScope } from "./scopes.mjs";
import { paginate, readPage } from "./pagination.mjs";
import { latestThread } from "./world.mjs";
import {
  oneOf,
  optionalBool,
  optionalObject,
  optionalString,
  propertiesToDelete,
  propertiesToSet,
  requireString,
} from "./validate.mjs";
import { isObject } from "./util.mjs";

/** @typedef {import("./auth.mjs").Requester} Requester */
/** @typedef {import("./state.mjs").Chat} Chat */
/** @typedef {import("./world.mjs").World} World */
/** @typedef {import("./world.mjs").Actor} Actor */

/**
 * @typedef {object} AgentContext
 * @property {World} world
 * @property {Requester} requester
 * @property {string} version
 */

const READ = ["chats--all:ro", "chats--access:ro"];
const WRITE = ["chats--all:rw", "chats--access:rw"];
const EVENT_TYPES = ["message", "system_message", "rich_message", "file", "custom", "filled_form"];
/** Message text limit: 16 KB raw (ADS "Message"). */
const MAX_TEXT_BYTES = 16 * 1024;
/** Namespaces agents may read but not write (PROPS: `rating` is customer rw / agent r; `source` is LiveChat's). */
const READ_ONLY_NAMESPACES = ["rating", "source"];

/**
 * @param {Requester} r
 * @returns {Actor}
 */
const actorOf = (r) => ({ kind: r.kind, id: r.id, clientId: r.clientId });

/**
 * Group ids the requester belongs to (the owner agent is in group 0; bots in their groups).
 * @param {Requester} r
 */
function groupsOf(r) {
  return r.kind === "bot" ? (r.license.bots[r.id]?.groups ?? []).map((g) => g.id) : [0];
}

/**
 * The chat, checked against the requester's scopes: `--all` sees every chat, `--access` the
 * chats of its groups.
 * @param {AgentContext} ctx
 * @param {string} chatId
 * @param {"ro" | "rw"} mode
 * @returns {Chat}
 */
function chatFor(ctx, chatId, mode) {
  const { requester } = ctx;
  needScope(requester, mode === "ro" ? READ : WRITE);
  const chat = requester.license.chats[chatId];
  if (!chat) throw notFound("Chat not found");
  if (!hasAnyScope(requester.scope, [`chats--all:${mode}`])) {
    const groups = groupsOf(requester);
    if (!chat.access.group_ids.some((g) => groups.includes(g))) throw forbidden("Requester has no access to the chat");
  }
  return chat;
}

/**
 * @param {Chat} chat
 * @param {string} userId
 */
const isPresent = (chat, userId) => chat.users.some((u) => u.id === userId && u.present);

/**
 * @param {Chat} chat
 * @param {Requester} requester
 * @param {Record<string, any>} body
 */
function requirePresence(chat, requester, body) {
  if (optionalBool(body, "ignore_requester_presence")) return;
  if (!isPresent(chat, requester.id)) throw forbidden("Requester is not user of the chat");
}

/** @param {Chat} chat */
function activeThread(chat) {
  const thread = latestThread(chat);
  if (!thread?.active) throw new ApiError("chat_inactive");
  return thread;
}

/**
 * @param {Chat} chat
 * @param {string} threadId
 */
function threadOf(chat, threadId) {
  const thread = chat.threads.find((t) => t.id === threadId);
  if (!thread) throw notFound("Thread not found");
  return thread;
}

/**
 * Validate an event to send and return the fields to store (ADS "Events").
 * @param {unknown} input
 * @returns {Record<string, any>}
 */
function eventInput(input) {
  if (!isObject(input)) throw invalid("`event` is required");
  const type = oneOf(input, "type", EVENT_TYPES, { required: true });
  const visibility = oneOf(input, "visibility", ["all", "agents"]) ?? "all";
  /** @type {Record<string, any>} */
  const out = { ...input, type, visibility };
  delete out.id;
  delete out.author_id;
  delete out.created_at;
  if (type === "message" || type === "system_message") {
    const text = requireString(input, "text");
    if (Buffer.byteLength(text) > MAX_TEXT_BYTES) throw invalid("`text` is too long (16 KB max)");
  }
  if (type === "system_message" && out.system_message_type === undefined) out.system_message_type = "custom";
  if (type === "rich_message") {
    requireString(input, "template_id");
    if (!Array.isArray(input.elements) || input.elements.length === 0) throw invalid("`elements` is required");
  }
  if (type === "file") requireString(input, "url");
  if (type === "custom" && input.content === undefined) throw invalid("`content` is required");
  if (type === "filled_form") {
    requireString(input, "form_id");
    if (!Array.isArray(input.fields)) throw invalid("`fields` is required");
  }
  if (input.properties !== undefined) propertiesToSet(input.properties);
  return out;
}

/**
 * Agents may not write LiveChat's own namespaces.
 * @param {Record<string, unknown>} properties
 */
function writableNamespaces(properties) {
  for (const ns of Object.keys(properties)) {
    if (READ_ONLY_NAMESPACES.includes(ns)) throw forbidden(`Property namespace \`${ns}\` is read-only for agents`);
  }
}

/** @type {Record<string, (ctx: AgentContext, body: Record<string, any>) => unknown>} */
export const agentMethods = {
  list_chats(ctx, body) {
    const { requester, world, version } = ctx;
    needScope(requester, READ);
    const page = readPage(body, { defaultLimit: 10, maxLimit: 100 });
    const f = page.filters;
    const all = hasAnyScope(requester.scope, ["chats--all:ro"]);
    const groups = groupsOf(requester);
    const activeFilter = version === "3.5" ? (f.include_active === false ? false : undefined) : f.active;
    const chats = Object.values(requester.license.chats)
      .filter((c) => all || c.access.group_ids.some((g) => groups.includes(g)))
      .filter((c) => (f.include_chats_without_threads === false ? c.threads.length > 0 : true))
      .filter((c) => (Array.isArray(f.group_ids) ? c.access.group_ids.some((g) => f.group_ids.includes(g)) : true))
      .filter((c) => {
        if (activeFilter === undefined) return true;
        return Boolean(latestThread(c)?.active) === activeFilter;
      })
      .sort((a, b) => {
        const at = latestThread(a)?.created_at ?? a.created_at;
        const bt = latestThread(b)?.created_at ?? b.created_at;
        return page.sort === "asc" ? at.localeCompare(bt) : bt.localeCompare(at);
      });
    const { slice, ...pages } = paginate(chats, page);
    return { chats_summary: slice.map((c) => world.chatSummary(requester.license, c)), found_chats: chats.length, ...pages };
  },

  get_chat(ctx, body) {
    const chat = chatFor(ctx, requireString(body, "chat_id"), "ro");
    const threadId = optionalString(body, "thread_id");
    const thread = threadId ? threadOf(chat, threadId) : latestThread(chat);
    return ctx.world.chatObject(ctx.requester.license, chat, thread);
  },

  list_threads(ctx, body) {
    const chat = chatFor(ctx, requireString(body, "chat_id"), "ro");
    const page = readPage(body, { defaultLimit: 3, maxLimit: 100 });
    const min = Number.isInteger(body.min_events_count) ? body.min_events_count : 0;
    const from = page.filters.from;
    const to = page.filters.to;
    const threads = chat.threads
      .filter((t) => t.events.length >= min)
      .filter((t) => (from ? t.created_at >= from : true) && (to ? t.created_at <= to : true))
      .sort((a, b) => (page.sort === "asc" ? a.created_at.localeCompare(b.created_at) : b.created_at.localeCompare(a.created_at)));
    const { slice, ...pages } = paginate(threads, page);
    return { threads: slice.map((t) => ctx.world.threadObject(t)), found_threads: threads.length, ...pages };
  },

  add_user_to_chat(ctx, body) {
    const { requester, world } = ctx;
    const chat = chatFor(ctx, requireString(body, "chat_id"), "rw");
    const userId = requireString(body, "user_id");
    const userType = /** @type {"agent" | "customer"} */ (oneOf(body, "user_type", ["agent", "customer"], { required: true }));
    const visibility = /** @type {"all" | "agents"} */ (oneOf(body, "visibility", ["all", "agents"], { required: true }));
    activeThread(chat);
    requirePresence(chat, requester, body);
    const license = requester.license;
    const kind = world.kindOf(license, userId);
    if (userType === "customer") {
      if (kind !== "customer") throw notFound("Customer not found");
      if (visibility !== "all") throw invalid("Customer must be added with `visibility: all`");
      if (chat.users.some((u) => u.type === "customer" && u.id !== userId)) throw invalid("Chat already has a customer");
    } else {
      if (kind !== "agent" && kind !== "bot") throw notFound("Agent not found");
      const bot = license.bots[userId];
      if (bot && !bot.groups.some((g) => chat.access.group_ids.includes(g.id))) throw forbidden("Agent has no access to the chat");
    }
    const member = chat.users.find((u) => u.id === userId);
    if (member?.present && member.visibility === visibility) return {};
    world.addUser(license, chat, { userId, userType, visibility }, actorOf(requester));
    return {};
  },

  remove_user_from_chat(ctx, body) {
    const { requester, world } = ctx;
    const chat = chatFor(ctx, requireString(body, "chat_id"), "rw");
    const userId = requireString(body, "user_id");
    const userType = /** @type {"agent" | "customer"} */ (oneOf(body, "user_type", ["agent", "customer"], { required: true }));
    if (userType === "customer") throw invalid("Customer can't be removed from the chat");
    requirePresence(chat, requester, body);
    if (!isPresent(chat, userId)) throw notFound("User is not present in the chat");
    world.removeUser(requester.license, chat, { userId, userType }, actorOf(requester));
    return {};
  },

  send_event(ctx, body) {
    const { requester, world } = ctx;
    const chat = chatFor(ctx, requireString(body, "chat_id"), "rw");
    const event = eventInput(body.event);
    const thread = latestThread(chat);
    // Inactive chats take only system messages, and only with `attach_to_last_thread` (A35 send_event).
    const attaching = !thread?.active;
    if (attaching && !(optionalBool(body, "attach_to_last_thread") && thread && event.type === "system_message")) {
      throw new ApiError("chat_inactive");
    }
    const member = chat.users.find((u) => u.id === requester.id && u.present);
    if (!member && !attaching) throw forbidden("Requester is not user of the chat");
    if (member?.visibility === "agents" && event.visibility === "all") {
      throw invalid("Users with `visibility: agents` can't send events with `visibility: all`");
    }
    const stored = world.sendEvent(requester.license, chat, actorOf(requester), event, thread);
    return { event_id: stored.id };
  },

  send_event_preview(ctx, body) {
    const { requester } = ctx;
    const chat = chatFor(ctx, requireString(body, "chat_id"), "rw");
    const event = eventInput(body.event);
    if (event.type !== "message") throw invalid("Only `message` events can be previewed");
    activeThread(chat);
    if (!isPresent(chat, requester.id)) throw forbidden("Requester is not user of the chat");
    return {};
  },

  deactivate_chat(ctx, body) {
    const { requester, world } = ctx;
    const chat = chatFor(ctx, requireString(body, "id"), "rw");
    activeThread(chat);
    requirePresence(chat, requester, body);
    world.deactivate(requester.license, chat, actorOf(requester));
    return {};
  },

  transfer_chat(ctx, body) {
    const { requester, world } = ctx;
    const license = requester.license;
    const chat = chatFor(ctx, requireString(body, "id"), "rw");
    activeThread(chat);
    requirePresence(chat, requester, body);
    const target = optionalObject(body, "target");
    const anyone = optionalBool(body, "ignore_agents_availability") ?? false;
    if (target && target.type === "agent") {
      const ids = target.ids;
      if (!Array.isArray(ids) || ids.length !== 1 || typeof ids[0] !== "string") throw invalid("`target.ids` must hold one agent id");
      const kind = world.kindOf(license, ids[0]);
      if (kind !== "agent" && kind !== "bot") throw notFound("Agent not found");
      if (!anyone && license.routing[ids[0]] !== "accepting_chats") throw invalid("Cannot assign any agent from requested groups");
      world.transfer(license, chat, { agentIds: ids, assignee: ids[0] }, actorOf(requester));
      return {};
    }
    const groupIds = target ? target.ids : [0];
    if (target && target.type !== "group") throw invalid("`target.type` must be `group` or `agent`");
    if (!Array.isArray(groupIds) || groupIds.some((g) => !Number.isInteger(g))) throw invalid("`target.ids` must hold group ids");
    if (groupIds.some((g) => g !== 0)) throw new ApiError("group_not_found", "Group not found");
    const present = chat.users.filter((u) => u.type === "agent" && u.present).map((u) => u.id);
    const assignee = world.pickAssignee(license, present);
    if (!assignee && !anyone) throw invalid("Cannot assign any agent from requested groups");
    world.transfer(license, chat, { groupIds, assignee }, actorOf(requester));
    return {};
  },

  tag_thread(ctx, body) {
    return tagging(ctx, body, true);
  },

  untag_thread(ctx, body) {
    return tagging(ctx, body, false);
  },

  update_thread_properties: propertiesMethod("thread", "update"),
  delete_thread_properties: propertiesMethod("thread", "delete"),
  update_chat_properties: propertiesMethod("chat", "update"),
  delete_chat_properties: propertiesMethod("chat", "delete"),

  set_routing_status(ctx, body) {
    const { requester, world } = ctx;
    const license = requester.license;
    const status = oneOf(body, "status", ["accepting_chats", "not_accepting_chats", "offline"], { required: true });
    const agentId = optionalString(body, "agent_id") ?? requester.id;
    const bot = license.bots[agentId];
    if (bot) {
      // Bots: own bots with agents-bot--my:rw (a bot token may set only itself), others with --all:rw.
      const own = requester.kind === "bot" ? requester.id === agentId : bot.owner_client_id === requester.clientId || (requester.via === "pat" && bot.created_via === "pat");
      if (requester.kind === "bot" && !own) throw forbidden("A bot can set only its own routing status");
      needScope(requester, own ? ["agents-bot--my:rw", "agents-bot--all:rw"] : ["agents-bot--all:rw"]);
    } else if (agentId === license.owner.id) {
      if (requester.kind === "bot") throw forbidden("A bot can set only its own routing status");
      if (status === "offline") throw invalid("`offline` is allowed for bots only");
      needScope(requester, ["agents--my:rw", "agents--all:rw"]);
    } else {
      throw notFound("Agent not found");
    }
    world.setRoutingStatus(license, agentId, /** @type {any} */ (status), actorOf(requester));
    return {};
  },

  list_routing_statuses(ctx) {
    const { requester } = ctx;
    needScope(requester, ["agents--all:ro"]);
    needScope(requester, ["agents-bot--all:ro"]);
    const license = requester.license;
    const ids = [license.owner.id, ...Object.keys(license.bots)];
    return ids.map((id) => ({ agent_id: id, status: license.routing[id] ?? "offline" }));
  },
};

/**
 * @param {AgentContext} ctx
 * @param {Record<string, any>} body
 * @param {boolean} add
 */
function tagging(ctx, body, add) {
  const chat = chatFor(ctx, requireString(body, "chat_id"), "rw");
  const thread = threadOf(chat, requireString(body, "thread_id"));
  const tag = requireString(body, "tag");
  if (add && !ctx.requester.license.tags.some((t) => t.name === tag)) throw notFound("Tag not found");
  ctx.world.tag(ctx.requester.license, chat, thread, tag, add, actorOf(ctx.requester));
  return {};
}

/**
 * `update_/delete_` + `thread_/chat_` + `properties`: thread methods name the chat `chat_id` and
 * the thread `thread_id`, chat methods name the chat `id` (A35 "Properties").
 * @param {"thread" | "chat"} scope
 * @param {"update" | "delete"} op
 * @returns {(ctx: AgentContext, body: Record<string, any>) => unknown}
 */
function propertiesMethod(scope, op) {
  return (ctx, body) => {
    const chat = chatFor(ctx, requireString(body, scope === "thread" ? "chat_id" : "id"), "rw");
    const thread = scope === "thread" ? threadOf(chat, requireString(body, "thread_id")) : null;
    const properties = op === "update" ? propertiesToSet(body.properties) : propertiesToDelete(body.properties);
    writableNamespaces(properties);
    ctx.world.properties(ctx.requester.license, chat, thread, properties, op, actorOf(ctx.requester));
    return {};
  };
}
