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
  // Finished deliveries are summed per processing pass and logged once per pass (one line per
  // delivery cost more than the ack itself under load); failures are still logged one by one.
  let pass: { organization_id: string; chat_id?: string; processed: number; outcomes: Record<string, number> } | undefined;
  const inbox = new Inbox(storage, alarms, {
    ...inboxOptions,
    onPassEnd: () => {
      if (pass) log.info("deliveries processed", pass);
      pass = undefined;
      inboxOptions.onPassEnd?.();
    },
    onAttempt: (event) => {
      const { delivery } = event;
      if (event.result !== "dead" && event.result !== "retry") {
        pass ??= {
          organization_id: delivery.organizationId,
          ...(delivery.chatId !== undefined ? { chat_id: delivery.chatId } : {}),
          processed: 0,
          outcomes: {},
        };
        pass.processed++;
        pass.outcomes[event.result] = (pass.outcomes[event.result] ?? 0) + 1;
      }
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
      else log.debug("delivery processed", fields); // the receive line and the journal already tell
      inboxOptions.onAttempt?.(event);
    },
  });
  const processor = createProcessor(deps);
  alarms.handle(PROCESS_DEADLINE, () => inbox.process(processor)).handle(PRUNE_DEADLINE, async () => {
    await inbox.prune();
  });
  return { alarms, inbox };
}
