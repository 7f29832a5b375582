import { configNames, loadConfig, type ConfigName } from "../config";
import { parseWranglerVars } from "./sources";

/**
 * What `npm run deploy` (scripts/deploy.mjs) checks before `wrangler deploy`: every name the
 * Worker cannot run without has a value, secrets are secrets, and the vars that are set are
 * well-formed (src/config.ts decides all three). Pure: the script hands in what wrangler said.
 */

/** One reason not to deploy yet, with the command or edit that fixes it. */
export interface DeployProblem {
  name: string;
  problem: string;
  fix: string;
}

/** What is known about the deployment's configuration. */
export interface DeployInputs {
  /** Text of wrangler.toml (its `[vars]` are read). */
  wranglerToml: string;
  /** Names `wrangler secret list` reports for the Worker (none before its first deploy). */
  secrets: readonly string[];
  /** Defaults to {@link configNames}. */
  names?: readonly ConfigName[];
}

/** Where each value comes from, for the fix line. */
const HINTS: Record<string, string> = {
  LIVECHAT_CLIENT_ID: "your app's Client ID (Developer Console → your app → App Authorization)",
  LIVECHAT_CLIENT_SECRET: "paste your app's Client Secret (Developer Console → your app → App Authorization)",
  LIVECHAT_WEBHOOK_SECRET: "a random value you keep (e.g. `openssl rand -base64 32`): `npm run setup` registers the webhooks with it",
  ADMIN_TOKEN: "a random value you keep (e.g. `openssl rand -base64 32`): the admin API's bearer token",
};

/** Secrets nobody needs to know: generated straight into wrangler. */
const GENERATED: Record<string, string> = {
  TOKEN_ENCRYPTION_KEY: "openssl rand -base64 32 | npx wrangler secret put TOKEN_ENCRYPTION_KEY",
};

/**
 * Every reason the Worker would not run once deployed, in configuration order; empty when it can
 * be deployed. Never includes a value.
 *
 * @example
 * deployProblems({ wranglerToml: '[vars]\nLIVECHAT_CLIENT_ID = "abc"\n', secrets: ["ADMIN_TOKEN"] });
 * // [{ name: "LIVECHAT_CLIENT_SECRET", problem: "is not set", fix: "npx wrangler secret put LIVECHAT_CLIENT_SECRET  # paste …" }, …]
 */
export function deployProblems(inputs: DeployInputs): DeployProblem[] {
  const names = inputs.names ?? configNames();
  const vars = parseWranglerVars(inputs.wranglerToml);
  const secrets = new Set(inputs.secrets);
  const hasVar = (name: string) => (vars[name] ?? "").trim() !== "";
  const problems: DeployProblem[] = [];
  for (const { name, required, secret } of names) {
    if (secret && hasVar(name)) {
      problems.push({
        name,
        problem: "is a secret but set under [vars] in wrangler.toml, which is committed",
        fix: `delete it from wrangler.toml, then: npx wrangler secret put ${name}`,
      });
    } else if (required && secret && !secrets.has(name)) {
      problems.push({ name, problem: "is not set (wrangler secret list)", fix: secretFix(name) });
    } else if (required && !secret && !hasVar(name) && !secrets.has(name)) {
      const hint = HINTS[name] ? `  # ${HINTS[name]}` : "";
      problems.push({ name, problem: "has no value", fix: `set ${name} = "…" under [vars] in wrangler.toml${hint}` });
    }
  }
  // The vars that are set must also be well-formed; secrets are checked by the Worker (/healthz).
  const parsed = loadConfig({ ...vars });
  if (!parsed.ok) {
    for (const { name, problem } of parsed.problems) {
      if (!hasVar(name) || problems.some((p) => p.name === name)) continue;
      problems.push({ name, problem: problem.startsWith(name) ? problem.slice(name.length).trim() : problem, fix: `correct ${name} under [vars] in wrangler.toml` });
    }
  }
  return problems;
}

function secretFix(name: string): string {
  if (GENERATED[name]) return GENERATED[name];
  return `npx wrangler secret put ${name}${HINTS[name] ? `  # ${HINTS[name]}` : ""}`;
}

/** The three URLs to paste into the Developer Console (docs/LIVECHAT.md §7), from the Worker's public URL. */
export function consoleUrls(workerUrl: string): { directInstall: string; redirectUri: string; appWebhooks: string } {
  const base = workerUrl.trim().replace(/\/+$/, "");
  return { directInstall: `${base}/install`, redirectUri: `${base}/install`, appWebhooks: `${base}/webhooks/app` };
}

/**
 * The Worker's URL from `wrangler deploy`'s output: the first https URL it printed after
 * deploying (the workers.dev address, or a route's), undefined when none was printed.
 */
export function deployedUrl(output: string): string | undefined {
  const after = output.slice(Math.max(0, output.search(/^Deployed /m)));
  return /https:\/\/[^\s"'`]+/.exec(after)?.[0]?.replace(/\/+$/, "");
}

/** The Worker's public URL as configured (`PUBLIC_URL` under [vars]), if set. */
export function configuredUrl(wranglerToml: string): string | undefined {
  return parseWranglerVars(wranglerToml).PUBLIC_URL?.trim().replace(/\/+$/, "") || undefined;
}
