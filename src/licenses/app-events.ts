/** How many App Webhook events a license keeps. */
export const APP_EVENTS_KEPT = 50;

/** One App Webhook event as recorded (PLATFORM.md §7 / APPWH body fields). */
export interface AppEventRecord {
  event: string;
  /** The event's own `date` (RFC 3339). */
  date?: string;
  receivedAt: number;
  /** What the Worker did with it, e.g. "recorded", "uninstalled", "ignored_stale". */
  outcome: string;
  licenseId?: number;
  userId?: string;
  payload?: Record<string, unknown>;
}

/** Bounded log of App Webhook events in the License DO's storage. */
export class AppEventLog {
  constructor(private readonly storage: DurableObjectStorage) {}

  /** Append an event, keeping the newest {@link APP_EVENTS_KEPT}. */
  async record(event: AppEventRecord): Promise<void> {
    const events = await this.list();
    events.unshift(event);
    await this.storage.put("app-events", events.slice(0, APP_EVENTS_KEPT));
  }

  /** Events, newest first. */
  async list(): Promise<AppEventRecord[]> {
    return (await this.storage.get<AppEventRecord[]>("app-events")) ?? [];
  }
}
