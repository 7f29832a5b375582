import { chatStub } from "../../chats/stub";
import { DEAD_LETTER_TTL_MS } from "../../deliveries/inbox";
import type { RerunResult, StoredDelivery } from "../../deliveries/types";
import type { AppEventRecord } from "../../licenses/app-events";
import type { JournalEntry, JournalOutcome } from "../../licenses/journal";
import { licenseStub } from "../../licenses/stub";
import type { Config, ConfigProblem } from "../../config";
import { sealingKeys } from "../../licenses/crypto";
import { TokenStore } from "../../licenses/token-store";
import { redact } from "../../log";
import { isLicenseNumber } from "../../livechat/webhooks/schemas/common";
import type { StorageTotals } from "../../licenses/storage-totals";

/**
 * What the admin API and dashboard read and do, over the License and Chat DOs' RPC. One module
 * for both, so the JSON and the pages always show the same data.
 */

/** Outcomes an operator can filter deliveries on. */
export const OUTCOMES: readonly JournalOutcome[] = ["pending", "parked", "processed", "duplicate", "skipped", "not_installed", "unprocessable", "dead", "retry"];

/** Identifiers accepted in admin paths (organization and chat ids, delivery ids). */
export const ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/;

/** True when every path segment after `/licenses/` is a well-formed identifier (or a route word). */
export function validIdSegments(path: string): boolean {
  const rest = path.slice(path.indexOf("/licenses/") + "/licenses/".length);
  return rest.split("/").every((segment) => {
    try {
      return ID_PATTERN.test(decodeURIComponent(segment));
    } catch {
      return false;
    }
  });
}

/**
 * The license's LiveChat license number, as the newest App Webhook that named one said
 * (`licenseID`, docs/LIVECHAT.md §7): the token and `/v2/info` answers carry only the
 * organization id (§6.2). App Webhooks are not signed, so it is shown, never trusted.
 */
export function licenseNumberOf(events: readonly Pick<AppEventRecord, "licenseId">[]): number | undefined {
  return events.find((e) => isLicenseNumber(e.licenseId))?.licenseId;
}

/** The overview row of one license. */
export interface LicenseRow {
  organizationId: string;
  /** LiveChat license number, when an App Webhook named it ({@link licenseNumberOf}). */
  licenseNumber?: number;
  installedAt: number;
  expiresAt: number;
  needsReinstall: boolean;
  /** Sealed with a key other than the current TOKEN_ENCRYPTION_KEY. */
  oldKey: boolean;
  bot: { id: string; name: string; routingStatus?: string } | null;
  lastReconcile: { at: number; drift: string[]; failed: number } | null;
  last24h: Partial<Record<JournalOutcome, number>>;
  /**
   * What the license stores, License DO and Chat DOs (src/licenses/storage-totals.ts): rows, bytes,
   * oldest item, next prune; the chats as last counted for its page (`partial` when not all were).
   */
  storage: StorageTotals;
}

/** One page of installed licenses (KV listing) with their bot, last reconcile and 24-hour counts. */
export async function listLicenses(
  env: Env,
  config: Config,
  options: { cursor?: string; limit?: number },
): Promise<{ licenses: LicenseRow[]; cursor?: string }> {
  const limit = Math.max(1, Math.min(100, options.limit ?? 50));
  const page = await new TokenStore(env.TOKENS, sealingKeys(config)).list({ cursor: options.cursor, limit });
  const licenses = await Promise.all(
    page.licenses.map(async (l): Promise<LicenseRow> => {
      const stub = licenseStub(env, l.organizationId);
      const [bot, history, hourly, appEvents, storage] = await Promise.all([
        stub.botInfo(),
        stub.reconcileHistory(),
        stub.journalHourly(24),
        stub.listAppEvents(),
        stub.storageReport(l.organizationId, { countChats: false }),
      ]);
      const last = history[0];
      const licenseNumber = licenseNumberOf(appEvents as unknown as AppEventRecord[]);
      return {
        ...l,
        ...(licenseNumber !== undefined ? { licenseNumber } : {}),
        bot: bot ? { id: bot.id, name: bot.name, ...(bot.routingStatus ? { routingStatus: bot.routingStatus } : {}) } : null,
        lastReconcile: last ? { at: last.at, drift: last.drift, failed: last.failed.length } : null,
        last24h: totals(hourly.map((h) => h.counts)),
        storage: storage.total,
      };
    }),
  );
  return { licenses, ...(page.cursor ? { cursor: page.cursor } : {}) };
}

/** What the overview tells an operator about the configuration itself. */
export interface ConfigurationNotes {
  /** Accepted but weak values, named (never shown): a short webhook secret. */
  warnings: ConfigProblem[];
  /**
   * While TOKEN_ENCRYPTION_KEY_PREVIOUS is set: licenses whose sealed values are still under a key
   * other than the current one (the cron seals them again; remove the previous key at 0).
   */
  keyRotation?: { remaining: number };
}

/** Weak configuration and, during a key rotation, how many licenses remain under the old key (every KV page). */
export async function configurationNotes(env: Env, config: Config): Promise<ConfigurationNotes> {
  const keys = sealingKeys(config);
  if (!keys.previous) return { warnings: config.warnings };
  return { warnings: config.warnings, keyRotation: { remaining: await new TokenStore(env.TOKENS, keys).countOldKey() } };
}

/** Everything about one license: installation, bot, settings, inbox, last reconcile, 24-hour chart, app events. */
export async function licenseDetail(env: Env, organizationId: string) {
  const stub = licenseStub(env, organizationId);
  const [installation, bot, settings, inbox, history, hourly, appEvents, journalSize, storage] = await Promise.all([
    stub.installation(),
    stub.botInfo(),
    stub.settings(),
    stub.inboxSummary(),
    stub.reconcileHistory(),
    stub.journalHourly(24),
    stub.listAppEvents(),
    stub.journalEntries({ limit: 1 }),
    stub.storageReport(organizationId),
  ]);
  return {
    organizationId,
    installation,
    bot,
    settings,
    inbox,
    lastReconcile: history[0] ?? null,
    hourly,
    // AppEventRecord's `payload` is typed `unknown`, which the RPC stub types cannot express.
    appEvents: (appEvents as unknown as AppEventRecord[]).slice(0, 10),
    licenseNumber: licenseNumberOf(appEvents as unknown as AppEventRecord[]),
    storage,
    known:
      installation.installed || installation.organizationId !== undefined || bot !== null || journalSize.length > 0 || storage.tombstone !== undefined,
  };
}

/** Recent deliveries of a license from its journal, newest first. */
export function listDeliveries(
  env: Env,
  organizationId: string,
  options: { limit?: number; outcome?: JournalOutcome; chatId?: string },
): Promise<JournalEntry[]> {
  return licenseStub(env, organizationId).journalEntries(options);
}

/** One delivery with its stored body (redacted), from the DO that owns it. */
export async function deliveryDetail(
  env: Env,
  organizationId: string,
  deliveryId: string,
  chatId?: string,
): Promise<{ entry: JournalEntry | null; delivery: unknown } | undefined> {
  const entry = (await licenseStub(env, organizationId).journalEntry(deliveryId)) ?? null;
  const chat = chatId ?? entry?.chatId;
  const stored: StoredDelivery | undefined =
    chat !== undefined
      ? await chatStub(env, organizationId, chat).delivery(deliveryId)
      : await licenseStub(env, organizationId).delivery(deliveryId);
  if (!entry && !stored) return undefined;
  return { entry, delivery: stored ? redact(stored) : null };
}

/** A dead letter as operators see it, wherever it lives. */
export interface DeadLetterView {
  deliveryId: string;
  action: string;
  chatId?: string;
  error: string;
  attempts: number;
  deadAt: number;
}

/**
 * Dead letters of a license, newest first: those of its own inbox (authoritative) plus the
 * chat-scoped ones its journal last saw dead, within the dead-letter lifetime.
 */
export async function listDeadLetters(env: Env, organizationId: string, limit = 100): Promise<DeadLetterView[]> {
  const stub = licenseStub(env, organizationId);
  const [own, journal] = await Promise.all([
    stub.deadLetters(limit),
    stub.journalEntries({ outcome: "dead", limit, since: Date.now() - DEAD_LETTER_TTL_MS }),
  ]);
  const seen = new Set(own.map((d) => d.deliveryId));
  const letters: DeadLetterView[] = own.map((d) => ({
    deliveryId: d.deliveryId,
    action: d.action,
    ...(d.chatId !== undefined ? { chatId: d.chatId } : {}),
    error: d.error,
    attempts: d.attempts,
    deadAt: d.deadAt,
  }));
  for (const e of journal) {
    if (e.chatId === undefined || seen.has(e.deliveryId)) continue;
    letters.push({ deliveryId: e.deliveryId, action: e.action, chatId: e.chatId, error: e.error ?? "", attempts: e.attempts, deadAt: e.updatedAt });
  }
  return letters.sort((a, b) => b.deadAt - a.deadAt).slice(0, limit);
}

/**
 * Replay a dead letter or a recorded delivery through the handlers, in the DO that owns it (the
 * journal knows a delivery's chat; `chatId` overrides for entries it no longer holds).
 * Idempotency: the dedupe claim is untouched and handlers that completed do not run again.
 */
export async function replayDelivery(env: Env, organizationId: string, deliveryId: string, chatId?: string): Promise<RerunResult> {
  const license = licenseStub(env, organizationId);
  const entry = await license.journalEntry(deliveryId);
  const chat = chatId ?? entry?.chatId;
  if (chat === undefined) return license.rerunDelivery(deliveryId);
  const result = await chatStub(env, organizationId, chat).rerunDelivery(deliveryId);
  if (result.ok && entry) await license.journalReplayed(deliveryId, entry.updatedAt);
  return result;
}

/** Sum of per-hour outcome counts. */
export function totals(counts: Partial<Record<JournalOutcome, number>>[]): Partial<Record<JournalOutcome, number>> {
  const out: Partial<Record<JournalOutcome, number>> = {};
  for (const c of counts) for (const [k, n] of Object.entries(c)) out[k as JournalOutcome] = (out[k as JournalOutcome] ?? 0) + (n ?? 0);
  return out;
}

/** Erase one chat's stored data (its Chat DO) and drop it from the license's index; answers what was there. */
export async function eraseChat(env: Env, organizationId: string, chatId: string) {
  const erased = await chatStub(env, organizationId, chatId).erase();
  await licenseStub(env, organizationId).forgetChat(chatId);
  return { organizationId, chatId, ...erased };
}

/**
 * The uninstall erase on the operator's word (src/licenses/erase.ts): what it erased, or why
 * nothing was (not installed: 404 with the tombstone if one is kept; reinstalled meanwhile: 409).
 */
export async function eraseLicense(env: Env, organizationId: string) {
  const result = await licenseStub(env, organizationId).eraseOnRequest();
  if (!result.ok) {
    return result.reason === "not_installed"
      ? { ok: false as const, status: 404 as const, type: result.reason, message: "The app is not installed on this license; nothing to erase", tombstone: result.tombstone }
      : { ok: false as const, status: 409 as const, type: result.reason, message: "The license was reinstalled meanwhile; nothing was erased", tombstone: undefined };
  }
  const { wiped, tombstone, bot, chatsToErase } = result;
  return {
    ok: true as const,
    erased: {
      organizationId: tombstone.organizationId,
      tokens: "revoked",
      bot,
      kv: "removed",
      rows: wiped.rows,
      keys: wiped.keys,
      bytesBefore: wiped.bytesBefore,
      chats: { toErase: chatsToErase, note: "erased on the license's alarm, a batch at a time" },
      kept: { settings: true, tombstone: true, until: tombstone.eraseAt },
    },
  };
}
