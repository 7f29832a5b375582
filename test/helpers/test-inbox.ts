import { NamedAlarms } from "../../src/durable/alarms";
import { AcceptPressure, Inbox, type InboxOptions, type WebhookRules } from "../../src/deliveries";

/** Far-future clock: the storage alarms armed by test inboxes never fire by themselves; tests drive them. */
export const T0 = 4_000_000_000_000;

/**
 * Rules for inbox tests: every delivery belongs to chat CHAT1, its fields come from the body as is, and
 * `dedupe` (the test's own) names its key. LiveChat's own rules are tested with the receiver (test/webhooks).
 */
export function testRules(dedupe: WebhookRules["dedupe"]): WebhookRules {
  return {
    describe: (kind, body, receivedAt) => ({
      kind,
      organizationId: String(body.organization_id),
      chatId: "CHAT1",
      action: String(body.action),
      webhookId: String(body.webhook_id),
      payload: body.payload ?? null,
      receivedAt,
    }),
    dedupe,
  };
}

/** An inbox on a DO's storage with a clock the test moves (starting at {@link T0}) and its own accept rate. */
export function openTestInbox(storage: DurableObjectStorage, options: Partial<InboxOptions> & Pick<InboxOptions, "rules" | "retry">) {
  const clock = { now: T0 };
  const alarms = new NamedAlarms(storage, { now: () => clock.now });
  // Each test its own accept rate: the isolate's is shared by every test of a file.
  const inbox = new Inbox(storage, alarms, { now: () => clock.now, pressure: new AcceptPressure(), ...options });
  return { inbox, alarms, clock, storage };
}
