// The simulator's in-memory world: apps, licenses (with their agent, bots, customers, chats,
// tags), tokens and registered webhooks. Plain JSON so it can be dumped and persisted.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { applicationId, hex32, licenseNumber, nowMicros, uuid } from "./util.mjs";

/**
 * @typedef {"dal" | "fra"} Region
 * @typedef {"accepting_chats" | "not_accepting_chats" | "offline"} RoutingStatus
 *
 * @typedef {object} App  A marketplace app (Developer Console "Authorization" + "App Webhooks" blocks).
 * @property {string} client_id
 * @property {string} client_secret
 * @property {string} name
 * @property {string} application_id
 * @property {string | null} app_webhook_url  App Webhooks URL (application_installed/uninstalled)
 * @property {string[]} redirect_uris        whitelist; empty = any http(s) URL is accepted
 * @property {string} scopes                 comma-separated scopes granted to its tokens
 *
 * @typedef {object} Agent  The license's owner (the human who installs apps and answers chats).
 * @property {string} id          email, LiveChat's agent id
 * @property {string} account_id  UUID in Accounts
 * @property {string} name
 * @property {string} email
 * @property {string} avatar
 * @property {number} max_chats_count
 *
 * @typedef {object} Bot
 * @property {string} id
 * @property {string} secret
 * @property {string} name
 * @property {string} avatar
 * @property {string} owner_client_id
 * @property {"app" | "pat"} created_via
 * @property {string} default_group_priority
 * @property {{ id: number, priority: string }[]} groups
 * @property {number} max_chats_count
 * @property {string} type
 * @property {string} [job_title]
 * @property {object} [work_scheduler]
 * @property {string} [timezone]
 *
 * @typedef {object} Customer
 * @property {string} id
 * @property {string} name
 * @property {string} [email]
 * @property {string} created_at
 *
 * @typedef {object} ChatUser  Membership of a user in a chat.
 * @property {string} id
 * @property {"agent" | "customer"} type
 * @property {"all" | "agents"} visibility
 * @property {boolean} present
 * @property {string} [events_seen_up_to]
 *
 * @typedef {object} Thread
 * @property {string} id
 * @property {string} created_at
 * @property {boolean} active
 * @property {string[]} user_ids
 * @property {object[]} events
 * @property {Record<string, Record<string, unknown>>} properties
 * @property {string[]} tags
 * @property {{ group_ids: number[] }} access
 * @property {string} [previous_thread_id]
 * @property {string} [next_thread_id]
 * @property {number} event_seq
 * @property {{ position: number, wait_time: number, queued_at: string }} [queue]
 *
 * @typedef {object} Chat
 * @property {string} id
 * @property {string} license  license name
 * @property {string} created_at
 * @property {Record<string, Record<string, unknown>>} properties
 * @property {{ group_ids: number[] }} access
 * @property {ChatUser[]} users
 * @property {Thread[]} threads
 *
 * @typedef {object} Install
 * @property {boolean} installed
 * @property {string} [installed_at]
 * @property {string} [uninstalled_at]
 *
 * @typedef {object} License
 * @property {string} name             the simulator's handle ("demo", "acme")
 * @property {number} license_id
 * @property {string} organization_id
 * @property {Region} region
 * @property {Agent} owner
 * @property {Record<string, RoutingStatus>} routing   agent/bot id → status
 * @property {Record<string, Install>} installs         client id → install state
 * @property {Record<string, boolean>} webhooks_disabled client id → explicitly disabled
 * @property {{ name: string, group_ids: number[], author_id: string, created_at: string }[]} tags
 * @property {Record<string, Customer>} customers
 * @property {Record<string, Bot>} bots
 * @property {Record<string, Chat>} chats
 *
 * @typedef {object} AccessToken
 * @property {string} token
 * @property {string} client_id
 * @property {string} account_id
 * @property {string} organization_id
 * @property {string} scope
 * @property {number} issued_at    ms
 * @property {number} expires_at   ms
 * @property {boolean} revoked
 * @property {string} [refresh_token]
 *
 * @typedef {object} RefreshToken
 * @property {string} token
 * @property {string} client_id
 * @property {string} account_id
 * @property {string} organization_id
 * @property {string} scope
 * @property {number} issued_at
 * @property {boolean} revoked
 * @property {boolean} public_client  PKCE without a secret: rotates on use
 *
 * @typedef {object} AuthCode
 * @property {string} code
 * @property {string} client_id
 * @property {string} redirect_uri
 * @property {string} license
 * @property {string} [code_challenge]
 * @property {"plain" | "S256"} [code_challenge_method]
 * @property {number} expires_at
 * @property {boolean} used
 *
 * @typedef {object} BotTokenRecord
 * @property {string} jti
 * @property {string} bot_id
 * @property {string} client_id
 * @property {string} organization_id
 * @property {number} expires_at
 * @property {boolean} revoked  only the simulator's "revoke tokens" fault sets this; LiveChat cannot
 *
 * @typedef {object} Pat
 * @property {string} account_id
 * @property {string} token
 * @property {string} organization_id
 * @property {string} scope
 *
 * @typedef {object} WebhookRegistration
 * @property {string} id
 * @property {string} url
 * @property {string} description
 * @property {string} action
 * @property {string} secret_key
 * @property {string} owner_client_id
 * @property {"license" | "bot"} type
 * @property {Record<string, any>} filters
 * @property {string[]} additional_data
 * @property {string} version   API version it was registered through ("3.5" | "3.6")
 * @property {string} created_at
 *
 * @typedef {object} State
 * @property {number} format
 * @property {string} signing_key   HMAC key of bot JWTs
 * @property {string} current_license
 * @property {Record<string, App>} apps
 * @property {Record<string, License>} licenses
 * @property {{ access: Record<string, AccessToken>, refresh: Record<string, RefreshToken>,
 *   codes: Record<string, AuthCode>, bot: Record<string, BotTokenRecord>, pats: Record<string, Pat> }} tokens
 * @property {Record<string, WebhookRegistration>} webhooks
 */

export const STATE_FORMAT = 1;

/** Tags every new license starts with (LiveChat's defaults plus a few the demo uses). */
const DEFAULT_TAGS = ["positive feedback", "support", "complaint", "sales", "spam", "refund", "bug_report"];

/** @returns {State} */
export function emptyState() {
  return {
    format: STATE_FORMAT,
    signing_key: hex32() + hex32(),
    current_license: "demo",
    apps: {},
    licenses: {},
    tokens: { access: {}, refresh: {}, codes: {}, bot: {}, pats: {} },
    webhooks: {},
  };
}

/**
 * A new license with its owner agent. Routing status of the owner starts as accepting chats.
 * @param {{ name: string, region?: Region, agentName?: string }} options
 * @returns {License}
 */
export function newLicense({ name, region = "dal", agentName }) {
  const slug = name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "") || "license";
  const email = `agent@${slug}.example.com`;
  const created = nowMicros();
  return {
    name,
    license_id: licenseNumber(),
    organization_id: uuid(),
    region,
    owner: {
      id: email,
      account_id: uuid(),
      name: agentName ?? "Alex Agent",
      email,
      avatar: "https://cdn.livechat-files.com/api/file/avatar.png",
      max_chats_count: 100,
    },
    routing: { [email]: "accepting_chats" },
    installs: {},
    webhooks_disabled: {},
    tags: DEFAULT_TAGS.map((tag) => ({ name: tag, group_ids: [0], author_id: "", created_at: created })),
    customers: {},
    bots: {},
    chats: {},
  };
}

/**
 * A marketplace app registration.
 * @param {Partial<App> & { client_id: string, client_secret: string }} input
 * @returns {App}
 */
export function newApp(input) {
  return {
    client_id: input.client_id,
    client_secret: input.client_secret,
    name: input.name ?? "livechat-edge (local)",
    application_id: input.application_id ?? applicationId(),
    app_webhook_url: input.app_webhook_url ?? null,
    redirect_uris: input.redirect_uris ?? [],
    scopes: input.scopes ?? DEFAULT_APP_SCOPES,
  };
}

/** What an installed app's tokens may do unless the app was registered with other scopes (docs/LIVECHAT.md §6.4). */
export const DEFAULT_APP_SCOPES = [
  "chats--all:rw",
  "chats--all:ro",
  "customers:ro",
  "agents--all:ro",
  "agents--my:rw",
  "agents-bot--my:rw",
  "agents-bot--all:ro",
  "webhooks.configuration:rw",
  "webhooks.state:rw",
  "tags--all:rw",
].join(",");

/** Everything a PAT or the simulator's own control actions may do. */
export const ALL_SCOPES = [
  "chats--all:rw",
  "customers:rw",
  "agents--all:rw",
  "agents-bot--all:rw",
  "webhooks.configuration:rw",
  "webhooks.state:rw",
  "tags--all:rw",
  "bots.templates:rw",
].join(",");

/**
 * The store: state plus lookups and optional persistence to a JSON file (written atomically,
 * debounced after changes).
 */
export class Store {
  /**
   * @param {{ stateFile?: string }} [options]
   */
  constructor(options = {}) {
    this.stateFile = options.stateFile;
    /** @type {State} */
    this.state = this.stateFile && existsSync(this.stateFile) ? this.load(this.stateFile) : emptyState();
    /** @type {NodeJS.Timeout | undefined} */
    this.saveTimer = undefined;
  }

  /** @param {string} file */
  load(file) {
    const data = JSON.parse(readFileSync(file, "utf8"));
    if (data?.format !== STATE_FORMAT) throw new Error(`${file}: unknown state format ${data?.format}`);
    return data;
  }

  /** Schedule a write of the state file (no-op without one). */
  changed() {
    if (!this.stateFile || this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      this.saveNow();
    }, 100);
  }

  /** Write the state file now (atomic: temp file + rename). */
  saveNow() {
    if (!this.stateFile) return;
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    mkdirSync(dirname(this.stateFile), { recursive: true });
    const tmp = `${this.stateFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.state, null, 2));
    renameSync(tmp, this.stateFile);
  }

  /**
   * Forget licenses, chats, tokens and webhook registrations; keep the registered apps (they
   * come from the server's start options) and the current license's name.
   */
  reset() {
    const { apps, current_license } = this.state;
    this.state = { ...emptyState(), apps, current_license };
    this.ensureLicense(current_license);
    this.changed();
  }

  /**
   * The license named `name`, if any.
   * @param {string} name
   * @returns {License | undefined}
   */
  license(name) {
    return this.state.licenses[name];
  }

  /**
   * The license named `name`, created (with its owner agent) when missing.
   * @param {string} name
   * @param {{ region?: Region, agentName?: string }} [options]
   * @returns {License}
   */
  ensureLicense(name, options = {}) {
    let lic = this.state.licenses[name];
    if (!lic) {
      lic = newLicense({ name, region: options.region, agentName: options.agentName });
      this.state.licenses[name] = lic;
      this.changed();
    }
    return lic;
  }

  /**
   * @param {string} organizationId
   * @returns {License | undefined}
   */
  licenseByOrganization(organizationId) {
    return Object.values(this.state.licenses).find((l) => l.organization_id === organizationId);
  }

  /**
   * The license that holds `chatId` (chat ids are unique across the simulator).
   * @param {string} chatId
   */
  licenseOfChat(chatId) {
    return Object.values(this.state.licenses).find((l) => l.chats[chatId]);
  }

  /** @param {string} clientId */
  app(clientId) {
    return this.state.apps[clientId];
  }

  /** All registered webhooks of one client, in registration order. */
  webhooksOf(clientId) {
    return Object.values(this.state.webhooks).filter((w) => w.owner_client_id === clientId);
  }
}
