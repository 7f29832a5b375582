import type { ConfigurationApi } from "../livechat/configuration";
import { LiveChatError } from "../livechat/errors";
import type { Webhook, WebhookName } from "../livechat/schemas/configuration";
import { appWebhooks, type DesiredWebhook, type WebhookType } from "./declaration";
import { planWebhooks, webhookUrl, type WebhookPlan } from "./plan";

/**
 * `npm run setup`: bring the webhooks registered for the app's client id in line with the
 * declaration (`declaration.ts`), through the Configuration API (docs/LIVECHAT.md §3.2).
 */

/** `description` of every webhook the setup registers, before the secret's mark. */
export const WEBHOOK_DESCRIPTION = "livechat-edge";

/**
 * A short fingerprint of the webhook secret (8 hex digits of a SHA-256), put in each registration's
 * description: `list_webhooks` never returns `secret_key` (docs/LIVECHAT.md §3.2), so this is how a
 * later run sees that the registrations were made with another secret. It names no secret.
 */
export async function secretMark(secret: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(`livechat-edge webhook secret\n${secret}`));
  return [...new Uint8Array(digest).slice(0, 4)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The description of a registration made with `secret`. */
export async function webhookDescription(secret: string): Promise<string> {
  return `${WEBHOOK_DESCRIPTION} secret:${await secretMark(secret)}`;
}

/** The Configuration API methods the setup calls. */
export type SetupApi = Pick<ConfigurationApi, "listWebhookNames" | "listWebhooks" | "registerWebhook" | "unregisterWebhook">;

/** Inputs of {@link runSetup}. */
export interface SetupOptions {
  api: SetupApi;
  /** The app's client id: `owner_client_id` of every call (docs/LIVECHAT.md §3.1). */
  clientId: string;
  /** `secret_key` of new registrations (LIVECHAT_WEBHOOK_SECRET); never printed. */
  secret: string;
  /** The Worker's public base URL (PUBLIC_URL). */
  url: string;
  /** API version whose `list_webhook_names` the actions are checked against, e.g. "3.6". */
  version: string;
  /** Defaults to the app's declaration ({@link appWebhooks}). */
  desired?: readonly DesiredWebhook[];
  /** Plan and print, change nothing (only the two list endpoints are called). */
  dryRun?: boolean;
  /** Also remove this client id's registrations at other urls. */
  pruneAll?: boolean;
  /** Re-register every desired webhook (e.g. after rotating LIVECHAT_WEBHOOK_SECRET), then remove the old ones. */
  replace?: boolean;
  /** Where the readable plan and progress go, one line per call. */
  log?: (line: string) => void;
}

/** One registration the run made or removed. */
export interface AppliedChange {
  id: string;
  action: string;
  type: string;
  url: string;
}

/** What {@link runSetup} found and did. */
export interface SetupReport {
  version: string;
  ownerClientId: string;
  urls: Record<WebhookType, string>;
  dryRun: boolean;
  desired: DesiredWebhook[];
  plan: WebhookPlan;
  registered: AppliedChange[];
  unregistered: AppliedChange[];
  /** True when the run registered or removed anything. */
  changed: boolean;
}

/**
 * A setup that cannot go on: invalid input, an action or filter the API version does not know,
 * the per-action limit, or a failed call. `problems` name each reason; `report` holds what was
 * planned and done until then (nothing is removed once a registration failed).
 */
export class SetupError extends Error {
  constructor(
    readonly problems: string[],
    readonly report?: SetupReport,
  ) {
    super(problems.join("\n"));
    this.name = "SetupError";
  }
}

/**
 * Register the declared webhooks: 1) `list_webhook_names` for `version`: every desired action
 * must exist there and each filter and `additional_data` key be allowed for its action
 * (docs/LIVECHAT.md §2.1–§2.2), otherwise fail before any change; 2) `list_webhooks` of the client id;
 * 3) {@link planWebhooks}; 4) unless `dryRun`, register what is missing, and only then
 * unregister what is stale, so no action is ever left without its webhook. A second run plans
 * nothing.
 *
 * @example
 * const api = new ConfigurationApi({ apiUrl, version: "3.6", credentials: { kind: "basic", accountId, token: pat } });
 * const report = await runSetup({ api, clientId, secret, url: "https://edge.example.com", version: "3.6", log: console.log });
 */
export async function runSetup(options: SetupOptions): Promise<SetupReport> {
  const log = options.log ?? (() => {});
  const inputProblems = checkInputs(options);
  if (inputProblems.length) throw new SetupError(inputProblems);

  const { api, clientId, version } = options;
  const desired = [...(options.desired ?? appWebhooks())];
  const urls = { license: webhookUrl(options.url, "license"), bot: webhookUrl(options.url, "bot") };

  const names = await call("list_webhook_names", () => api.listWebhookNames({ version }));
  const nameProblems = checkAgainstNames(desired, names, version);
  if (nameProblems.length) throw new SetupError(nameProblems);

  const existing = await call("list_webhooks", () => api.listWebhooks({ owner_client_id: clientId }));
  const mark = await secretMark(options.secret);
  const plan = planWebhooks(desired, existing, {
    url: options.url,
    ownerClientId: clientId,
    pruneAll: options.pruneAll,
    replace: options.replace,
    secretMark: mark,
  });
  const report: SetupReport = {
    version,
    ownerClientId: clientId,
    urls,
    dryRun: Boolean(options.dryRun),
    desired,
    plan,
    registered: [],
    unregistered: [],
    changed: false,
  };
  for (const line of describePlan(report)) log(line);
  if (plan.problems.length) throw new SetupError(plan.problems, report);
  if (options.dryRun) {
    log("Dry run: nothing changed.");
    return report;
  }

  // Add first: an action is never without its webhook while the old registration is replaced.
  for (const want of plan.add) {
    const url = urls[want.type];
    let id: string;
    try {
      ({ id } = await api.registerWebhook({
        url,
        action: want.action,
        secret_key: options.secret,
        owner_client_id: clientId,
        type: want.type,
        description: `${WEBHOOK_DESCRIPTION} secret:${mark}`,
        ...(want.filters && Object.keys(want.filters).length ? { filters: want.filters } : {}),
        ...(want.additional_data?.length ? { additional_data: want.additional_data } : {}),
      }));
    } catch (err) {
      report.changed = report.registered.length > 0;
      throw new SetupError(
        [`register_webhook ${want.type} ${want.action} failed: ${describeError(err)}. Nothing was removed; run setup again to continue.`],
        report,
      );
    }
    report.registered.push({ id, action: want.action, type: want.type, url });
    report.changed = true;
    log(`registered    ${want.type.padEnd(7)} ${want.action} → ${id}`);
  }

  for (const hook of plan.remove) {
    try {
      await api.unregisterWebhook({ id: hook.id, owner_client_id: clientId });
    } catch (err) {
      // Already gone (another run, or removed by hand): the desired state holds.
      if (err instanceof LiveChatError && err.type === "not_found") {
        log(`already gone  ${(hook.type ?? "?").padEnd(7)} ${hook.action} (${hook.id})`);
        continue;
      }
      throw new SetupError([`unregister_webhook ${hook.id} (${hook.action}) failed: ${describeError(err)}. Run setup again to finish.`], report);
    }
    report.unregistered.push({ id: hook.id, action: hook.action, type: hook.type ?? "?", url: hook.url });
    report.changed = true;
    log(`unregistered  ${(hook.type ?? "?").padEnd(7)} ${hook.action} (${hook.id})`);
  }

  log(
    report.changed
      ? `Done: ${report.registered.length} registered, ${report.unregistered.length} unregistered. LiveChat applies changes within about 2 minutes (docs/LIVECHAT.md §1.4).`
      : "Done: nothing to change.",
  );
  return report;
}

/**
 * Problems of `desired` for an API version, from its `list_webhook_names` answer (docs/LIVECHAT.md
 * §2.1–§2.2, §3.2): actions it does not know, filters not allowed for the action, and
 * `additional_data` the action does not offer. `source_type` is allowed on every action
 * (docs/LIVECHAT.md §2.2, since v3.4) even where the answer does not list it (its CP sample omits it).
 */
export function checkAgainstNames(desired: readonly DesiredWebhook[], names: readonly WebhookName[], version: string): string[] {
  const byAction = new Map(names.map((n) => [n.action, n]));
  const problems: string[] = [];
  for (const want of desired) {
    const name = byAction.get(want.action);
    if (!name) {
      problems.push(`${want.action} (${want.type} webhook): API v${version} has no such webhook action (list_webhook_names)`);
      continue;
    }
    const allowed = new Set([...(name.filters ?? []), "source_type"]);
    for (const filter of Object.keys(want.filters ?? {})) {
      if (!allowed.has(filter)) {
        problems.push(
          `${want.action} (${want.type} webhook): filter "${filter}" is not allowed in API v${version} ` +
            `(allowed: ${[...allowed].join(", ")})`,
        );
      }
    }
    const offered = new Set(name.additional_data ?? []);
    for (const data of want.additional_data ?? []) {
      if (!offered.has(data)) {
        problems.push(
          `${want.action} (${want.type} webhook): additional_data "${data}" is not offered in API v${version} ` +
            `(offered: ${offered.size ? [...offered].join(", ") : "none"})`,
        );
      }
    }
  }
  return problems;
}

/** The readable plan, one line each (no secret: bodies are never printed). */
export function describePlan(report: SetupReport): string[] {
  const { plan } = report;
  const lines = [
    `LiveChat webhooks of client ${report.ownerClientId}, API v${report.version}${report.dryRun ? " (dry run)" : ""}`,
    `  license → ${report.urls.license}`,
    `  bot     → ${report.urls.bot}`,
    `Plan: ${plan.add.length} to add, ${plan.remove.length} to remove, ${plan.keep.length} unchanged` +
      (plan.elsewhere.length ? `, ${plan.elsewhere.length} at other urls left alone` : ""),
  ];
  for (const want of plan.add) lines.push(`  + ${want.type.padEnd(7)} ${want.action}${settingsText(want)}`);
  for (const hook of plan.remove) lines.push(`  - ${(hook.type ?? "?").padEnd(7)} ${hook.action}${settingsText(hook)}  id=${hook.id} url=${hook.url}`);
  for (const hook of plan.keep) lines.push(`  = ${(hook.type ?? "?").padEnd(7)} ${hook.action}${settingsText(hook)}  id=${hook.id}`);
  for (const hook of plan.elsewhere) {
    lines.push(`  · ${(hook.type ?? "?").padEnd(7)} ${hook.action}  id=${hook.id} url=${hook.url} (other url; --prune-all removes it)`);
  }
  if (plan.otherSecret) {
    lines.push(`  (${plan.otherSecret} registered with another LIVECHAT_WEBHOOK_SECRET: LiveChat would send that one, so they are replaced)`);
  }
  for (const problem of plan.problems) lines.push(`  ! ${problem}`);
  return lines;
}

function settingsText(w: Pick<Webhook, "filters" | "additional_data">): string {
  let text = "";
  if (w.filters && Object.keys(w.filters).length) text += `  filters=${JSON.stringify(w.filters)}`;
  if (w.additional_data?.length) text += `  additional_data=${w.additional_data.join(",")}`;
  return text;
}

function checkInputs(options: SetupOptions): string[] {
  const problems: string[] = [];
  if (!options.clientId?.trim()) problems.push("the client id (LIVECHAT_CLIENT_ID) is empty");
  if (!options.secret?.trim()) problems.push("the webhook secret (LIVECHAT_WEBHOOK_SECRET) is empty");
  if (!/^\d+\.\d+$/.test(options.version?.trim() ?? "")) problems.push(`the API version must look like 3.6`);
  let url: URL | undefined;
  try {
    url = new URL(options.url);
  } catch {
    /* reported below */
  }
  if (!url || (url.protocol !== "https:" && url.protocol !== "http:")) {
    problems.push("the public URL (PUBLIC_URL or --url) must be an absolute http(s) URL");
  } else if (url.search || url.hash) {
    problems.push("the public URL (PUBLIC_URL or --url) must not carry a query or fragment");
  } else if (webhookUrl(options.url, "license").length > 500) {
    problems.push("webhook URLs are limited to 500 characters (docs/LIVECHAT.md §2.2)");
  }
  return problems;
}

async function call<T>(method: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw new SetupError([`${method} failed: ${describeError(err)}`]);
  }
}

function describeError(err: unknown): string {
  if (err instanceof LiveChatError) return `${err.type}${err.status ? ` (HTTP ${err.status})` : ""}: ${err.detail}`;
  return err instanceof Error ? err.message : String(err);
}
