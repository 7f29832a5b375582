/**
 * Routing statuses. The `routing_status_set` webhook documents `accepting chats`, `not accepting chats`,
 * `offline` (bots only) with spaces, while the Agent Chat API and RTM pushes use `accepting_chats` /
 * `not_accepting_chats` (docs/LIVECHAT.md §2.3 `routing_status_set`, §4.3 `set_routing_status`).
 * Both spellings are normalised here, once, to the API spelling.
 */

/** Canonical (API) spelling of a routing status. */
export type RoutingStatus = "accepting_chats" | "not_accepting_chats" | "offline";

const canonical: ReadonlySet<string> = new Set<RoutingStatus>(["accepting_chats", "not_accepting_chats", "offline"]);

/**
 * Canonical routing status for any documented spelling: case-insensitive, spaces, hyphens and
 * underscores interchangeable (`"accepting chats"`, `"Accepting_Chats"` → `"accepting_chats"`).
 * Undefined for anything else.
 */
export function normalizeRoutingStatus(value: string): RoutingStatus | undefined {
  if (typeof value !== "string" || value.length > 64) return undefined;
  const key = value.trim().toLowerCase().replace(/[\s_-]+/g, "_");
  return canonical.has(key) ? (key as RoutingStatus) : undefined;
}
