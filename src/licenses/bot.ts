import type { AgentChatApi } from "../livechat/agent-chat";
import type { Credentials } from "../livechat/auth";
import type { ConfigurationApi } from "../livechat/configuration";
import { LiveChatError } from "../livechat/errors";
import type { RoutingStatus } from "../livechat/schemas/agent-chat";
import type { RoutingStatus as ReportedRoutingStatus } from "../livechat/webhooks";
import type { Logger } from "../log";
import { openSealed, type SealingKeys, sealWith } from "./crypto";

/** Bot tokens live 24 h (docs/LIVECHAT.md §3.3 "Issue Bot Token"); renew this long before. */
export const BOT_TOKEN_TTL_MS = 24 * 3600_000;
export const BOT_TOKEN_RENEW_MARGIN_MS = 2 * 3600_000;

/**
 * What is stored about the license's bot. The secret and token are sealed bound to the
 * organization and the bot (`["bot-secret", organization, bot id]`), so a sealed value copied into
 * another license's storage does not open there.
 */
interface BotRecord {
  id: string;
  name: string;
  sealedSecret: string;
  createdAt: number;
  sealedToken?: string;
  tokenExpiresAt?: number;
  /** Last status we set or LiveChat reported (routing_status_set), normalised. */
  routingStatus?: RoutingStatus;
  routingStatusAt?: number;
  /** When LiveChat reported the bot deleted (`bot_deleted`); it no longer exists there. */
  deletedAt?: number;
}

/** One observed routing status change; `at` orders updates (an older one never overwrites a newer one). */
export interface RoutingStatusUpdate {
  agentId: string;
  status: ReportedRoutingStatus;
  at: number;
}

/**
 * What the License DO knows about its bot's routing status. Bot webhooks are acted on only while
 * it is `accepting_chats` (docs/LIVECHAT.md §1.5); no bot or no known status counts as not accepting.
 */
export interface BotRoutingState {
  agentId?: string;
  status?: ReportedRoutingStatus;
  updatedAt?: number;
  acceptingChats: boolean;
}

/** The bot as operators and handlers see it: no secret, no token. */
export interface BotInfo {
  id: string;
  name: string;
  createdAt: number;
  tokenExpiresAt?: number;
  routingStatus?: RoutingStatus;
  routingStatusAt?: number;
  /** Set when LiveChat reported the bot deleted; a re-provisioned bot replaces the record. */
  deletedAt?: number;
}

/** LiveChat clients acting as the license (the bot's own token is made here). */
export interface LicenseApis {
  configuration: ConfigurationApi;
  agent: AgentChatApi;
}

/**
 * The license's bot identity: one bot per license owned by our client id, created with
 * `create_bot` or reused on reinstall, its secret sealed, its 24 h token renewed ahead of
 * expiry (single-flight). In API v3.6 a bot acts only with its own token; `X-Author-Id` is
 * gone (docs/LIVECHAT.md §4.2).
 */
export class LicenseBot {
  private renewing: Promise<BotRecord> | undefined;
  /** The `ensure` in flight: concurrent callers share it, so one license never gets two bots. */
  private ensuring: Promise<BotInfo> | undefined;
  /** Set while the license is being uninstalled: no new bot may be made (it would outlive the grant). */
  private closed = false;

  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly keys: SealingKeys,
    private readonly clientId: string,
    private readonly asLicense: () => LicenseApis,
    private readonly log: Logger,
  ) {}

  /** The bot without secrets, or null before provisioning. */
  async info(): Promise<BotInfo | null> {
    const bot = await this.record();
    if (!bot) return null;
    const { sealedSecret: _s, sealedToken: _t, ...info } = bot;
    return info;
  }

  /**
   * Make sure the license has our bot: reuse the stored one when LiveChat still knows it,
   * else adopt one of our app's bots with the same name (new secret via `reset_bot_secret`),
   * else `create_bot` (docs/LIVECHAT.md §3.3). Idempotent and single-flight (a second
   * `create_bot` would make a second bot); refused while the license is being uninstalled.
   */
  ensure(organizationId: string, name: string): Promise<BotInfo> {
    if (this.closed) {
      return Promise.reject(new LiveChatError({ status: 0, type: "not_installed", message: "The license is being uninstalled" }));
    }
    this.ensuring ??= this.doEnsure(organizationId, name).finally(() => {
      this.ensuring = undefined;
    });
    return this.ensuring;
  }

  /**
   * Refuse new {@link ensure} calls and wait for the one in flight, so a bot it creates is
   * recorded before an uninstall takes the bot offline and forgets it (no orphan bot).
   */
  async close(): Promise<void> {
    this.closed = true;
    await this.ensuring?.catch(() => {});
  }

  /** Allow {@link ensure} again (an uninstall that did not happen, or a new installation). */
  reopen(): void {
    this.closed = false;
  }

  private async doEnsure(organizationId: string, name: string): Promise<BotInfo> {
    const { configuration } = this.asLicense();
    const stored = await this.record();
    // A bot LiveChat reported deleted needs no get_bot to know it is gone.
    if (stored && stored.deletedAt === undefined) {
      try {
        await configuration.getBot({ id: stored.id });
        if (!(await this.opens(stored, "secret", organizationId))) {
          // Sealed with another TOKEN_ENCRYPTION_KEY: the secret is lost, so get a new one for the same bot.
          const { secret } = await configuration.resetBotSecret({ id: stored.id });
          // The old token is unreadable too; the next credentials() call issues one with the new secret.
          await this.update(stored.id, {
            sealedSecret: await this.seal(secret, "secret", organizationId, stored.id),
            sealedToken: undefined,
            tokenExpiresAt: undefined,
          });
          this.log.warn("bot secret unreadable (sealed with another TOKEN_ENCRYPTION_KEY?); reset", { organization_id: organizationId, bot_id: stored.id });
        }
        if (stored.name !== name) {
          await configuration.updateBot({ id: stored.id, name });
          // Only the name: a token or routing status stored while LiveChat answered stays.
          await this.update(stored.id, { name });
        }
        return (await this.info())!;
      } catch (err) {
        if (!(err instanceof LiveChatError && err.type === "not_found")) throw err;
        this.log.warn("stored bot no longer exists; recreating", { organization_id: organizationId, bot_id: stored.id });
      }
    }
    // `list_bots` with all:false lists the bots created by this app (docs/LIVECHAT.md §3.3 footnote).
    const ours = (await configuration.listBots({ all: false })).find((b) => b.name === name);
    let id: string;
    let secret: string;
    if (ours) {
      id = ours.id;
      secret = (await configuration.resetBotSecret({ id })).secret;
    } else {
      // `supervisor` priority: the bot is never routed chats itself; it joins chats it acts in.
      const created = await configuration.createBot({ name, default_group_priority: "supervisor", max_chats_count: 500 });
      ({ id, secret } = created);
    }
    await this.save({ id, name, sealedSecret: await this.seal(secret, "secret", organizationId, id), createdAt: Date.now() });
    this.log.info(ours ? "bot adopted" : "bot created", { organization_id: organizationId, bot_id: id });
    return (await this.info())!;
  }

  /** Bearer credentials of the bot, renewed single-flight when its token is close to expiry or was just rejected. */
  async credentials(organizationId: string, region: string | undefined, rejectedToken?: string): Promise<Credentials> {
    let bot = await this.record();
    if (!bot) throw new LiveChatError({ status: 0, type: "bot_not_provisioned", message: "The license has no bot yet" });
    const rejected = rejectedToken !== undefined && bot.sealedToken !== undefined && rejectedToken === (await this.unseal(bot, "token", organizationId));
    if (rejected || !bot.sealedToken || (bot.tokenExpiresAt ?? 0) - Date.now() <= BOT_TOKEN_RENEW_MARGIN_MS) {
      bot = await this.renewToken(organizationId);
    }
    // Bot JWTs carry no region prefix: use the license's (docs/LIVECHAT.md §6.3).
    return { kind: "bearer", token: await this.unseal(bot, "token", organizationId), region };
  }

  /** Issue a fresh bot token now (single-flight). */
  renewToken(organizationId: string): Promise<BotRecord> {
    this.renewing ??= this.issue(organizationId).finally(() => {
      this.renewing = undefined;
    });
    return this.renewing;
  }

  /** Set the bot's routing status with its own token and remember it. */
  async setRoutingStatus(status: RoutingStatus, agent: AgentChatApi): Promise<void> {
    const bot = await this.record();
    if (!bot) throw new LiveChatError({ status: 0, type: "bot_not_provisioned", message: "The license has no bot yet" });
    await agent.setRoutingStatus({ status, agent_id: bot.id });
    await this.noteRoutingStatus(bot.id, status);
  }

  /** Record a status LiveChat reported for `agentId` (routing_status_set); other agents are ignored. */
  async noteRoutingStatus(agentId: string, status: RoutingStatus, at = Date.now()): Promise<boolean> {
    const bot = await this.record();
    if (!bot || bot.id !== agentId) return false;
    // Webhooks may arrive late: never let an older report overwrite a newer one; a deleted bot stays gone.
    if ((bot.routingStatusAt && bot.routingStatusAt > at) || bot.deletedAt !== undefined) return true;
    await this.save({ ...bot, routingStatus: status, routingStatusAt: at });
    return true;
  }

  /**
   * Note that LiveChat deleted `agentId` (`bot_deleted`, docs/LIVECHAT.md §2.3); true when it was
   * the license's bot. It counts as not accepting chats from now on.
   */
  async noteDeleted(agentId: string, at = Date.now()): Promise<boolean> {
    const bot = await this.record();
    if (!bot || bot.id !== agentId) return false;
    const { routingStatus: _status, ...rest } = bot;
    await this.save({ ...rest, deletedAt: bot.deletedAt ?? at, routingStatusAt: at });
    return true;
  }

  /** Forget the bot locally (uninstall). */
  async forget(): Promise<void> {
    await this.storage.delete("bot");
  }

  /** The bot's id, or undefined. */
  async id(): Promise<string | undefined> {
    return (await this.record())?.id;
  }

  /** Issue a token for the stored bot; once more when the bot was replaced while LiveChat answered. */
  private async issue(organizationId: string, attempts = 2): Promise<BotRecord> {
    const bot = await this.record();
    if (!bot) throw new LiveChatError({ status: 0, type: "bot_not_provisioned", message: "The license has no bot yet" });
    const { token } = await this.asLicense().configuration.issueBotToken({
      bot_id: bot.id,
      client_id: this.clientId,
      bot_secret: await this.unseal(bot, "secret", organizationId),
      organization_id: organizationId,
    });
    const tokenExpiresAt = Date.now() + BOT_TOKEN_TTL_MS;
    // The DO served other calls while LiveChat answered: write only the token fields, and only to
    // the same bot, so a routing status recorded meanwhile stays.
    const next = await this.update(bot.id, { sealedToken: await this.seal(token, "token", organizationId, bot.id), tokenExpiresAt });
    if (!next) {
      // Forgotten (uninstall) or replaced (re-created) meanwhile: the token is another bot's, and bot
      // tokens cannot be revoked (docs/LIVECHAT.md §3.3), so it is dropped. A replacement gets its own.
      if (attempts > 1 && (await this.record())) return this.issue(organizationId, attempts - 1);
      throw new LiveChatError({ status: 0, type: "bot_not_provisioned", message: "The license's bot changed while its token was issued", retryable: true });
    }
    this.log.info("bot token issued", { organization_id: organizationId, bot_id: bot.id, expires_at: tokenExpiresAt });
    return next;
  }

  private async record(): Promise<BotRecord | undefined> {
    return this.storage.get<BotRecord>("bot");
  }

  /**
   * Re-read the record and apply `patch` when it is still bot `id` (after a LiveChat call, during
   * which the DO served other calls). The saved record, or undefined when the bot is gone or replaced.
   */
  private async update(id: string, patch: Partial<Omit<BotRecord, "id">>): Promise<BotRecord | undefined> {
    const current = await this.record();
    if (!current || current.id !== id) return undefined;
    const next: BotRecord = { ...current, ...patch };
    await this.save(next);
    return next;
  }

  private async save(record: BotRecord): Promise<void> {
    await this.storage.put("bot", record);
  }

  /**
   * Seal the bot's secret and token again where they are under the previous TOKEN_ENCRYPTION_KEY or
   * in the unbound form of an older version (first read does it too; the cron's reconcile calls
   * this before the grant's own re-seal). A value that does not open at all is left for the paths
   * that replace it (`ensure()` resets an unreadable secret).
   */
  async reseal(organizationId: string): Promise<void> {
    const bot = await this.record();
    if (!bot) return;
    for (const what of ["secret", "token"] as const) {
      if (bot[FIELDS[what]] !== undefined) await this.unseal(bot, what, organizationId).catch(() => undefined);
    }
  }

  private async seal(value: string, what: Sealed, organizationId: string, botId: string): Promise<string> {
    return sealWith(this.keys, value, sealingContext(what, organizationId, botId));
  }

  /** Whether the record's sealed value opens (with the current or the previous key). */
  private async opens(bot: BotRecord, what: Sealed, organizationId: string): Promise<boolean> {
    return this.unseal(bot, what, organizationId).then(
      () => true,
      () => false,
    );
  }

  /**
   * Open the record's sealed secret or token. One under the previous key or in the older unbound
   * form (`bot-secret`) is sealed again at once, unless it changed meanwhile (a renewed token).
   */
  private async unseal(bot: BotRecord, what: Sealed, organizationId: string): Promise<string> {
    const field = FIELDS[what];
    const sealed = bot[field];
    if (sealed === undefined) throw new LiveChatError({ status: 0, type: "bot_not_provisioned", message: `The bot has no ${what}` });
    const opened = await openSealed(this.keys, sealed, sealingContext(what, organizationId, bot.id), [`bot-${what}`]);
    if (opened.stale) {
      const resealed = await this.seal(opened.plaintext, what, organizationId, bot.id);
      const current = await this.record();
      if (current?.id === bot.id && current[field] === sealed) {
        await this.save({ ...current, [field]: resealed });
        this.log.info("bot credential sealed again with the current key", { organization_id: organizationId, bot_id: bot.id, what });
      }
    }
    return opened.plaintext;
  }
}

type Sealed = "secret" | "token";
const FIELDS = { secret: "sealedSecret", token: "sealedToken" } as const;

/** The associated data a bot value is sealed with: what it is, whose, and which bot (a JSON array: unambiguous). */
function sealingContext(what: Sealed, organizationId: string, botId: string): string {
  return JSON.stringify([`bot-${what}`, organizationId, botId]);
}
