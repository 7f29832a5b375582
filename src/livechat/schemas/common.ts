import * as z from "zod/mini";

/**
 * Structures shared by several LiveChat bodies. Every object is loose: fields the code does
 * not read pass through untouched, so new LiveChat fields never break parsing (docs/ARCHITECTURE.md
 * "Forward compatible").
 */

/** Properties: `{namespace: {name: value}}` (docs/LIVECHAT.md §4.4 / ADS "Properties"). */
export const propertiesSchema = z.record(z.string(), z.record(z.string(), z.unknown()));
export type Properties = z.infer<typeof propertiesSchema>;

/** Access of a chat or thread: the groups that can see it (ADS "Access"). */
export const accessSchema = z.looseObject({
  group_ids: z.optional(z.array(z.number())),
});
export type Access = z.infer<typeof accessSchema>;

/** Event visibility (ADS "Events"; docs/LIVECHAT.md §4.3 send_event). */
export const visibilitySchema = z.enum(["all", "agents"]);
export type Visibility = z.infer<typeof visibilitySchema>;

/** Pagination fields of list responses (docs/LIVECHAT.md §4.1 "Pagination"). */
export const pageShape = {
  next_page_id: z.optional(z.string()),
  previous_page_id: z.optional(z.string()),
};
