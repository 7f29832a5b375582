/** How many App Webhook events a license keeps. */
export const APP_EVENTS_KEPT = 50;
/** Most payload fields kept per event: documented payloads hold two or three (docs/LIVECHAT.md §7). */
export const APP_EVENT_PAYLOAD_FIELDS = 8;
/** Longest payload string kept (documented values are ids and amounts), in characters. */
export const APP_EVENT_VALUE_LENGTH = 256;

/** A payload value as kept: the documented payloads hold strings and numbers only (docs/LIVECHAT.md §7). */
export type AppEventValue = string | number | boolean | null;

/** One App Webhook event as recorded (docs/LIVECHAT.md §7 / APPWH body fields). */
export interface AppEventRecord {
  event: string;
  /** The event's own `date` (RFC 3339). */
  date?: string;
  receivedAt: number;
  /** What the Worker did with it, e.g. "recorded", "uninstalled", "ignored_stale". */
  outcome: string;
  licenseId?: number;
  userId?: string;
  payload?: Record<string, AppEventValue>;
  /** Set when the payload held more than is kept (nested values, long strings, many fields). */
  payloadTruncated?: true;
}

/** An event as the route hands it over: its payload as posted. */
export type IncomingAppEvent = Omit<AppEventRecord, "payload" | "payloadTruncated"> & { payload?: Record<string, unknown> };

/**
 * The payload as stored: its first {@link APP_EVENT_PAYLOAD_FIELDS} scalar fields, strings cut to
 * {@link APP_EVENT_VALUE_LENGTH}. App Webhooks carry no secret (docs/LIVECHAT.md §7), so anyone who knows
 * our (public) client id can post one; what is kept of it must stay small whatever was posted.
 */
export function boundedPayload(payload: Record<string, unknown>): { payload: Record<string, AppEventValue>; truncated: boolean } {
  const entries = Object.entries(payload);
  let cut = false;
  const kept = entries
    .filter(([key, value]) => key.length <= 64 && (value === null || ["string", "number", "boolean"].includes(typeof value)))
    .slice(0, APP_EVENT_PAYLOAD_FIELDS)
    .map(([key, value]) => {
      if (typeof value !== "string" || value.length <= APP_EVENT_VALUE_LENGTH) return [key, value];
      cut = true;
      return [key, `${value.slice(0, APP_EVENT_VALUE_LENGTH)}…`];
    });
  // fromEntries defines own properties: a key such as `__proto__` is kept as plain data.
  return { payload: Object.fromEntries(kept) as Record<string, AppEventValue>, truncated: cut || kept.length < entries.length };
}

/** Bounded log of App Webhook events in the License DO's storage. */
export class AppEventLog {
  constructor(private readonly storage: DurableObjectStorage) {}

  /** Append an event (its payload bounded by {@link boundedPayload}), keeping the newest {@link APP_EVENTS_KEPT}. */
  async record(incoming: IncomingAppEvent): Promise<void> {
    const { payload, ...rest } = incoming;
    const event: AppEventRecord = { ...rest };
    if (payload) {
      const bounded = boundedPayload(payload);
      event.payload = bounded.payload;
      if (bounded.truncated) event.payloadTruncated = true;
    }
    const events = await this.list();
    events.unshift(event);
    await this.storage.put("app-events", events.slice(0, APP_EVENTS_KEPT));
  }

  /** Events, newest first. */
  async list(): Promise<AppEventRecord[]> {
    return (await this.storage.get<AppEventRecord[]>("app-events")) ?? [];
  }
}
