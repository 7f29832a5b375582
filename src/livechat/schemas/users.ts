import * as z from "zod/mini";

/**
 * Chat users (ADS "Users"; test/fixtures/livechat/user.v3.6.*.json). Bots appear as `agent` users
 * (docs/LIVECHAT.md §4.4). v3.6 renamed customer `last_visit` → `visit`; both pass through.
 */
export const userSchema = z.looseObject({
  id: z.string(),
  /** "agent" or "customer"; kept a string so new kinds do not break parsing. */
  type: z.string(),
  name: z.optional(z.string()),
  email: z.optional(z.string()),
  present: z.optional(z.boolean()),
  avatar: z.optional(z.string()),
  visibility: z.optional(z.string()),
  events_seen_up_to: z.optional(z.string()),
  created_at: z.optional(z.string()),
});
export type ChatUser = z.infer<typeof userSchema>;

/** `agent` or `customer`, for `add_user_to_chat` / `remove_user_from_chat` (docs/LIVECHAT.md §4.3). */
export const userTypeSchema = z.enum(["agent", "customer"]);
export type UserType = z.infer<typeof userTypeSchema>;
