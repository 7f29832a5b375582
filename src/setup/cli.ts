import { secretsOf, type Credentials } from "../livechat/auth";
import { ConfigurationApi } from "../livechat/configuration";
import { HttpClient } from "../livechat/http";
import { redact, type LogFields, type Logger } from "../log";
import { runSetup, SetupError } from "./run";
import { lookup, parseDevVars, parseWranglerVars, type ConfigLayer } from "./sources";
import { isHttpUrl, SUPPORTED_API_VERSIONS } from "../config";
import { appWebhooks, type WebhookType } from "./declaration";

/**
 * The `npm run setup` command, free of Node APIs so it runs (and is tested) anywhere:
 * `scripts/setup.mjs` bundles it, reads the files and hands in the process's environment.
 */

/** Shown by `--help` and after a usage error. */
export const USAGE = `Usage: npm run setup -- [options]

Registers the app's webhooks with LiveChat (Configuration API register_webhook), from the
declaration in src/setup/declaration.ts: adds what is missing, then removes what is stale.
Running it twice changes nothing.

Options:
  --dry-run           print the plan, change nothing (only list calls are made)
  --url <url>         the Worker's public URL (default: PUBLIC_URL); webhooks go to
                      <url>/webhooks/license and <url>/webhooks/bot
  --version <v>       API version (default: LIVECHAT_API_VERSION, else 3.6)
  --prune-all         also remove this client id's webhooks at other urls
  --replace           re-register every webhook (after rotating LIVECHAT_WEBHOOK_SECRET:
                      list_webhooks does not show secrets), then remove the old ones
  --json              print the report as JSON on stdout
  -h, --help          this text

Authentication (environment only):
  LIVECHAT_PAT + LIVECHAT_ACCOUNT_ID   Personal Access Token, sent as Basic (recommended)
  LIVECHAT_TOKEN                       an OAuth access token of the app, sent as Bearer
Configuration (environment, else .dev.vars, else wrangler.toml [vars]):
  LIVECHAT_CLIENT_ID, LIVECHAT_WEBHOOK_SECRET, PUBLIC_URL, LIVECHAT_API_URL, LIVECHAT_API_VERSION,
  BOT_WEBHOOK_TYPE (bot, the default: the bot's behaviours as bot webhooks; license: as license webhooks)`;

/** Parsed command line. */
export interface SetupArgs {
  dryRun: boolean;
  url?: string;
  version?: string;
  pruneAll: boolean;
  replace: boolean;
  json: boolean;
  help: boolean;
}

/** What {@link main} needs from its host. */
export interface CliIo {
  /** Arguments after the script name. */
  argv: readonly string[];
  /** The process environment. */
  env: Readonly<Record<string, string | undefined>>;
  /** Text of `.dev.vars`, when the file exists. */
  devVars?: string;
  /** Text of `wrangler.toml`, when the file exists. */
  wranglerToml?: string;
  stdout(line: string): void;
  stderr(line: string): void;
  /** HTTP client for the Configuration API (tests inject fast retries). */
  http?: HttpClient;
}

/** Everything the run needs, resolved from the layers. */
export interface ResolvedSetup {
  clientId: string;
  secret: string;
  url: string;
  version: string;
  apiUrl: string;
  credentials: Credentials;
  /** BOT_WEBHOOK_TYPE: the webhook type the bot's behaviours are registered with. */
  botWebhookType: WebhookType;
  /** `NAME (source)` of each value used; never a value. */
  sources: string[];
}

const DEFAULT_API_URL = "https://api.livechatinc.com";
const DEFAULT_VERSION = "3.6";

/**
 * Parse the command line; unknown options are errors.
 *
 * @example
 * parseArgs(["--dry-run", "--url", "https://edge.example.com"]); // { ok: true, args: { dryRun: true, url: ..., ... } }
 */
export function parseArgs(argv: readonly string[]): { ok: true; args: SetupArgs } | { ok: false; error: string } {
  const args: SetupArgs = { dryRun: false, pruneAll: false, replace: false, json: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const eq = arg.indexOf("=");
    const flag = arg.startsWith("--") && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith("--") && eq > 0 ? arg.slice(eq + 1) : undefined;
    const value = (): string | undefined => {
      if (inline !== undefined) return inline;
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("--")) return undefined;
      i++;
      return next;
    };
    switch (flag) {
      case "--dry-run":
      case "--prune-all":
      case "--replace":
      case "--json":
      case "--help":
      case "-h":
        if (inline !== undefined) return { ok: false, error: `${flag} takes no value` };
        if (flag === "--dry-run") args.dryRun = true;
        else if (flag === "--prune-all") args.pruneAll = true;
        else if (flag === "--replace") args.replace = true;
        else if (flag === "--json") args.json = true;
        else args.help = true;
        break;
      case "--url":
      case "--version": {
        const v = value();
        if (!v) return { ok: false, error: `${flag} needs a value` };
        if (flag === "--url") args.url = v;
        else args.version = v;
        break;
      }
      default:
        return { ok: false, error: `unknown argument ${JSON.stringify(arg)}` };
    }
  }
  return { ok: true, args };
}

/**
 * Resolve configuration and credentials; every missing or malformed item is named (never its
 * value). Credentials come from the environment only.
 */
export function resolveSetup(
  args: SetupArgs,
  layers: readonly ConfigLayer[],
  env: Readonly<Record<string, string | undefined>>,
): { ok: true; setup: ResolvedSetup } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const sources: string[] = [];
  const where = layers.map((l) => l.name).join(", ");
  const need = (name: string): string | undefined => {
    const found = lookup(layers, name);
    if (!found) problems.push(`${name} is not set (looked in: ${where})`);
    else sources.push(`${name} (${found.from})`);
    return found?.value;
  };
  const optional = (name: string, fallback: string): string => {
    const found = lookup(layers, name);
    sources.push(`${name} (${found ? found.from : "default"})`);
    return found?.value ?? fallback;
  };

  const clientId = need("LIVECHAT_CLIENT_ID");
  const secret = need("LIVECHAT_WEBHOOK_SECRET");
  let url = args.url?.trim();
  if (url) sources.push("PUBLIC_URL (--url)");
  else url = need("PUBLIC_URL");
  if (url && !isHttpUrl(url)) problems.push(`${args.url ? "--url" : "PUBLIC_URL"} must be an absolute http(s) URL`);
  let version = args.version?.trim();
  if (version) sources.push("LIVECHAT_API_VERSION (--version)");
  else version = optional("LIVECHAT_API_VERSION", DEFAULT_VERSION);
  version = version.replace(/^v/i, "");
  if (!(SUPPORTED_API_VERSIONS as readonly string[]).includes(version)) {
    problems.push(`the API version must be one the code supports: ${SUPPORTED_API_VERSIONS.join(", ")}`);
  }
  const apiUrl = optional("LIVECHAT_API_URL", DEFAULT_API_URL).replace(/\/+$/, "");
  if (!isHttpUrl(apiUrl)) problems.push("LIVECHAT_API_URL must be an absolute http(s) URL");
  const botWebhookType = optional("BOT_WEBHOOK_TYPE", "bot");
  if (botWebhookType !== "bot" && botWebhookType !== "license") problems.push('BOT_WEBHOOK_TYPE must be "bot" or "license"');

  // .dev.vars holds local-only secrets (scripts/local-env.mjs): registering one with a public URL
  // would make the deployed Worker reject every webhook with 401.
  const secretFrom = lookup(layers, "LIVECHAT_WEBHOOK_SECRET")?.from;
  if (secretFrom === ".dev.vars" && url && isHttpUrl(url) && !isLoopback(url)) {
    problems.push("LIVECHAT_WEBHOOK_SECRET comes from .dev.vars (local only) but the URL is not local: set it in the environment");
  }

  const credentials = resolveCredentials(env, problems);
  if (credentials) sources.push(credentials.kind === "basic" ? "auth: LIVECHAT_PAT + LIVECHAT_ACCOUNT_ID (Basic)" : "auth: LIVECHAT_TOKEN (Bearer)");

  if (problems.length || !clientId || !secret || !url || !credentials) return { ok: false, problems };
  return { ok: true, setup: { clientId, secret, url, version, apiUrl, credentials, sources, botWebhookType: botWebhookType as WebhookType } };
}

/**
 * Run the setup command; resolves with the process exit code (0 done, 1 failed). Prints the
 * plan and progress on stdout, problems on stderr; with `--json`, stdout carries one JSON
 * document. No secret or token is ever printed.
 *
 * @example
 * process.exitCode = await main({ argv: process.argv.slice(2), env: process.env, stdout: console.log, stderr: console.error });
 */
export async function main(io: CliIo): Promise<number> {
  const parsed = parseArgs(io.argv);
  if (!parsed.ok) {
    io.stderr(`setup: ${parsed.error}`);
    io.stderr("Run `npm run setup -- --help` for the options.");
    return 1;
  }
  const { args } = parsed;
  if (args.help) {
    io.stdout(USAGE);
    return 0;
  }

  const layers: ConfigLayer[] = [{ name: "environment", values: io.env }];
  if (io.devVars !== undefined) layers.push({ name: ".dev.vars", values: parseDevVars(io.devVars) });
  if (io.wranglerToml !== undefined) layers.push({ name: "wrangler.toml [vars]", values: parseWranglerVars(io.wranglerToml) });
  const resolved = resolveSetup(args, layers, io.env);
  if (!resolved.ok) {
    // Nothing secret is known to be set yet except what the problems name; still scrub.
    const scrub = scrubber(knownSecrets(io.env, layers));
    if (args.json) io.stdout(scrub(JSON.stringify({ ok: false, problems: resolved.problems })));
    io.stderr(scrub("setup: cannot run:"));
    for (const problem of resolved.problems) io.stderr(scrub(`  - ${problem}`));
    return 1;
  }

  const { setup } = resolved;
  const scrub = scrubber([setup.secret, ...secretsOf(setup.credentials), ...knownSecrets(io.env, layers)]);
  const out = (line: string) => io.stdout(scrub(line));
  const err = (line: string) => io.stderr(scrub(line));
  if (!args.json) out(`Using ${setup.sources.join(", ")}`);

  const api = new ConfigurationApi({
    apiUrl: setup.apiUrl,
    version: setup.version,
    credentials: setup.credentials,
    http: io.http ?? new HttpClient({ logger: lineLogger(err) }),
  });
  try {
    const report = await runSetup({
      api,
      clientId: setup.clientId,
      secret: setup.secret,
      url: setup.url,
      version: setup.version,
      desired: appWebhooks(setup.botWebhookType),
      dryRun: args.dryRun,
      pruneAll: args.pruneAll,
      replace: args.replace,
      log: args.json ? undefined : out,
    });
    if (args.json) out(JSON.stringify({ ok: true, report }));
    return 0;
  } catch (e) {
    const problems = e instanceof SetupError ? e.problems : [e instanceof Error ? e.message : String(e)];
    const report = e instanceof SetupError ? e.report : undefined;
    if (args.json) out(JSON.stringify({ ok: false, problems, ...(report ? { report } : {}) }));
    err("setup failed:");
    for (const problem of problems) err(`  - ${problem}`);
    return 1;
  }
}

/** Credentials from the environment only (a PAT as Basic, else a Bearer token); what is missing goes to `problems`. */
export function resolveCredentials(env: Readonly<Record<string, string | undefined>>, problems: string[]): Credentials | undefined {
  const pat = env.LIVECHAT_PAT?.trim();
  const accountId = env.LIVECHAT_ACCOUNT_ID?.trim();
  const token = env.LIVECHAT_TOKEN?.trim();
  // docs/LIVECHAT.md §3.1: a PAT is sent as Basic base64(<account_id>:<PAT>), never as Bearer.
  if (pat && accountId) return { kind: "basic", accountId, token: pat };
  if (pat) {
    problems.push("LIVECHAT_PAT is set but LIVECHAT_ACCOUNT_ID is not (a Personal Access Token is sent as Basic account_id:PAT)");
    return undefined;
  }
  if (token) return { kind: "bearer", token };
  if (accountId) problems.push("LIVECHAT_ACCOUNT_ID is set but LIVECHAT_PAT is not");
  else {
    problems.push(
      "no LiveChat credentials: set LIVECHAT_PAT and LIVECHAT_ACCOUNT_ID (a Personal Access Token with the " +
        "webhooks.configuration:rw scope) or LIVECHAT_TOKEN (an access token of the app) in the environment",
    );
  }
  return undefined;
}

/** Values that must never be printed, whatever layer they came from. */
function knownSecrets(env: Readonly<Record<string, string | undefined>>, layers: readonly ConfigLayer[]): string[] {
  const names = ["LIVECHAT_PAT", "LIVECHAT_TOKEN", "LIVECHAT_WEBHOOK_SECRET", "LIVECHAT_WEBHOOK_SECRET_PREVIOUS", "LIVECHAT_CLIENT_SECRET"];
  const values = names.flatMap((n) => [env[n], ...layers.map((l) => l.values[n])]);
  return values.filter((v): v is string => typeof v === "string" && v.trim().length >= 4).map((v) => v.trim());
}

/** Replaces every given secret (4+ characters) in a line with `[redacted]`. */
export function scrubber(secrets: readonly string[]): (text: string) => string {
  const list = [...new Set(secrets.filter((s) => s.length >= 4))].sort((a, b) => b.length - a.length);
  return (text) => list.reduce((acc, s) => acc.split(s).join("[redacted]"), text);
}

/** The HTTP client's retry and re-route notes, as readable lines. */
function lineLogger(write: (line: string) => void): Logger {
  const line = (level: string) => (msg: string, fields?: LogFields) =>
    write(`${level}: ${msg}${fields && Object.keys(fields).length ? ` ${JSON.stringify(redact(fields))}` : ""}`);
  const logger: Logger = { debug: () => {}, info: line("info"), warn: line("warn"), error: line("error"), child: () => logger };
  return logger;
}

/** True for URLs on this machine (localhost, 127.0.0.0/8, ::1). */
export function isLoopback(url: string): boolean {
  const host = new URL(url).hostname;
  return host === "localhost" || host === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(host);
}
