import { DurableObject } from "cloudflare:workers";
import type { NamedAlarms } from "../durable/alarms";
import type { Inbox } from "./inbox";
import type { InboxSummary } from "./records";
import type { DeadLetter, DeliveryStatus, ReplayResult, StoredDelivery } from "./types";

/** The delivery machinery one DO hosts: its inbox, processed on the DO's named alarms (src/framework/host.ts builds it). */
export interface DeliveryHost {
  alarms: NamedAlarms;
  inbox: Inbox;
}

/**
 * What the License and the Chat DO have in common: a durable inbox on named alarms. The read
 * and replay RPC methods operators use (src/routes/admin) are defined once here; each DO adds
 * its own `append` (the webhook's ack) and modules.
 */
export abstract class InboxObject extends DurableObject<Env> {
  /** The DO's inbox and named alarms (src/framework/host.ts), set in the subclass constructor. */
  protected abstract readonly deliveries: DeliveryHost;

  /** Newest deliveries first (pending, and the last finished ones). */
  async recentDeliveries(options: { limit?: number; status?: DeliveryStatus } = {}): Promise<StoredDelivery[]> {
    return this.deliveries.inbox.recent(options);
  }

  /** One delivery by id. */
  async delivery(deliveryId: string): Promise<StoredDelivery | undefined> {
    return this.deliveries.inbox.get(deliveryId);
  }

  /** Dead letters, newest first. */
  async deadLetters(limit?: number): Promise<DeadLetter[]> {
    return this.deliveries.inbox.deadLetters(limit);
  }

  /** Queue a dead letter again (its dedupe claim stays, so redeliveries remain duplicates). */
  replayDelivery(deliveryId: string): Promise<ReplayResult> {
    return this.deliveries.inbox.replay(deliveryId);
  }

  /** Pending and dead-letter counts. */
  async inboxSummary(): Promise<InboxSummary> {
    return this.deliveries.inbox.summary();
  }

  /** Runs whatever named deadline is due: delivery processing and pruning, and the DO's own deadlines. */
  override async alarm(): Promise<void> {
    await this.deliveries.inbox.recover();
    await this.deliveries.alarms.run();
  }
}
