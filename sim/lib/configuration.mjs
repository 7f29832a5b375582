// Configuration API v3.6 (and v3.5): `POST /v3.x/configuration/action/<method>` (docs/LIVECHAT.md §3).
// Webhook registrations belong to a Client ID, not to a license ("You register webhook
// definitions per Client ID", C36 "Webhooks"); at most 3 per action. License webhooks are
// enabled per license on install and can be disabled per license and client (§3.2).
import { ApiError, forbidden, invalid, notFound } from "./errors.mjs";
import { needScope } from "./auth.mjs";
import { allowsAdditionalData, filtersFor, webhookNames, SUPPORTED_VERSIONS } from "./webhook-catalog.mjs";
import { hex32, isObject, nowMicros, webhookId } from "./util.mjs";
import {
  oneOf,
  optionalBool,
  optionalInt,
  optionalObject,
  optionalString,
  optionalStrings,
  requireString,
} from "./validate.mjs";

/** @typedef {import("./auth.mjs").Requester} Requester */
/** @typedef {import("./state.mjs").Bot} Bot */
/** @typedef {import("./world.mjs").World} World */
/** @typedef {import("./tokens.mjs").Tokens} Tokens */

/**
 * @typedef {object} ConfigContext
 * @property {World} world
 * @property {Tokens} tokens
 * @property {Requester | undefined} requester  undefined only for methods without authentication
 * @property {string} version
 */

const MAX_WEBHOOKS_PER_ACTION = 3;
const PRIORITIES = ["first", "normal", "last", "supervisor"];
const BOT_FIELDS = ["groups", "work_scheduler", "job_title", "max_chats_count", "timezone"];
const SOURCE_TYPES = ["my_client", "other_clients", "system"];

/** @param {ConfigContext} ctx */
const req = (ctx) => /** @type {Requester} */ (ctx.requester);

/**
 * The client a call acts for: `owner_client_id` (required with a PAT, or always when the method
 * lists it as required), else the token's client (C36 create_bot, enable_license_webhooks…).
 * @param {ConfigContext} ctx
 * @param {Record<string, any>} body
 * @param {{ alwaysRequired?: boolean }} [options]
 */
function ownerClient(ctx, body, options = {}) {
  const r = req(ctx);
  const given = optionalString(body, "owner_client_id");
  if (!given && (options.alwaysRequired || r.via === "pat")) throw invalid("`owner_client_id` is required");
  const clientId = /** @type {string} */ (given ?? r.clientId);
  if (!ctx.world.store.app(clientId)) throw invalid("`owner_client_id` is not a known Client ID");
  if (r.via !== "pat" && clientId !== r.clientId) throw forbidden("`owner_client_id` is not owned by your organization");
  return clientId;
}

/**
 * `requester` of configuration webhooks (v3.6 samples).
 * @param {Requester} r
 */
const requesterOf = (r) => ({ user_id: r.id, account_id: r.accountId, client_id: r.clientId });

/**
 * Validate registration filters against the action's allowed filters (C36 register_webhook).
 * @param {string} version
 * @param {string} action
 * @param {unknown} filters
 */
function checkFilters(version, action, filters) {
  if (filters === undefined || filters === null) return {};
  if (!isObject(filters)) throw invalid("`filters` must be an object");
  const allowed = /** @type {string[]} */ (filtersFor(version, action));
  for (const key of Object.keys(filters)) {
    if (!allowed.includes(key)) throw invalid(`Filter \`${key}\` is not allowed for action \`${action}\``);
  }
  if (filters.author_type !== undefined) oneOf(filters, "author_type", ["customer", "agent"]);
  if (filters.only_my_chats !== undefined) optionalBool(filters, "only_my_chats");
  if (filters.source_type !== undefined) {
    const types = optionalStrings(filters, "source_type") ?? [];
    if (!types.length || types.some((t) => !SOURCE_TYPES.includes(t))) throw invalid(`\`filters.source_type\` must hold: ${SOURCE_TYPES.join(", ")}`);
  }
  if (filters.agent_ids !== undefined) optionalStrings(filters, "agent_ids");
  if (filters.chat_presence !== undefined) {
    const cp = optionalObject(filters, "chat_presence") ?? {};
    for (const key of Object.keys(cp)) if (key !== "user_ids" && key !== "my_bots") throw invalid(`Unknown filter \`chat_presence.${key}\``);
    optionalBool(cp, "my_bots");
    const ids = optionalObject(cp, "user_ids");
    if (ids) {
      const keys = Object.keys(ids);
      if (keys.length !== 1 || !["values", "exclude_values"].includes(keys[0])) {
        throw invalid("`chat_presence.user_ids` takes exactly one of `values` or `exclude_values`");
      }
      optionalStrings(ids, keys[0]);
    }
  }
  return filters;
}

/**
 * A bot of the requester's license, checked for ownership: own bots need `--my`, others `--all`.
 * @param {ConfigContext} ctx
 * @param {string} id
 * @param {"ro" | "rw"} mode
 */
function botFor(ctx, id, mode) {
  const r = req(ctx);
  const bot = r.license.bots[id];
  if (!bot) throw notFound("Bot not found");
  const own = r.via === "pat" ? bot.created_via === "pat" : bot.owner_client_id === r.clientId;
  needScope(r, own ? [`agents-bot--my:${mode}`, `agents-bot--all:${mode}`] : [`agents-bot--all:${mode}`]);
  return bot;
}

/**
 * A bot as `get_bot` / `list_bots` show it (CP getBot.json / listBots.json; v3.5 says `avatar`).
 * @param {Bot} bot
 * @param {string[]} fields
 * @param {string} version
 * @param {boolean} full
 */
function botObject(bot, fields, version, full) {
  const out = { id: bot.id, name: bot.name, [version === "3.5" ? "avatar" : "avatar_path"]: bot.avatar };
  if (full) Object.assign(out, { default_group_priority: bot.default_group_priority, owner_client_id: bot.owner_client_id, max_chats_count: bot.max_chats_count, groups: bot.groups });
  for (const f of fields) if (bot[f] !== undefined) out[f] = bot[f];
  return out;
}

/**
 * Bot settings from create_bot / update_bot (C36 "Create Bot").
 * @param {Record<string, any>} body
 */
function botSettings(body) {
  /** @type {Partial<Bot>} */
  const out = {};
  const name = optionalString(body, "name");
  if (name !== undefined) out.name = name;
  const avatar = optionalString(body, "avatar");
  if (avatar !== undefined) out.avatar = avatar;
  const max = optionalInt(body, "max_chats_count", { min: 0, max: 500 });
  if (max !== undefined) out.max_chats_count = max;
  const priority = oneOf(body, "default_group_priority", PRIORITIES);
  if (priority !== undefined) out.default_group_priority = priority;
  const job = optionalString(body, "job_title");
  if (job !== undefined) out.job_title = job;
  const type = optionalString(body, "type");
  if (type !== undefined) out.type = type;
  if (body.groups !== undefined) {
    if (!Array.isArray(body.groups) || body.groups.some((g) => !isObject(g) || !Number.isInteger(g.id) || !PRIORITIES.includes(g.priority))) {
      throw invalid("`groups` must be an array of {id, priority}");
    }
    if (body.groups.some((g) => g.id !== 0)) throw new ApiError("group_not_found", "Group not found");
    out.groups = body.groups.map((g) => ({ id: g.id, priority: g.priority }));
  }
  const ws = optionalObject(body, "work_scheduler");
  if (ws !== undefined) {
    requireString(ws, "timezone");
    out.work_scheduler = ws;
  }
  const tz = optionalString(body, "timezone");
  if (tz !== undefined) out.timezone = tz;
  return out;
}

/** @param {Record<string, any>} body */
function fieldsOf(body) {
  const fields = optionalStrings(body, "fields") ?? [];
  const unknown = fields.find((f) => !BOT_FIELDS.includes(f));
  if (unknown) throw invalid(`Unknown field \`${unknown}\``);
  return fields;
}

/**
 * @param {ConfigContext} ctx
 * @param {string} action
 * @param {object} payload
 */
function emitConfig(ctx, action, payload) {
  const r = req(ctx);
  ctx.world.dispatcher.emit(r.license, action, payload, { source: r.clientId, requester: requesterOf(r) });
}

/**
 * @typedef {object} ConfigMethod
 * @property {boolean} [anonymous]  no authentication (list_webhook_names)
 * @property {(ctx: ConfigContext, body: Record<string, any>) => unknown} run
 */

/** @type {Record<string, ConfigMethod>} */
export const configurationMethods = {
  register_webhook: {
    run(ctx, body) {
      const r = req(ctx);
      needScope(r, ["webhooks.configuration:rw"]);
      const url = requireString(body, "url");
      if (url.length > 500 || !/^https?:\/\//i.test(url)) throw invalid("`url` must be an http(s) URL of at most 500 characters");
      const action = requireString(body, "action");
      if (!filtersFor(ctx.version, action)) throw invalid(`\`action\` \`${action}\` is not a webhook of v${ctx.version}`);
      const secret = requireString(body, "secret_key");
      const type = /** @type {"license" | "bot"} */ (oneOf(body, "type", ["license", "bot"], { required: true }));
      const owner = ownerClient(ctx, body, { alwaysRequired: true });
      const additional = optionalStrings(body, "additional_data") ?? [];
      if (additional.some((a) => a !== "chat_properties" && a !== "chat_presence_user_ids")) {
        throw invalid("`additional_data` takes `chat_properties` and `chat_presence_user_ids`");
      }
      if (additional.length && !allowsAdditionalData(action)) throw invalid(`\`additional_data\` is not available for \`${action}\``);
      const filters = checkFilters(ctx.version, action, body.filters);
      const store = ctx.world.store;
      if (store.webhooksOf(owner).filter((w) => w.action === action).length >= MAX_WEBHOOKS_PER_ACTION) {
        throw new ApiError("limit_reached", `Webhooks limit reached: a Client ID can register ${MAX_WEBHOOKS_PER_ACTION} webhooks per action`);
      }
      const id = webhookId();
      store.state.webhooks[id] = {
        id,
        url,
        description: optionalString(body, "description") ?? "",
        action,
        secret_key: secret,
        owner_client_id: owner,
        type,
        filters,
        additional_data: additional,
        version: ctx.version,
        created_at: nowMicros(),
      };
      return { id };
    },
  },

  list_webhooks: {
    run(ctx, body) {
      needScope(req(ctx), ["webhooks.configuration:rw"]);
      const owner = ownerClient(ctx, body, { alwaysRequired: true });
      return ctx.world.store.webhooksOf(owner).map((w) => ({
        id: w.id,
        url: w.url,
        description: w.description,
        action: w.action,
        filters: w.filters,
        owner_client_id: w.owner_client_id,
        type: w.type,
        ...(w.additional_data.length ? { additional_data: w.additional_data } : {}),
      }));
    },
  },

  unregister_webhook: {
    run(ctx, body) {
      needScope(req(ctx), ["webhooks.configuration:rw"]);
      const id = requireString(body, "id");
      const owner = ownerClient(ctx, body, { alwaysRequired: true });
      const hook = ctx.world.store.state.webhooks[id];
      if (!hook || hook.owner_client_id !== owner) throw notFound("Webhook not found");
      delete ctx.world.store.state.webhooks[id];
      return {};
    },
  },

  list_webhook_names: {
    anonymous: true,
    run(_ctx, body) {
      // `version` defaults to the current stable API version (C36), not the one in the URL.
      const version = optionalString(body, "version") ?? "3.6";
      if (!SUPPORTED_VERSIONS.includes(version)) throw new ApiError("unsupported_version", `Unsupported version ${version}`);
      return webhookNames(version);
    },
  },

  enable_license_webhooks: {
    run(ctx, body) {
      needScope(req(ctx), ["webhooks.state:rw"]);
      delete req(ctx).license.webhooks_disabled[ownerClient(ctx, body)];
      return {};
    },
  },

  disable_license_webhooks: {
    run(ctx, body) {
      needScope(req(ctx), ["webhooks.state:rw"]);
      req(ctx).license.webhooks_disabled[ownerClient(ctx, body)] = true;
      return {};
    },
  },

  get_license_webhooks_state: {
    run(ctx, body) {
      needScope(req(ctx), ["webhooks.state:ro"]);
      const license = req(ctx).license;
      const client = ownerClient(ctx, body);
      return { license_webhooks_enabled: Boolean(license.installs[client]?.installed) && !license.webhooks_disabled[client] };
    },
  },

  create_bot: {
    run(ctx, body) {
      const r = req(ctx);
      needScope(r, ["agents-bot--my:rw"]);
      requireString(body, "name");
      const settings = botSettings(body);
      const owner = ownerClient(ctx, body);
      const priority = settings.default_group_priority ?? "normal";
      /** @type {Bot} */
      const bot = {
        id: hex32(),
        secret: hex32(),
        name: /** @type {string} */ (settings.name),
        avatar: settings.avatar ?? "",
        owner_client_id: owner,
        created_via: r.via === "pat" ? "pat" : "app",
        default_group_priority: priority,
        groups: settings.groups ?? [{ id: 0, priority }],
        max_chats_count: settings.max_chats_count ?? 6,
        type: settings.type ?? "chatbot",
        ...(settings.job_title !== undefined ? { job_title: settings.job_title } : {}),
        ...(settings.work_scheduler !== undefined ? { work_scheduler: settings.work_scheduler } : {}),
        ...(settings.timezone !== undefined ? { timezone: settings.timezone } : {}),
      };
      r.license.bots[bot.id] = bot;
      // A new bot is offline until Set Routing Status (C36 "Create Bot").
      r.license.routing[bot.id] = "offline";
      emitConfig(ctx, "bot_created", {
        id: bot.id,
        name: bot.name,
        default_group_priority: bot.default_group_priority,
        groups: bot.groups,
        owner_client_id: bot.owner_client_id,
        max_chats_count: bot.max_chats_count,
        ...(bot.avatar ? { avatar: bot.avatar } : {}),
        ...(bot.job_title !== undefined ? { job_title: bot.job_title } : {}),
      });
      return { id: bot.id, secret: bot.secret };
    },
  },

  update_bot: {
    run(ctx, body) {
      const bot = botFor(ctx, requireString(body, "id"), "rw");
      const changes = botSettings(body);
      Object.assign(bot, changes);
      emitConfig(ctx, "bot_updated", { id: bot.id, ...changes });
      return {};
    },
  },

  delete_bot: {
    run(ctx, body) {
      const license = req(ctx).license;
      const bot = botFor(ctx, requireString(body, "id"), "rw");
      for (const chat of Object.values(license.chats)) for (const u of chat.users) if (u.id === bot.id) u.present = false;
      delete license.bots[bot.id];
      delete license.routing[bot.id];
      emitConfig(ctx, "bot_deleted", { id: bot.id });
      return {};
    },
  },

  get_bot: {
    run(ctx, body) {
      const bot = botFor(ctx, requireString(body, "id"), "ro");
      return botObject(bot, fieldsOf(body), ctx.version, true);
    },
  },

  list_bots: {
    run(ctx, body) {
      const r = req(ctx);
      const all = optionalBool(body, "all") ?? false;
      needScope(r, all ? ["agents-bot--all:ro"] : ["agents-bot--my:ro", "agents-bot--all:ro"]);
      const fields = fieldsOf(body);
      // all:false → bots created through the same app (Bearer) or through PATs (C36 List Bots footnote 1).
      const mine = (b) => (r.via === "pat" ? b.created_via === "pat" : b.created_via === "app" && b.owner_client_id === r.clientId);
      return Object.values(r.license.bots)
        .filter((b) => all || mine(b))
        .map((b) => botObject(b, fields, ctx.version, false));
    },
  },

  issue_bot_token: {
    run(ctx, body) {
      const botId = requireString(body, "bot_id");
      const clientId = requireString(body, "client_id");
      const secret = requireString(body, "bot_secret");
      const organizationId = requireString(body, "organization_id");
      const license = ctx.world.store.licenseByOrganization(organizationId);
      if (!license) throw new ApiError("license_not_found", "License not found");
      if (license !== req(ctx).license) throw forbidden("`organization_id` does not match the requester's organization");
      const bot = license.bots[botId];
      if (!bot) throw notFound("Bot not found");
      if (bot.owner_client_id !== clientId) throw forbidden("The bot is not owned by `client_id`");
      if (bot.secret !== secret) throw forbidden("Invalid bot secret");
      return { token: ctx.tokens.issueBotToken({ botId, clientId, organizationId }) };
    },
  },

  reset_bot_secret: {
    run(ctx, body) {
      const r = req(ctx);
      needScope(r, ["agents-bot--my:rw"]);
      const owner = ownerClient(ctx, body);
      const bot = r.license.bots[requireString(body, "id")];
      if (!bot || bot.owner_client_id !== owner) throw notFound("Bot not found");
      bot.secret = hex32();
      return { secret: bot.secret };
    },
  },

  list_tags: {
    run(ctx, body) {
      const r = req(ctx);
      needScope(r, ["tags--all:ro", "tags--groups:ro"]);
      const groups = optionalObject(body, "filters")?.group_ids;
      if (groups !== undefined && (!Array.isArray(groups) || groups.some((g) => !Number.isInteger(g)))) {
        throw invalid("`filters.group_ids` must be an array of group ids");
      }
      return r.license.tags.filter((t) => !groups || t.group_ids.some((g) => groups.includes(g))).map((t) => ({ ...t, group_ids: [...t.group_ids] }));
    },
  },

  create_tag: {
    run(ctx, body) {
      const r = req(ctx);
      needScope(r, ["tags--all:rw", "tags--groups:rw"]);
      ctx.world.createTag(r.license, { name: requireString(body, "name"), groupIds: groupIds(body) }, { kind: r.kind, id: r.id, clientId: r.clientId }, requesterOf(r));
      return {};
    },
  },

  update_tag: {
    run(ctx, body) {
      const r = req(ctx);
      needScope(r, ["tags--all:rw", "tags--groups:rw"]);
      const tag = r.license.tags.find((t) => t.name === requireString(body, "name"));
      if (!tag) throw notFound("Tag not found");
      tag.group_ids = groupIds(body);
      emitConfig(ctx, "tag_updated", { name: tag.name, group_ids: [...tag.group_ids] });
      return {};
    },
  },

  delete_tag: {
    run(ctx, body) {
      const r = req(ctx);
      needScope(r, ["tags--all:rw", "tags--groups:rw"]);
      const name = requireString(body, "name");
      if (!r.license.tags.some((t) => t.name === name)) throw notFound("Tag not found");
      r.license.tags = r.license.tags.filter((t) => t.name !== name);
      emitConfig(ctx, "tag_deleted", { name });
      return {};
    },
  },
};

/** @param {Record<string, any>} body */
function groupIds(body) {
  const ids = body.group_ids ?? [0];
  if (!Array.isArray(ids) || ids.some((g) => !Number.isInteger(g))) throw invalid("`group_ids` must be an array of group ids");
  if (ids.some((g) => g !== 0)) throw new ApiError("group_not_found", "Group not found");
  return ids;
}

// Batch variants of the bot methods (C36 "Batch requests"): each element answers on its own.
for (const name of ["create_bot", "update_bot", "delete_bot"]) {
  const single = configurationMethods[name];
  configurationMethods[`batch_${name}s`] = {
    run(ctx, body) {
      if (!Array.isArray(body.requests)) throw invalid("`requests` is required");
      return {
        responses: body.requests.map((item) => {
          try {
            return single.run(ctx, isObject(item) ? item : {});
          } catch (err) {
            if (err instanceof ApiError) return err.toBody();
            throw err;
          }
        }),
      };
    },
  };
}
