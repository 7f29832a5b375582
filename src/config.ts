import * as z from "zod/mini";
import { type LogLevel, setLogLevel } from "./log";

/**
 * Worker configuration: every var and secret of the public contract (docs/ARCHITECTURE.md
 * "Configuration"), parsed once per `env` object into a typed {@link Config}.
 */

const required = (name: string) =>
  z.string({ error: (iss) => (iss.input === undefined ? `${name} is not set` : `${name} must be a string`) }).check(
    z.trim(),
    z.minLength(1, `${name} is empty`),
  );

/** A LiveChat base URL: https, or http to a loopback host only (the local simulator): tokens and the client secret travel to it. */
const liveChatUrl = (name: string, fallback: string) =>
  z._default(
    z.string().check(
      z.trim(),
      z.refine((v) => isHttpUrl(v), `${name} must be an http(s) URL`),
      z.refine((v) => !isHttpUrl(v) || isSecureOrLoopback(v), `${name} must use https (http only for a loopback host such as 127.0.0.1)`),
    ),
    fallback,
  );

/** 32 random bytes, base64 (standard or url-safe alphabet). */
const encryptionKey = (name: string) =>
  z.string({ error: `${name} is not set` }).check(
    z.trim(),
    z.refine((v) => decodeBase64(v)?.length === 32, `${name} must be 32 random bytes, base64-encoded`),
  );

/** Shortest webhook secret not reported as weak (a secret LiveChat sends in every body, docs/LIVECHAT.md §1.3). */
export const MIN_WEBHOOK_SECRET_LENGTH = 16;

/**
 * Shortest `ADMIN_TOKEN` accepted: it is guessable online (`/admin/login`, Bearer), so it must be a
 * random secret, e.g. `openssl rand -base64 32` (44 characters, 256 bits).
 */
export const MIN_ADMIN_TOKEN_LENGTH = 32;

/** A whole number from `min` to `max`, written in decimal digits; `fallback` when not set. */
const integer = (name: string, min: number, max: number, fallback: string) =>
  z._default(
    z.string().check(
      z.trim(),
      z.refine((v) => /^\d+$/.test(v) && +v >= min && +v <= max, `${name} must be an integer from ${min} to ${max}`),
    ),
    fallback,
  );

/** Whole days from 1 to 365 (retention periods, docs/DATA.md). */
const days = (name: string, fallback: string) => integer(name, 1, 365, fallback);

/**
 * The LiveChat API versions the clients and webhook schemas are written for (docs/LIVECHAT.md §3.1);
 * they differ in how a bot may authorise (§4.2): v3.5 also takes the license's token with
 * `X-Author-Id`, v3.6 only the bot's own token. The bot here always uses its own token
 * (`issue_bot_token`, src/licenses/bot.ts), the one way both versions accept.
 */
export const SUPPORTED_API_VERSIONS = ["3.5", "3.6"] as const;
export type ApiVersion = (typeof SUPPORTED_API_VERSIONS)[number];

const envSchema = z.object({
  LIVECHAT_CLIENT_ID: required("LIVECHAT_CLIENT_ID"),
  LIVECHAT_CLIENT_SECRET: required("LIVECHAT_CLIENT_SECRET"),
  LIVECHAT_WEBHOOK_SECRET: required("LIVECHAT_WEBHOOK_SECRET"),
  LIVECHAT_WEBHOOK_SECRET_PREVIOUS: z.optional(z.string()),
  LIVECHAT_ACCOUNTS_URL: liveChatUrl("LIVECHAT_ACCOUNTS_URL", "https://accounts.livechat.com"),
  LIVECHAT_API_URL: liveChatUrl("LIVECHAT_API_URL", "https://api.livechatinc.com"),
  LIVECHAT_API_VERSION: z._default(
    z.enum(SUPPORTED_API_VERSIONS, `LIVECHAT_API_VERSION must be one of the versions the code supports: ${SUPPORTED_API_VERSIONS.join(", ")}`),
    "3.6",
  ),
  BOT_WEBHOOK_TYPE: z._default(z.enum(["bot", "license"], 'BOT_WEBHOOK_TYPE must be "bot" or "license"'), "bot"),
  TOKEN_ENCRYPTION_KEY: encryptionKey("TOKEN_ENCRYPTION_KEY"),
  TOKEN_ENCRYPTION_KEY_PREVIOUS: z.optional(encryptionKey("TOKEN_ENCRYPTION_KEY_PREVIOUS")),
  ADMIN_TOKEN: required("ADMIN_TOKEN").check(
    z.minLength(MIN_ADMIN_TOKEN_LENGTH, `ADMIN_TOKEN must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters; generate one with \`openssl rand -base64 32\``),
  ),
  PUBLIC_URL: z.optional(
    z.string().check(z.trim(), z.refine((v) => isHttpUrl(v), "PUBLIC_URL must be an absolute URL")),
  ),
  REPLY_TIMEOUT_SECONDS: integer("REPLY_TIMEOUT_SECONDS", 5, 86_400, "120"),
  RECONCILE_STALE_SECONDS: integer("RECONCILE_STALE_SECONDS", 10, 86_400, "3600"),
  RECONCILE_SPREAD_SECONDS: integer("RECONCILE_SPREAD_SECONDS", 1, 3600, "300"),
  RECONCILE_CALLS_PER_SECOND: integer("RECONCILE_CALLS_PER_SECOND", 1, 1000, "10"),
  LOG_LEVEL: z._default(z.enum(["debug", "info", "warn", "error"], "LOG_LEVEL must be debug, info, warn or error"), "info"),
  DELIVERY_RETENTION_DAYS: days("DELIVERY_RETENTION_DAYS", "7"),
  DEAD_LETTER_RETENTION_DAYS: days("DEAD_LETTER_RETENTION_DAYS", "14"),
  LICENSE_CACHE_TTL_MS: integer("LICENSE_CACHE_TTL_MS", 0, 60_000, "5000"),
});

/**
 * Names set with `wrangler secret put` (locally: .dev.vars), never in wrangler.toml; every other
 * name is a var. `npm run deploy` checks them before deploying.
 */
export const SECRET_NAMES: readonly string[] = [
  "LIVECHAT_CLIENT_SECRET",
  "LIVECHAT_WEBHOOK_SECRET",
  "LIVECHAT_WEBHOOK_SECRET_PREVIOUS",
  "TOKEN_ENCRYPTION_KEY",
  "TOKEN_ENCRYPTION_KEY_PREVIOUS",
  "ADMIN_TOKEN",
];

/** One configuration name: whether the Worker needs a value (it has no default) and whether it is a secret. */
export interface ConfigName {
  name: string;
  required: boolean;
  secret: boolean;
}

/**
 * Every name {@link loadConfig} reads, in its order.
 *
 * @example
 * configNames().filter((n) => n.required && n.secret).map((n) => n.name); // ["LIVECHAT_CLIENT_SECRET", …]
 */
export function configNames(): ConfigName[] {
  return Object.entries(envSchema.shape).map(([name, schema]) => ({
    name,
    // A name whose schema accepts "not set" is optional or has a default.
    required: !schema.safeParse(undefined).success,
    secret: SECRET_NAMES.includes(name),
  }));
}

/** The validated configuration the rest of the Worker reads. */
export interface Config {
  clientId: string;
  clientSecret: string;
  /** Accepted webhook secrets: the current one first, then the previous one during a rotation. */
  webhookSecrets: string[];
  accountsUrl: string;
  apiUrl: string;
  apiVersion: ApiVersion;
  /**
   * The webhook type the bot's behaviours are registered with and served from: `bot` (LiveChat
   * delivers them only while the bot is not offline, docs/LIVECHAT.md §1.5) or `license` (every
   * event, whatever the bot's status; the bot still acts only while it accepts chats).
   */
  botWebhookType: "bot" | "license";
  tokenEncryptionKey: string;
  /** The key being rotated away from: opens what it sealed, which is then sealed again with the current one. */
  tokenEncryptionKeyPrevious: string | undefined;
  adminToken: string;
  /** Public origin of the Worker when set; otherwise routes derive it from the request. */
  publicUrl: string | undefined;
  replyTimeoutSeconds: number;
  /** How long a Chat DO reuses its license's handler facts (ms; 0 = ask the License DO on every read). */
  licenseCacheTtlMs: number;
  /** Days a finished delivery (its body included) is kept (docs/DATA.md). */
  deliveryRetentionDays: number;
  /** Days a dead letter is kept for replay (docs/DATA.md). */
  deadLetterRetentionDays: number;
  /**
   * The fleet reconcile (src/licenses/fleet.ts): observations are trusted for `staleMs`; each cron
   * run (every `spreadMs`, the Cron Trigger's interval) visits one slot of the fleet spread over
   * `spreadMs`, at most `callsPerSecond` visits a second.
   */
  reconcile: { staleMs: number; spreadMs: number; callsPerSecond: number };
  /** Lowest log level written; applied to every logger when the config loads. */
  logLevel: LogLevel;
  /** Accepted but weak values (named, never shown), for `/healthz` and the admin overview. */
  warnings: ConfigProblem[];
}

/** One configuration problem: the variable's name and what is wrong with it, never its value. */
export interface ConfigProblem {
  name: string;
  problem: string;
}

export type ConfigResult = { ok: true; config: Config } | { ok: false; problems: ConfigProblem[] };

const cache = new WeakMap<object, ConfigResult>();

/**
 * Parse and validate the Worker's env once (cached per env object).
 *
 * @example
 * const result = loadConfig(env);
 * if (!result.ok) console.error(result.problems.map((p) => p.problem).join("; "));
 */
export function loadConfig(env: object): ConfigResult {
  const hit = cache.get(env);
  if (hit) return hit;
  const result = parseConfig(env as Record<string, unknown>);
  cache.set(env, result);
  // Every entry point (routes, DOs, cron) loads the config first, so this sets the level everywhere.
  if (result.ok) setLogLevel(result.config.logLevel);
  return result;
}

const secretsSchema = z.object({
  LIVECHAT_WEBHOOK_SECRET: envSchema.shape.LIVECHAT_WEBHOOK_SECRET,
  LIVECHAT_WEBHOOK_SECRET_PREVIOUS: envSchema.shape.LIVECHAT_WEBHOOK_SECRET_PREVIOUS,
});

export type WebhookSecretsResult = { ok: true; secrets: readonly string[] } | { ok: false; problems: ConfigProblem[] };

const secretsCache = new WeakMap<object, WebhookSecretsResult>();

/**
 * The accepted webhook secrets alone (current first, then the previous one during a rotation),
 * validated once per env: what the webhook ack needs. A problem in any other variable does not
 * stop webhooks from being stored; it stops their processing, which waits (and retries) until it
 * is fixed, while `/healthz` names it (docs/ARCHITECTURE.md "Ack only what is durable").
 */
export function loadWebhookSecrets(env: object): WebhookSecretsResult {
  const hit = secretsCache.get(env);
  if (hit) return hit;
  const full = loadConfig(env);
  let result: WebhookSecretsResult;
  if (full.ok) result = { ok: true, secrets: full.config.webhookSecrets };
  else {
    const parsed = secretsSchema.safeParse(inputOf(env as Record<string, unknown>, ["LIVECHAT_WEBHOOK_SECRET", "LIVECHAT_WEBHOOK_SECRET_PREVIOUS"]));
    result = parsed.success
      ? { ok: true, secrets: secretsOf(parsed.data.LIVECHAT_WEBHOOK_SECRET, parsed.data.LIVECHAT_WEBHOOK_SECRET_PREVIOUS) }
      : { ok: false, problems: problemsOf(parsed.error.issues) };
  }
  secretsCache.set(env, result);
  return result;
}

/** Like {@link loadConfig} but throws a {@link ConfigError} naming every problem. */
export function requireConfig(env: object): Config {
  const result = loadConfig(env);
  if (!result.ok) throw new ConfigError(result.problems);
  return result.config;
}

/** Thrown when configuration is missing or malformed; its message names variables, never values. */
export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(`Invalid configuration: ${problems.map((p) => p.problem).join("; ")}`);
    this.name = "ConfigError";
  }
}

/** The env's values of `keys`: vars may arrive as numbers (wrangler.toml); an empty string counts as "not set". */
function inputOf(env: Record<string, unknown>, keys: readonly string[]): Record<string, unknown> {
  const input: Record<string, unknown> = {};
  for (const key of keys) {
    const value = env[key];
    input[key] = typeof value === "number" ? String(value) : value === "" ? undefined : value;
  }
  return input;
}

function problemsOf(issues: readonly { path: readonly PropertyKey[]; message: string }[]): ConfigProblem[] {
  return issues.map((issue) => ({ name: String(issue.path[0] ?? "config"), problem: issue.message }));
}

function secretsOf(current: string, previous: string | undefined): string[] {
  const old = previous?.trim();
  return old ? [current, old] : [current];
}

function parseConfig(env: Record<string, unknown>): ConfigResult {
  const parsed = envSchema.safeParse(inputOf(env, Object.keys(envSchema.shape)));
  if (!parsed.success) return { ok: false, problems: problemsOf(parsed.error.issues) };
  const v = parsed.data;
  return {
    ok: true,
    config: {
      clientId: v.LIVECHAT_CLIENT_ID,
      clientSecret: v.LIVECHAT_CLIENT_SECRET,
      webhookSecrets: secretsOf(v.LIVECHAT_WEBHOOK_SECRET, v.LIVECHAT_WEBHOOK_SECRET_PREVIOUS),
      accountsUrl: v.LIVECHAT_ACCOUNTS_URL.replace(/\/+$/, ""),
      apiUrl: v.LIVECHAT_API_URL.replace(/\/+$/, ""),
      apiVersion: v.LIVECHAT_API_VERSION,
      botWebhookType: v.BOT_WEBHOOK_TYPE,
      tokenEncryptionKey: v.TOKEN_ENCRYPTION_KEY,
      tokenEncryptionKeyPrevious: v.TOKEN_ENCRYPTION_KEY_PREVIOUS,
      adminToken: v.ADMIN_TOKEN,
      publicUrl: v.PUBLIC_URL ? v.PUBLIC_URL.replace(/\/+$/, "") : undefined,
      replyTimeoutSeconds: Number(v.REPLY_TIMEOUT_SECONDS),
      licenseCacheTtlMs: Number(v.LICENSE_CACHE_TTL_MS),
      reconcile: {
        staleMs: Number(v.RECONCILE_STALE_SECONDS) * 1000,
        spreadMs: Number(v.RECONCILE_SPREAD_SECONDS) * 1000,
        callsPerSecond: Number(v.RECONCILE_CALLS_PER_SECOND),
      },
      deliveryRetentionDays: Number(v.DELIVERY_RETENTION_DAYS),
      deadLetterRetentionDays: Number(v.DEAD_LETTER_RETENTION_DAYS),
      logLevel: v.LOG_LEVEL,
      warnings: weakSecrets({ LIVECHAT_WEBHOOK_SECRET: v.LIVECHAT_WEBHOOK_SECRET, LIVECHAT_WEBHOOK_SECRET_PREVIOUS: v.LIVECHAT_WEBHOOK_SECRET_PREVIOUS?.trim() }),
    },
  };
}

/**
 * Webhook secrets short enough to guess: LiveChat accepts any `secret_key` the app registers, so
 * nothing else stops a short one (docs/SECURITY.md "Limits"). Named as weak, not refused: a
 * running app keeps receiving its webhooks while the operator rotates to a longer one.
 */
function weakSecrets(secrets: Record<string, string | undefined>): ConfigProblem[] {
  return Object.entries(secrets)
    .filter(([, value]) => value !== undefined && value !== "" && value.length < MIN_WEBHOOK_SECRET_LENGTH)
    .map(([name]) => ({ name, problem: `${name} is shorter than ${MIN_WEBHOOK_SECRET_LENGTH} characters: easy to guess, rotate it` }));
}

/** Decode standard or url-safe base64; undefined when malformed. */
export function decodeBase64(value: string): Uint8Array | undefined {
  try {
    const normalized = value.replace(/-/g, "+").replace(/_/g, "/");
    const bin = atob(normalized + "===".slice((normalized.length + 3) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0));
  } catch {
    return undefined;
  }
}

/** True for an https URL, or an http one whose host is a loopback address (127.0.0.0/8, ::1, localhost). */
export function isSecureOrLoopback(value: string): boolean {
  const url = new URL(value);
  if (url.protocol === "https:") return true;
  const host = url.hostname.replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127(\.\d{1,3}){3}$/.test(host);
}

/** True for an absolute http(s) URL. */
export function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}
