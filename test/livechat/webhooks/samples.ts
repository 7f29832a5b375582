/**
 * Webhook bodies for tests, built from LiveChat's documented samples (test/fixtures/livechat).
 *
 * The docs samples are "JSON with comments": placeholders such as `"event": { // "Event" object }`
 * became empty objects when the comments were stripped (test/fixtures/livechat/SOURCES.md). {@link expandedSample}
 * fills them with the documented structures (event.v3.6.*, user.v3.6.*, structure.v3.6.thread), which
 * is what LiveChat actually sends; {@link rawSample} returns the file as published.
 */
import { fixture, fixtureNames } from "../../helpers/fixtures";

export type Body = Record<string, any>;

/** Names of every `webhook.v3.6.*` example, e.g. `webhook.v3.6.incoming_event`. */
export const webhookSampleNames = (): string[] => fixtureNames("webhook.v3.6.");

/** The documented sample body, as published. */
export const rawSample = (name: string): Body => fixture<Body>(name);

/** Samples whose payload holds comment-placeholders emptied to `{}` (see module doc). */
export const placeholderSamples = [
  "webhook.v3.6.incoming_chat",
  "webhook.v3.6.incoming_event",
  "webhook.v3.6.event_updated",
  "webhook.v3.6.user_added_to_chat",
] as const;

/** The documented sample with its placeholders filled by the documented structures. */
export function expandedSample(name: string): Body {
  const body = rawSample(name);
  switch (name) {
    case "webhook.v3.6.incoming_chat":
      body.payload.chat.users = [fixture("user.v3.6.customer"), fixture("user.v3.6.agent")];
      body.payload.chat.properties = fixture<Body>("properties.rating").properties;
      body.payload.chat.thread = fixture("structure.v3.6.thread");
      break;
    case "webhook.v3.6.incoming_event":
      body.payload.event = fixture("event.v3.6.message");
      break;
    case "webhook.v3.6.event_updated":
      body.payload.event = { ...fixture<Body>("event.v3.6.message"), text: "hello there (edited)" };
      break;
    case "webhook.v3.6.user_added_to_chat":
      body.payload.user = fixture("user.v3.6.agent");
      body.payload.user_type = "agent";
      break;
  }
  return body;
}

/** A v3.3-style envelope: numeric `license_id` instead of `organization_id` (docs/LIVECHAT.md §1.2). */
export function withLicenseId(body: Body, licenseId = 104130623): Body {
  const { organization_id: _drop, ...rest } = body;
  return { ...rest, license_id: licenseId };
}

/** An `incoming_event` body carrying `event`. */
export function incomingEvent(event: Body, ids: { chat_id?: string; thread_id?: string } = {}): Body {
  const body = rawSample("webhook.v3.6.incoming_event");
  body.payload = { chat_id: ids.chat_id ?? "PJ0MRSHTDG", thread_id: ids.thread_id ?? "K600PKZON8", event };
  return body;
}

/** A v3.5 `incoming_customer` body (W35): `payload.customer` is a Customer with v3.5's `last_visit`. */
export function v35IncomingCustomer(): Body {
  const customer = fixture<Body>("user.v3.6.customer");
  customer.last_visit = customer.visit;
  delete customer.visit;
  return {
    webhook_id: "<webhook_id>",
    secret_key: "<secret_key>",
    action: "incoming_customer",
    organization_id: "390e44e6-f1e6-0368c-z6ddb-74g14508c2ex",
    payload: { customer },
    additional_data: { chat_properties: {}, chat_presence_user_ids: [] },
  };
}

/** A v3.5 `chat_transferred` body (W35): the queue carries `queued_at_us`. */
export function v35ChatTransferred(): Body {
  const body = rawSample("webhook.v3.6.chat_transferred");
  body.payload.queue = { position: 42, wait_time: 1337, queued_at_us: "2019-12-09T12:01:18.909000Z" };
  return body;
}
