import type { Webhook } from "../livechat/schemas/configuration";
import type { DesiredWebhook, WebhookType } from "./declaration";

/**
 * The diff between the webhooks the app declares and those registered for its client id
 * (`list_webhooks`, docs/LIVECHAT.md §3.2). Pure: no I/O.
 */

/** LiveChat's cap: "a Client ID may register at most 3 webhooks per action" (docs/LIVECHAT.md §1.1). */
export const MAX_WEBHOOKS_PER_ACTION = 3;

/** Inputs of {@link planWebhooks} besides the two lists. */
export interface PlanOptions {
  /** The Worker's public base URL (`PUBLIC_URL`); webhooks go to `<url>/webhooks/license|bot`. */
  url: string;
  /** `owner_client_id` of the registrations (the app's client id). */
  ownerClientId: string;
  /** Also remove registrations of this client id at other urls (other deployments). */
  pruneAll?: boolean;
  /**
   * Re-register every desired webhook even when an identical one exists (then remove the old
   * ones): `list_webhooks` does not return `secret_key`, so this is how a new
   * LIVECHAT_WEBHOOK_SECRET reaches LiveChat.
   */
  replace?: boolean;
  /**
   * {@link secretMark} of the current webhook secret. A registration of ours whose description
   * carries another mark was registered with another secret: it is replaced, since LiveChat would
   * send that old secret in every body. One without a mark (registered by hand) is not judged.
   */
  secretMark?: string;
}

/** What to do: register `add` first, then unregister `remove`; `keep` and `elsewhere` stay. */
export interface WebhookPlan {
  add: DesiredWebhook[];
  remove: Webhook[];
  /** Registered webhooks that match a desired one. */
  keep: Webhook[];
  /** Registrations of the client id at other urls, left alone (without `pruneAll`). */
  elsewhere: Webhook[];
  /** Reasons the plan cannot be carried out (the per-action limit); empty when it can. */
  problems: string[];
  /** Registrations in `remove` that carry another secret's mark (see {@link PlanOptions.secretMark}). */
  otherSecret: number;
}

/** The mark a description carries (`… secret:<8 hex>`), or undefined. */
export function markOf(description: string | undefined): string | undefined {
  return /(?:^|\s)secret:([0-9a-f]{8})(?:\s|$)/.exec(description ?? "")?.[1];
}

/**
 * Where webhooks of `type` are delivered: `<url>/webhooks/license` or `<url>/webhooks/bot`
 * (docs/ARCHITECTURE.md "Routes").
 *
 * @example
 * webhookUrl("https://edge.example.com/", "bot"); // "https://edge.example.com/webhooks/bot"
 */
export function webhookUrl(url: string, type: WebhookType): string {
  return `${url.trim().replace(/\/+$/, "")}/webhooks/${type}`;
}

/**
 * Plan the registration of `desired` against `existing` (the `list_webhooks` answer).
 *
 * A registered webhook matches a desired one when action, type, url, filters and
 * additional_data are equal (deep, key- and array-order-insensitive; an absent `filters` or
 * `additional_data` equals an empty one). `secret_key` cannot be compared: `list_webhooks`
 * does not return it (docs/LIVECHAT.md §3.2; sample `configuration.v3.6.list_webhooks.response`).
 * Each registration matches at most one desired webhook, so duplicates of ours are removed.
 *
 * Stale (removed) = ours, at one of our two urls, matching nothing desired; with `pruneAll`, any
 * url. Registrations elsewhere are never touched otherwise. Adding first (then removing) must
 * not exceed {@link MAX_WEBHOOKS_PER_ACTION}; when it would, `problems` says so.
 *
 * @example
 * const plan = planWebhooks(desired, await api.listWebhooks({ owner_client_id }), { url, ownerClientId });
 * if (plan.problems.length) throw new Error(plan.problems.join("\n"));
 */
export function planWebhooks(desired: readonly DesiredWebhook[], existing: readonly Webhook[], options: PlanOptions): WebhookPlan {
  const ours = new Set([normalizeUrl(webhookUrl(options.url, "license")), normalizeUrl(webhookUrl(options.url, "bot"))]);
  const mine = existing.filter((w) => w.owner_client_id === undefined || w.owner_client_id === options.ownerClientId);
  const matched = new Set<Webhook>();
  const staleSecret = (w: Webhook) => options.secretMark !== undefined && (markOf(w.description) ?? options.secretMark) !== options.secretMark;
  const add: DesiredWebhook[] = [];
  const keep: Webhook[] = [];

  for (const want of dedupe(desired)) {
    const target = normalizeUrl(webhookUrl(options.url, want.type));
    const hit = options.replace
      ? undefined
      : mine.find((w) => !matched.has(w) && normalizeUrl(w.url) === target && matches(want, w) && !staleSecret(w));
    if (hit) {
      matched.add(hit);
      keep.push(hit);
    } else {
      add.push(want);
    }
  }

  const remove: Webhook[] = [];
  const elsewhere: Webhook[] = [];
  for (const hook of mine) {
    if (matched.has(hook)) continue;
    if (options.pruneAll || ours.has(normalizeUrl(hook.url))) remove.push(hook);
    else elsewhere.push(hook);
  }

  const otherSecret = remove.filter(staleSecret).length;
  return { add, remove, keep, elsewhere, problems: limitProblems(existing, add), otherSecret };
}

/** True when a registered webhook is registered as `want` says (url aside). */
export function matches(want: DesiredWebhook, hook: Webhook): boolean {
  return (
    hook.action === want.action &&
    hook.type === want.type &&
    canonical(hook.filters ?? {}) === canonical(want.filters ?? {}) &&
    canonical(hook.additional_data ?? []) === canonical(want.additional_data ?? [])
  );
}

/** Adds come before removes, so every action's count after adding must stay within the limit. */
function limitProblems(existing: readonly Webhook[], add: readonly DesiredWebhook[]): string[] {
  const problems: string[] = [];
  const actions = [...new Set(add.map((d) => d.action))];
  for (const action of actions) {
    const registered = existing.filter((w) => w.action === action);
    const adding = add.filter((d) => d.action === action).length;
    if (registered.length + adding <= MAX_WEBHOOKS_PER_ACTION) continue;
    const list = registered.map((w) => `${w.id} (${w.type ?? "?"} → ${w.url})`).join(", ");
    problems.push(
      `${action}: ${registered.length} registered + ${adding} to add exceeds LiveChat's limit of ` +
        `${MAX_WEBHOOKS_PER_ACTION} webhooks per action per Client ID (docs/LIVECHAT.md §1.1); new ones are ` +
        `registered before old ones are removed, so free a slot first (registered: ${list}; ` +
        `--prune-all removes those at other urls)`,
    );
  }
  return problems;
}

/** One entry per action and type (the first wins). */
function dedupe(desired: readonly DesiredWebhook[]): DesiredWebhook[] {
  const seen = new Set<string>();
  return desired.filter((d) => {
    const id = `${d.type}:${d.action}:${canonical(d.filters ?? {})}:${canonical(d.additional_data ?? [])}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

/** URL compared by WHATWG normal form (host case, default port, trailing slash of the path). */
function normalizeUrl(url: string): string {
  try {
    const parsed = new URL(url.trim());
    parsed.pathname = parsed.pathname.replace(/\/+$/, "") || "/";
    return parsed.href;
  } catch {
    return url.trim();
  }
}

/**
 * Canonical JSON for comparison: object keys sorted, `undefined`/`null` members and members
 * that end up empty objects dropped, arrays sorted by their elements' canonical form.
 */
function canonical(value: unknown): string {
  return JSON.stringify(normalize(value)) ?? "null";
}

function normalize(value: unknown): unknown {
  if (Array.isArray(value)) {
    return value.map(normalize).sort((a, b) => {
      const x = JSON.stringify(a);
      const y = JSON.stringify(b);
      return x < y ? -1 : x > y ? 1 : 0;
    });
  }
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) {
      const v = normalize((value as Record<string, unknown>)[k]);
      if (v === undefined || v === null) continue;
      if (typeof v === "object" && !Array.isArray(v) && Object.keys(v as object).length === 0) continue;
      out[k] = v;
    }
    return out;
  }
  return value;
}
