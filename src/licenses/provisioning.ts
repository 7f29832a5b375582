import type { NamedAlarms } from "../durable/alarms";
import type { LiveChatApis } from "../livechat/apis";
import type { Logger } from "../log";
import { LiveChatError } from "../livechat/errors";
import type { BotInfo, LicenseBot } from "./bot";
import type { BotRemoval } from "./erase";
import type { LicenseGrant } from "./grant";
import { desiredRoutingStatus, type SettingsStore } from "./settings";

/** Deadline name of the provisioning run on the License DO's alarm. */
export const PROVISION_DEADLINE = "provision";

/** What provisioning works with; all owned by the License DO. */
export interface ProvisioningDeps {
  grant: LicenseGrant;
  bot: LicenseBot;
  settings: SettingsStore;
  alarms: NamedAlarms;
  apis: () => LiveChatApis;
  log: Logger;
}

/**
 * Bot provisioning after install: ensure the bot exists (create or reuse), issue its token, and
 * set its routing status to what the working hours want (`accepting_chats` by default) — the
 * order LiveChat prescribes: "create a bot, register webhooks, and then call Set Routing Status"
 * (docs/LIVECHAT.md §1.5 / C36). Runs on the DO alarm so a LiveChat outage during install is retried
 * with backoff instead of failing the install page.
 */
export class LicenseProvisioning {
  /** The run in flight: the alarm, an operator and a reinstall share one. */
  private running: Promise<BotInfo> | undefined;

  constructor(private readonly deps: ProvisioningDeps) {
    deps.alarms.handle(PROVISION_DEADLINE, async () => {
      // Uninstalled or awaiting reinstall: nothing to provision; don't retry forever.
      const installation = await deps.grant.installation();
      if (installation.installed && !installation.needsReinstall) await this.run();
    });
  }

  /** Provision on the alarm as soon as possible (retried by the alarm helper on failure). */
  async schedule(): Promise<void> {
    await this.deps.alarms.schedule(PROVISION_DEADLINE, Date.now(), "earliest");
  }

  /** Provision now, single-flight. Idempotent: reruns reuse the bot and only fix what differs. */
  run(): Promise<BotInfo> {
    this.running ??= this.provision().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Wait for a run in flight to end, however it ends (an uninstall must not race its LiveChat calls). */
  async settled(): Promise<void> {
    await this.running?.catch(() => {});
  }

  private async provision(): Promise<BotInfo> {
    const { grant, bot, settings, apis, log } = this.deps;
    const installation = await grant.installation();
    if (!installation.installed || !installation.organizationId) {
      throw new Error("LiveChat failed (not_installed): The app is not installed on this license");
    }
    if (installation.needsReinstall) throw new Error("LiveChat failed (needs_reinstall): The license must reinstall the app");
    const current = await settings.get();
    const info = await bot.ensure(installation.organizationId, current.botName);
    await bot.credentials(installation.organizationId, installation.region);
    // Owner routing mode: the status is set once, for a bot that has none yet; afterwards the
    // license owner (or LiveChat's bot working hours) decides.
    if (current.routingMode === "owner" && info.routingStatus !== undefined) {
      log.info("bot provisioned; routing status left to the owner", { organization_id: installation.organizationId, routing_status: info.routingStatus });
      return (await bot.info())!;
    }
    const desired = desiredRoutingStatus(current.workingHours, new Date());
    await bot.setRoutingStatus(desired, apis().bot);
    log.info("bot provisioned", { organization_id: installation.organizationId, routing_status: desired });
    return (await bot.info())!;
  }

  /**
   * Stop the license's work on uninstall: cancel provisioning and delete the bot at LiveChat
   * (`delete_bot`, docs/LIVECHAT.md §3.3) while the grant still works, so it does not outlive the
   * app on the license; when that fails, take it offline so it gets no bot webhooks
   * (docs/LIVECHAT.md §1.5 / BLOG-BOT). Then forget its credentials. Best effort towards LiveChat:
   * after a real uninstall LiveChat has already revoked the grant, and the answer says so.
   * `current` says whether the uninstall still stands after the network calls; when it does not
   * (a reinstall meanwhile), the bot record is kept and `stood` is false.
   */
  async stop(current: () => boolean = () => true): Promise<{ stood: boolean; bot: BotRemoval }> {
    const { alarms, bot, apis, log } = this.deps;
    await alarms.cancel(PROVISION_DEADLINE);
    let removal: BotRemoval = "none";
    const id = await bot.id();
    if (id) {
      try {
        await apis().configuration.deleteBot({ id });
        removal = "deleted";
      } catch (err) {
        removal = err instanceof LiveChatError && (err.type === "authentication" || err.status === 401 || err.status === 403 || err.type === "invalid_grant" || err.type === "not_installed" || err.type === "needs_reinstall")
          ? "grant_revoked"
          : err instanceof LiveChatError && err.type === "not_found" ? "deleted" : "failed";
        log.warn("could not delete the bot on uninstall", { bot: removal, error: err instanceof Error ? err.message : String(err) });
        if (removal === "failed") {
          try {
            await bot.setRoutingStatus("offline", apis().bot);
          } catch (offline) {
            log.warn("could not take the bot offline on uninstall", { error: offline instanceof Error ? offline.message : String(offline) });
          }
        }
      }
    }
    if (!current()) return { stood: false, bot: removal };
    await bot.forget();
    return { stood: true, bot: removal };
  }
}
