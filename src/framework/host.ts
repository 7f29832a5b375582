import { NamedAlarms } from "../durable/alarms";
import { Inbox, type InboxOptions, PROCESS_DEADLINE, PRUNE_DEADLINE } from "../deliveries/inbox";
import type { Logger } from "../log";
import { createProcessor, type ProcessorDeps } from "./dispatch";

/** The delivery machinery one DO hosts: its inbox, processed on the DO's named alarms. */
export interface DeliveryHost {
  alarms: NamedAlarms;
  inbox: Inbox;
}

/** The DO's named alarms, with failures of any deadline logged. Other modules add their deadlines to it. */
export function namedAlarms(storage: DurableObjectStorage, log: Logger): NamedAlarms {
  return new NamedAlarms(storage, {
    onError: (name, error) => log.error("deadline failed", { deadline: name, error }),
  });
}

/**
 * Compose the durable inbox and the handler dispatch over one DO's storage: the inbox's
 * processing and pruning run as deadlines on `alarms`; each attempt is logged. Both the License
 * and the Chat DO call this in their constructor and delegate `alarm()` to `alarms.run()`.
 */
export function deliveryHost(
  storage: DurableObjectStorage,
  alarms: NamedAlarms,
  deps: ProcessorDeps,
  inboxOptions: InboxOptions = {},
): DeliveryHost {
  const log = deps.log;
  const inbox = new Inbox(storage, alarms, {
    ...inboxOptions,
    onAttempt: (event) => {
      const { delivery } = event;
      const fields = {
        organization_id: delivery.organizationId,
        ...(delivery.chatId !== undefined ? { chat_id: delivery.chatId } : {}),
        action: delivery.action,
        kind: delivery.kind,
        delivery_id: delivery.id,
        dedupe_key: delivery.dedupeKey,
        attempt: event.attempt,
        result: event.result,
        ...(event.note !== undefined ? { note: event.note } : {}),
        ...(event.error !== undefined ? { error: event.error } : {}),
      };
      if (event.result === "dead") log.error("delivery dead-lettered", fields);
      else if (event.result === "retry") log.warn("delivery failed, will retry", fields);
      else log.info("delivery processed", fields);
      inboxOptions.onAttempt?.(event);
    },
  });
  const processor = createProcessor(deps);
  alarms.handle(PROCESS_DEADLINE, () => inbox.process(processor)).handle(PRUNE_DEADLINE, () => inbox.prune());
  return { alarms, inbox };
}
