/**
 * What a confirmed uninstall, or an operator's erase, removes from a license (docs/DATA.md
 * "Uninstall"). Whether an uninstall is real is decided elsewhere (src/licenses/uninstall-check.ts);
 * once the grant is gone this module:
 * - wipes the License DO's storage except its settings and a small tombstone (uninstalled at, why,
 *   what became of the bot) and the chat index it still needs;
 * - erases every indexed Chat DO of the license, a batch per alarm pass, retried on failure;
 * - after `DELIVERY_RETENTION_DAYS` erases everything left (`deleteAll`: no table, no key, no
 *   alarm), the settings and the tombstone included. A reinstall before
 *   then keeps the settings and removes the tombstone (settings outlive an uninstall on purpose).
 * A Chat DO the index missed erases itself when its own alarm finds the license not installed.
 */
import type { NamedAlarms } from "../durable/alarms";
import type { Logger } from "../log";
import type { ChatIndex } from "./chat-index";

/** Storage key of the {@link Tombstone}. */
export const TOMBSTONE_KEY = "tombstone";
/** Storage key of the settings, kept until the final erase (src/licenses/settings.ts). */
const SETTINGS_KEY = "settings";
/** Deadline that erases the next batch of the license's Chat DOs. */
export const ERASE_CHATS_DEADLINE = "erase:chats";
/** Deadline that erases the settings and the tombstone, the retention period after the uninstall. */
export const ERASE_FINAL_DEADLINE = "erase:final";
/** Chat DOs erased per alarm pass (each one RPC; a pass stays well under the subrequest limit). */
export const ERASE_BATCH = 100;

/** What became of the license's bot at LiveChat. */
export type BotRemoval =
  /** `delete_bot` succeeded while the grant still worked. */
  | "deleted"
  /** LiveChat had already revoked the grant (uninstalled there): the bot could not be deleted by us. */
  | "grant_revoked"
  /** `delete_bot` failed for another reason (logged); the bot was taken offline if possible. */
  | "failed"
  /** The license had no bot. */
  | "none";

/** What a License DO keeps of an uninstalled license until the final erase. */
export interface Tombstone {
  organizationId: string;
  uninstalledAt: number;
  /** `uninstalled`: LiveChat confirmed the uninstall; `operator`: erased on an operator's request. */
  reason: "uninstalled" | "operator";
  bot: BotRemoval;
  /** When the settings and this tombstone go. */
  eraseAt: number;
  chats: { erased: number; failed: number };
}

/** What an erase removed from the License DO. */
export interface LicenseWipe {
  /** Rows deleted, by table. */
  rows: Record<string, number>;
  /** Storage keys deleted. */
  keys: number;
  /** Size of the DO's database before and after (bytes). */
  bytesBefore: number;
  bytesAfter: number;
}

/** What the eraser works with; owned by the License DO. */
export interface LicenseEraserDeps {
  storage: DurableObjectStorage;
  alarms: NamedAlarms;
  chats: ChatIndex;
  /** Erase one Chat DO of the license (RPC). */
  eraseChat: (organizationId: string, chatId: string) => Promise<unknown>;
  /** The retention period after which the tombstone and settings go (ms). */
  retentionMs: () => number;
  /** The DO's storage is gone (final erase): its owner drops the modules that think their tables exist. */
  onErased: () => void;
  log: Logger;
}

/**
 * Delete every row of every table and every key of `storage`, except `keepTables` and `keepKeys`.
 * Tables stay (empty): the DO's modules keep using them.
 */
export async function wipe(storage: DurableObjectStorage, keep: { tables?: string[]; keys?: string[] } = {}): Promise<LicenseWipe> {
  const bytesBefore = storage.sql.databaseSize;
  const rows: Record<string, number> = {};
  const tables = storage.sql
    .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'")
    .toArray()
    .map((r) => r.name)
    .filter((name) => !keep.tables?.includes(name));
  for (const table of tables) {
    const deleted = storage.sql.exec(`DELETE FROM "${table}"`).rowsWritten;
    if (deleted > 0) rows[table] = deleted;
  }
  const keys = [...(await storage.list()).keys()].filter((key) => !keep.keys?.includes(key));
  for (let i = 0; i < keys.length; i += 128) await storage.delete(keys.slice(i, i + 128));
  return { rows, keys: keys.length, bytesBefore, bytesAfter: storage.sql.databaseSize };
}

/** Erasure of one license's data, driven by the License DO's alarm. */
export class LicenseEraser {
  private cached: Tombstone | null | undefined;

  constructor(private readonly deps: LicenseEraserDeps) {
    deps.alarms.handle(ERASE_CHATS_DEADLINE, () => this.eraseChats());
    deps.alarms.handle(ERASE_FINAL_DEADLINE, () => this.eraseFinal());
  }

  /** The tombstone, when the license was uninstalled and not yet finally erased. */
  async tombstone(): Promise<Tombstone | undefined> {
    if (this.cached === undefined) this.cached = (await this.deps.storage.get<Tombstone>(TOMBSTONE_KEY)) ?? null;
    return this.cached ?? undefined;
  }

  /**
   * The grant is gone (revoked and deleted): wipe the rest of the license's storage but its
   * settings, leave the tombstone and start erasing its chats. Answers what was wiped.
   */
  async afterUninstall(organizationId: string, reason: Tombstone["reason"], bot: BotRemoval): Promise<{ wiped: LicenseWipe; tombstone: Tombstone }> {
    const { storage, alarms, retentionMs } = this.deps;
    const now = Date.now();
    // Every deadline of the installation goes too (processing, reconcile, provisioning, timers).
    const wiped = await wipe(storage, { tables: ["license_chats"], keys: [SETTINGS_KEY] });
    alarms.forgetAll();
    await storage.deleteAlarm();
    const tombstone: Tombstone = { organizationId, uninstalledAt: now, reason, bot, eraseAt: now + retentionMs(), chats: { erased: 0, failed: 0 } };
    await this.write(tombstone);
    await alarms.schedule(ERASE_CHATS_DEADLINE, now);
    await alarms.schedule(ERASE_FINAL_DEADLINE, tombstone.eraseAt);
    this.deps.log.info("license erased", { organization_id: organizationId, reason, bot, rows: wiped.rows, keys: wiped.keys });
    return { wiped, tombstone };
  }

  /** A reinstall: the tombstone goes, the settings stay, nothing more is erased. */
  async cancel(): Promise<void> {
    if (!(await this.tombstone())) return;
    await this.deps.alarms.cancel(ERASE_CHATS_DEADLINE);
    await this.deps.alarms.cancel(ERASE_FINAL_DEADLINE);
    this.cached = null;
    await this.deps.storage.delete(TOMBSTONE_KEY);
  }

  /** One batch of Chat DOs; again at once while chats are left. A failure is retried with the alarm's backoff. */
  private async eraseChats(): Promise<void> {
    const tombstone = await this.tombstone();
    if (!tombstone) return;
    const { chats, eraseChat, alarms, log } = this.deps;
    const batch = chats.take(ERASE_BATCH);
    const results = await Promise.allSettled(batch.map((chatId) => eraseChat(tombstone.organizationId, chatId)));
    const erased = batch.filter((_, i) => results[i].status === "fulfilled");
    chats.forget(erased);
    const failed = batch.length - erased.length;
    // The tombstone may have gone meanwhile (a reinstall): then nothing is written back.
    if (!(await this.tombstone())) return;
    await this.write({ ...tombstone, chats: { erased: tombstone.chats.erased + erased.length, failed: tombstone.chats.failed + failed } });
    if (failed > 0) {
      log.warn("chat erase failed; retried", { organization_id: tombstone.organizationId, failed });
      throw new Error(`${failed} of ${batch.length} chats could not be erased`);
    }
    if (chats.count() > 0) await alarms.schedule(ERASE_CHATS_DEADLINE, Date.now());
  }

  /**
   * The retention period is over: nothing of the license stays, not even an empty table, and no
   * alarm (`deleteAll`). Nothing is written after it: the pass running this handler finds its
   * deadlines forgotten, and the DO builds its modules afresh on its next call.
   */
  private async eraseFinal(): Promise<void> {
    const tombstone = await this.tombstone();
    if (!tombstone) return;
    const { storage, alarms, log } = this.deps;
    const erased = { keys: (await storage.list()).size, bytes: storage.sql.databaseSize };
    alarms.forgetAll();
    await storage.deleteAlarm();
    await storage.deleteAll();
    this.cached = null;
    this.deps.onErased();
    log.info("license tombstone erased", { organization_id: tombstone.organizationId, ...erased });
  }

  private async write(tombstone: Tombstone): Promise<void> {
    this.cached = tombstone;
    await this.deps.storage.put(TOMBSTONE_KEY, tombstone);
  }
}
