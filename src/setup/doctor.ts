import { isHttpUrl } from "../config";
import { secretsOf, type Credentials } from "../livechat/auth";
import { ConfigurationApi } from "../livechat/configuration";
import { LiveChatError } from "../livechat/errors";
import { HttpClient } from "../livechat/http";
import { isLoopback, resolveCredentials, scrubber, type CliIo } from "./cli";
import { appWebhooks } from "./declaration";
import { planWebhooks } from "./plan";
import { lookup, parseDevVars, parseWranglerVars, type ConfigLayer } from "./sources";

/**
 * `npm run doctor -- --url <worker>`: checks a running deployment from outside, as an operator
 * would before going live. Free of Node APIs, like the setup command: `scripts/doctor.mjs` loads
 * it and hands in the process's environment and files.
 */

/** Shown by `--help` and after a usage error. */
export const DOCTOR_USAGE = `Usage: npm run doctor -- --url <worker> [options]

Checks a running deployment from outside: GET /healthz (configuration), GET /install (redirects
to LiveChat with PKCE), the admin API (refuses no token, answers ADMIN_TOKEN), and the webhooks
LiveChat has registered for the app's client id (they point at this URL, with the types,
actions and filters npm run setup registers). Changes nothing.

Options:
  --url <url>            the Worker's public URL (required)
  --webhooks-url <url>   where LiveChat delivers the chat webhooks, when not --url (a proxy)
  --json                 print the checks as JSON on stdout
  -h, --help             this text

Environment:
  ADMIN_TOKEN                          the admin API's token (for a local URL also read from .dev.vars)
  LIVECHAT_PAT + LIVECHAT_ACCOUNT_ID   Personal Access Token (webhooks.configuration:rw), or
  LIVECHAT_TOKEN                       an OAuth access token of the app
  LIVECHAT_API_URL                     (else .dev.vars for a local URL, wrangler.toml, the default)`;

/** One check's outcome; `fix` says what to do when it did not pass. */
export interface DoctorCheck {
  name: "healthz" | "install" | "admin" | "webhooks";
  status: "ok" | "warn" | "fail";
  detail: string;
  fix?: string;
}

/** What {@link main} needs from its host: the same as setup's (arguments, environment, local files, output). */
export type DoctorIo = CliIo;

const TIMEOUT_MS = 10_000;
const DEFAULT_API_URL = "https://api.livechatinc.com";

/**
 * Run the checks; resolves with the exit code: 0 when none failed (warnings allowed), 1 otherwise.
 *
 * @example
 * process.exitCode = await main({ argv: ["--url", "https://edge.example.com"], env: process.env, stdout: console.log, stderr: console.error });
 */
export async function main(io: DoctorIo): Promise<number> {
  const parsed = parseDoctorArgs(io.argv);
  if (!parsed.ok) {
    io.stderr(`doctor: ${parsed.error}`);
    io.stderr("Run `npm run doctor -- --help` for the options.");
    return 1;
  }
  const args = parsed.args;
  if (args.help) {
    io.stdout(DOCTOR_USAGE);
    return 0;
  }
  const url = args.url.replace(/\/+$/, "");
  const local = isLoopback(url);
  // .dev.vars holds local-only values: they describe a Worker on this machine, never a deployed one.
  const layers: ConfigLayer[] = [{ name: "environment", values: io.env }];
  if (local && io.devVars !== undefined) layers.push({ name: ".dev.vars", values: parseDevVars(io.devVars) });
  const adminToken = lookup(layers, "ADMIN_TOKEN")?.value;
  if (io.wranglerToml !== undefined) layers.push({ name: "wrangler.toml [vars]", values: parseWranglerVars(io.wranglerToml) });
  const apiUrl = (lookup(layers, "LIVECHAT_API_URL")?.value ?? DEFAULT_API_URL).replace(/\/+$/, "");
  const credentialProblems: string[] = [];
  const credentials = resolveCredentials(io.env, credentialProblems);
  const scrub = scrubber([...(adminToken ? [adminToken] : []), ...(credentials ? secretsOf(credentials) : [])]);
  const out = (line: string) => io.stdout(scrub(line));

  const checks: DoctorCheck[] = [];
  const health = await checkHealth(url);
  checks.push(health.check);
  const install = await checkInstall(url);
  checks.push(install.check);
  checks.push(await checkAdmin(url, adminToken));
  checks.push(
    await checkWebhooks({
      url: (args.webhooksUrl ?? url).replace(/\/+$/, ""),
      clientId: install.clientId,
      version: health.apiVersion ?? "3.6",
      apiUrl,
      credentials,
      credentialProblems,
      botWebhookType: lookup(layers, "BOT_WEBHOOK_TYPE")?.value === "license" ? "license" : "bot",
      http: io.http,
    }),
  );

  if (args.json) out(JSON.stringify({ ok: checks.every((c) => c.status !== "fail"), url, checks }));
  else {
    out(`Checking ${url}`);
    for (const check of checks) {
      out(`  ${check.status === "ok" ? "✓" : check.status === "warn" ? "!" : "✗"} ${check.name.padEnd(8)} ${check.detail}`);
      if (check.fix && check.status !== "ok") out(`             → ${check.fix}`);
    }
    const failed = checks.filter((c) => c.status === "fail").length;
    out(failed ? `${failed} of ${checks.length} checks failed.` : `All ${checks.length} checks passed.`);
  }
  return checks.some((c) => c.status === "fail") ? 1 : 0;
}

/** Parsed command line of {@link main}. */
export interface DoctorArgs {
  url: string;
  webhooksUrl?: string;
  json: boolean;
  help: boolean;
}

/** Parse the command line; `--url` is required (unless `--help`), unknown options are errors. */
export function parseDoctorArgs(argv: readonly string[]): { ok: true; args: DoctorArgs } | { ok: false; error: string } {
  const args: DoctorArgs = { url: "", json: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].startsWith("--") && argv[i].includes("=") ? [argv[i].slice(0, argv[i].indexOf("=")), argv[i].slice(argv[i].indexOf("=") + 1)] : [argv[i], undefined];
    if (flag === "--json" || flag === "--help" || flag === "-h") {
      if (inline !== undefined) return { ok: false, error: `${flag} takes no value` };
      if (flag === "--json") args.json = true;
      else args.help = true;
    } else if (flag === "--url" || flag === "--webhooks-url") {
      const value = inline ?? (argv[i + 1]?.startsWith("--") ? undefined : argv[++i]);
      if (!value || !isBaseUrl(value)) return { ok: false, error: `${flag} needs an absolute http(s) URL` };
      if (flag === "--url") args.url = value.trim();
      else args.webhooksUrl = value.trim();
    } else {
      return { ok: false, error: `unknown argument ${JSON.stringify(argv[i])}` };
    }
  }
  if (!args.help && !args.url) return { ok: false, error: "--url <worker> is required" };
  return { ok: true, args };
}

/** `GET /healthz`: 200 `{ok: true}`, or the configuration problems it names. */
async function checkHealth(url: string): Promise<{ check: DoctorCheck; apiVersion?: string }> {
  const res = await get(`${url}/healthz`);
  if ("error" in res) return { check: { name: "healthz", status: "fail", detail: `GET /healthz: ${res.error}`, fix: "is the URL right and the Worker deployed?" } };
  const body = res.json as { ok?: boolean; service?: string; apiVersion?: string; problems?: { name?: string; problem?: string }[]; warnings?: unknown[] } | undefined;
  if (body?.service !== "livechat-edge") {
    return { check: { name: "healthz", status: "fail", detail: `GET /healthz → ${res.status}, not livechat-edge's answer`, fix: "is the URL right?" } };
  }
  if (res.status !== 200 || body.ok !== true) {
    const problems = (body.problems ?? []).map((p) => p.problem ?? p.name).filter(Boolean);
    return {
      check: {
        name: "healthz",
        status: "fail",
        detail: `GET /healthz → ${res.status}: ${problems.length ? problems.join("; ") : "not configured"}`,
        fix: "npm run deploy -- --check names the missing secrets and vars",
      },
    };
  }
  // Accepted but weak values (e.g. a short webhook secret) are named as warnings, never shown.
  const warnings = (body.warnings ?? []).map((w) =>
    typeof w === "string" ? w : ((w as { problem?: string; name?: string })?.problem ?? (w as { name?: string })?.name ?? JSON.stringify(w)),
  );
  const detail = `configured (LiveChat API v${body.apiVersion ?? "?"})${warnings.length ? `; ${warnings.join("; ")}` : ""}`;
  return { check: { name: "healthz", status: warnings.length ? "warn" : "ok", detail }, apiVersion: body.apiVersion };
}

/**
 * `GET /install`: a redirect to LiveChat's authorize page for an authorization code with a PKCE
 * S256 challenge and a state, whose redirect_uri is this URL's /install (docs/LIVECHAT.md §6.1, §7).
 */
async function checkInstall(url: string): Promise<{ check: DoctorCheck; clientId?: string }> {
  const res = await get(`${url}/install`);
  const fail = (detail: string, fix?: string) => ({ check: { name: "install" as const, status: "fail" as const, detail, fix } });
  if ("error" in res) return fail(`GET /install: ${res.error}`);
  if (res.status !== 302 && res.status !== 303) return fail(`GET /install → ${res.status}, not a redirect to LiveChat`);
  let location: URL;
  try {
    location = new URL(res.location ?? "");
  } catch {
    return fail(`GET /install → ${res.status} without a usable Location`);
  }
  const q = location.searchParams;
  const clientId = q.get("client_id") ?? "";
  const missing: string[] = [];
  if (q.get("response_type") !== "code") missing.push("response_type=code");
  if (!clientId) missing.push("client_id");
  if (!q.get("state")) missing.push("state");
  if (!/^[A-Za-z0-9_-]{43}$/.test(q.get("code_challenge") ?? "")) missing.push("a PKCE code_challenge");
  if (q.get("code_challenge_method") !== "S256") missing.push("code_challenge_method=S256");
  if (missing.length) return fail(`GET /install redirects to ${location.origin} without ${missing.join(", ")}`);
  const redirectUri = q.get("redirect_uri") ?? "";
  if (redirectUri !== `${url}/install`) {
    return {
      check: {
        name: "install",
        status: "fail",
        detail: `LiveChat would send installs back to ${redirectUri || "(no redirect_uri)"}, not ${url}/install`,
        fix: `set PUBLIC_URL = "${url}" under [vars] in wrangler.toml and deploy again`,
      },
      clientId,
    };
  }
  return {
    check: { name: "install", status: "ok", detail: `redirects to ${location.origin} for client ${clientId} with PKCE (S256), back to ${redirectUri}` },
    clientId,
  };
}

/** The admin API refuses a request without the token and answers one with it. */
async function checkAdmin(url: string, adminToken: string | undefined): Promise<DoctorCheck> {
  const path = "/admin/api/licenses?limit=1";
  const anonymous = await get(`${url}${path}`);
  if ("error" in anonymous) return { name: "admin", status: "fail", detail: `GET ${path}: ${anonymous.error}` };
  if (anonymous.status !== 401) return { name: "admin", status: "fail", detail: `GET ${path} without a token → ${anonymous.status}, expected 401` };
  if (!adminToken) {
    return { name: "admin", status: "fail", detail: "refuses a request without a token; not checked with one", fix: "set ADMIN_TOKEN in the environment" };
  }
  const res = await get(`${url}${path}`, { authorization: `Bearer ${adminToken}` });
  if ("error" in res) return { name: "admin", status: "fail", detail: `GET ${path}: ${res.error}` };
  const body = res.json as { licenses?: unknown[] } | undefined;
  if (res.status !== 200 || !Array.isArray(body?.licenses)) {
    return {
      name: "admin",
      status: "fail",
      detail: `GET ${path} with ADMIN_TOKEN → ${res.status}`,
      fix: res.status === 401 ? "ADMIN_TOKEN is not the Worker's (npx wrangler secret put ADMIN_TOKEN sets it)" : undefined,
    };
  }
  return { name: "admin", status: "ok", detail: "refuses a request without a token, answers ADMIN_TOKEN" };
}

/** Inputs of {@link checkWebhooks}. */
interface WebhookCheckInputs {
  url: string;
  clientId: string | undefined;
  version: string;
  apiUrl: string;
  credentials: Credentials | undefined;
  credentialProblems: string[];
  /** BOT_WEBHOOK_TYPE of the deployment: the bot's behaviours as bot or license webhooks. */
  botWebhookType: "bot" | "license";
  http?: HttpClient;
}

/** The webhooks registered for the client id are the declared ones, at this URL (setup's plan has nothing to do). */
async function checkWebhooks(inputs: WebhookCheckInputs): Promise<DoctorCheck> {
  const fail = (detail: string, fix?: string): DoctorCheck => ({ name: "webhooks", status: "fail", detail, fix });
  if (!inputs.clientId) return fail("not checked: the client id comes from /install's redirect, which failed");
  if (!inputs.credentials) return fail(`not checked: ${inputs.credentialProblems.join("; ")}`);
  const api = new ConfigurationApi({
    apiUrl: inputs.apiUrl,
    version: inputs.version,
    credentials: inputs.credentials,
    http: inputs.http ?? new HttpClient(),
  });
  let existing;
  try {
    existing = await api.listWebhooks({ owner_client_id: inputs.clientId });
  } catch (err) {
    const reason = err instanceof LiveChatError ? `${err.type}${err.status ? ` (HTTP ${err.status})` : ""}` : String(err);
    return fail(`list_webhooks failed: ${reason}`, "check LIVECHAT_PAT / LIVECHAT_ACCOUNT_ID (scope webhooks.configuration:rw) and LIVECHAT_API_URL");
  }
  const plan = planWebhooks(appWebhooks(inputs.botWebhookType), existing, { url: inputs.url, ownerClientId: inputs.clientId });
  const setup = `npm run setup -- --url ${inputs.url}`;
  const where = `${inputs.url}/webhooks/{license,bot}`;
  if (plan.add.length || plan.remove.length) {
    const parts = [];
    if (plan.add.length) parts.push(`missing: ${plan.add.map((w) => `${w.type} ${w.action}`).join(", ")}`);
    if (plan.remove.length) parts.push(`not declared: ${plan.remove.map((w) => `${w.type ?? "?"} ${w.action}`).join(", ")}`);
    if (plan.elsewhere.length) parts.push(`${plan.elsewhere.length} at other URLs (${[...new Set(plan.elsewhere.map((w) => w.url))].join(", ")})`);
    return fail(`client ${inputs.clientId} at ${where}: ${parts.join("; ")}`, setup);
  }
  const elsewhere = plan.elsewhere.length ? `; ${plan.elsewhere.length} more at other URLs (another deployment?)` : "";
  return {
    name: "webhooks",
    status: plan.elsewhere.length ? "warn" : "ok",
    detail: `${plan.keep.length} registered for client ${inputs.clientId} at ${where}, as declared${elsewhere}`,
    fix: plan.elsewhere.length ? `${setup} --prune-all removes those` : undefined,
  };
}

/** A GET without following redirects; network failures and timeouts come back as `error`. */
async function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; location?: string; json?: unknown } | { error: string }> {
  try {
    const res = await fetch(url, { headers, redirect: "manual", signal: AbortSignal.timeout(TIMEOUT_MS) });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, location: res.headers.get("location") ?? undefined, json };
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/** An absolute http(s) URL without query or fragment: a base for paths. */
function isBaseUrl(value: string): boolean {
  return isHttpUrl(value) && !new URL(value).search && !new URL(value).hash;
}
