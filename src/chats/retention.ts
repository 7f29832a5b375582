import type { NamedAlarms } from "../durable/alarms";
import { PRUNE_DEADLINE } from "../deliveries/inbox";
import type { PruneReport, RetentionPolicy } from "../deliveries/retention";
import type { StoredDelivery } from "../deliveries/types";
import type { Installation } from "../licenses/grant";
import type { Logger } from "../log";

/**
 * When a Chat DO erases itself (docs/DATA.md "Chats"): the storage in use follows the chats of the
 * last days, not every chat ever seen. Decided after each prune of the chat's inbox (its alarm stays
 * armed while it holds anything, src/deliveries/retention.ts), so a chat nobody writes to any more
 * still goes:
 * - its license is not installed (uninstalled, or never installed): at once, whatever it holds;
 * - the chat was deactivated and nothing is left to keep (no delivery within `DELIVERY_RETENTION_DAYS`,
 *   no dead letter, no timer): at once;
 * - never deactivated as far as we heard (LiveChat closes idle chats itself, and a lost webhook is
 *   possible) but quiet for `DEAD_LETTER_RETENTION_DAYS` with nothing left: then.
 * A later webhook for the chat simply starts a fresh DO.
 */

/** Storage key of the chat's {@link Lifecycle}. */
export const LIFECYCLE_KEY = "chat:lifecycle";

/** What the Chat DO remembers to decide its erasure; a few dozen bytes. */
export interface Lifecycle {
  organizationId: string;
  chatId: string;
  /** Newest delivery received, as last seen by a prune pass. */
  lastReceivedAt: number;
  /** Set by `chat_deactivated`, cleared by `incoming_chat` (a new thread, docs/LIVECHAT.md §2.3). */
  deactivatedAt?: number;
}

/** What {@link ChatRetention} works with; all owned by the Chat DO. */
export interface ChatRetentionDeps {
  storage: DurableObjectStorage;
  alarms: NamedAlarms;
  policy: RetentionPolicy;
  /** How many timers are pending. */
  pendingTimers: () => number;
  /** The license's installation (its License DO's answer). */
  installation: (organizationId: string) => Promise<Installation>;
  /** Erase the whole DO (storage and alarm). */
  erase: (reason: string) => Promise<void>;
  log: Logger;
}

/** A Chat DO's retention decisions. */
export class ChatRetention {
  constructor(private readonly deps: ChatRetentionDeps) {}

  /** Note a lifecycle delivery once processed (off the ack path): deactivation, or a new thread. */
  async noteProcessed(delivery: StoredDelivery): Promise<void> {
    if (delivery.chatId === undefined || (delivery.action !== "chat_deactivated" && delivery.action !== "incoming_chat")) return;
    const current = await this.lifecycle();
    const next: Lifecycle = {
      organizationId: delivery.organizationId,
      chatId: delivery.chatId,
      lastReceivedAt: Math.max(current?.lastReceivedAt ?? 0, delivery.receivedAt),
    };
    if (delivery.action === "chat_deactivated") next.deactivatedAt = delivery.receivedAt;
    else if (current?.deactivatedAt !== undefined && current.deactivatedAt > delivery.receivedAt) next.deactivatedAt = current.deactivatedAt;
    await this.deps.storage.put(LIFECYCLE_KEY, next);
  }

  /**
   * After a prune pass: erase the DO when the rules above say so; else make sure a prune comes
   * back when they will (the inbox re-arms only while it holds something).
   */
  async afterPrune(report: PruneReport, now: number): Promise<void> {
    const { storage, policy, alarms } = this.deps;
    let lifecycle = await this.lifecycle();
    if (report.newestReceivedAt !== undefined) {
      const ids = storage.sql
        .exec<{ organization_id: string; chat_id: string | null }>("SELECT organization_id, chat_id FROM deliveries ORDER BY seq DESC LIMIT 1")
        .toArray()[0];
      if (ids?.chat_id && (!lifecycle || lifecycle.lastReceivedAt < report.newestReceivedAt)) {
        lifecycle = { ...lifecycle, organizationId: ids.organization_id, chatId: ids.chat_id, lastReceivedAt: report.newestReceivedAt };
        await storage.put(LIFECYCLE_KEY, lifecycle);
      }
    }
    if (!lifecycle) return;
    if (!(await this.installed(lifecycle.organizationId))) return this.deps.erase("license not installed");
    if (report.holdsAnything || this.deps.pendingTimers() > 0) return;
    if (lifecycle.deactivatedAt !== undefined) return this.deps.erase("chat ended");
    const quietUntil = lifecycle.lastReceivedAt + policy.deadLetterMs;
    if (now >= quietUntil) return this.deps.erase("chat quiet");
    // Replace, not "earliest": the deadline running now is earlier, and nothing else is left to prune.
    await alarms.schedule(PRUNE_DEADLINE, quietUntil);
  }

  /** The stored lifecycle, if any. */
  lifecycle(): Promise<Lifecycle | undefined> {
    return this.deps.storage.get<Lifecycle>(LIFECYCLE_KEY);
  }

  /** Whether the License DO says the license is installed; true when it cannot be asked (never erase on doubt). */
  private async installed(organizationId: string): Promise<boolean> {
    try {
      return (await this.deps.installation(organizationId)).installed;
    } catch (error) {
      this.deps.log.warn("retention: license not reachable; chat kept", { organization_id: organizationId, error });
      return true;
    }
  }
}
