import type { NamedAlarms } from "../durable/alarms";
import type { DeliveryHost } from "../deliveries/inbox-object";
import { Inbox, type InboxOptions, PROCESS_DEADLINE, PRUNE_DEADLINE } from "../deliveries/inbox";
import { webhookRules } from "../webhooks/admit";
import { createProcessor, type ProcessorDeps } from "./dispatch";

export type { DeliveryHost } from "../deliveries/inbox-object";
export { namedAlarms } from "../durable/alarms";

/**
 * Compose the durable inbox and the handler dispatch over one DO's storage: the inbox's
 * processing and pruning run as deadlines on `alarms`, with LiveChat's rules for stored webhooks
 * (src/webhooks/admit.ts). Every attempt writes the delivery's one structured log line, `webhook`
 * (the ack writes none: its cost would delay LiveChat). A pass needs a valid configuration: while
 * it is not, the pass fails and backs off (logged each time, named by `/healthz`), and the
 * deliveries wait, stored. Both the License and the Chat DO call this in their constructor and
 * delegate `alarm()` to it (src/deliveries/inbox-object.ts).
 */
export function deliveryHost(
  storage: DurableObjectStorage,
  alarms: NamedAlarms,
  deps: ProcessorDeps,
  inboxOptions: Partial<InboxOptions> = {},
): DeliveryHost {
  const log = deps.log;
  const inbox = new Inbox(storage, alarms, {
    rules: webhookRules,
    ...inboxOptions,
    onAttempt: (event) => {
      const { delivery } = event;
      const fields = {
        kind: delivery.kind,
        organization_id: delivery.organizationId,
        ...(delivery.chatId !== undefined ? { chat_id: delivery.chatId } : {}),
        action: delivery.action,
        ...(delivery.dedupeKey !== undefined ? { dedupe_key: delivery.dedupeKey } : {}),
        delivery_id: delivery.id,
        outcome: event.result,
        attempt: event.attempt,
        lag_ms: Math.max(0, event.startedAt - delivery.receivedAt),
        duration_ms: Math.max(0, event.finishedAt - event.startedAt),
        ...(event.note !== undefined ? { note: event.note } : {}),
        ...(event.error !== undefined ? { error: event.error } : {}),
      };
      if (event.result === "dead") log.error("webhook", fields);
      else if (event.result === "retry" || event.result === "parked") log.warn("webhook", fields);
      else log.info("webhook", fields);
      inboxOptions.onAttempt?.(event);
    },
  });
  const processor = createProcessor(deps);
  alarms
    .handle(PROCESS_DEADLINE, () => {
      deps.config(); // throws ConfigError while the configuration is invalid: the pass backs off
      return inbox.process(processor);
    })
    .handle(PRUNE_DEADLINE, async () => {
      await inbox.prune();
    });
  return { alarms, inbox };
}
