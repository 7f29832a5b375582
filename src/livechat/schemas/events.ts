import * as z from "zod/mini";
import { propertiesSchema } from "./common";

/** Longest message text, in UTF-8 bytes (ADS "Message": 16 KB raw, docs/LIVECHAT.md §4.3), with margin. */
export const MAX_TEXT_BYTES = 16_000;

/**
 * Chat events as the Agent Chat API returns them (docs/LIVECHAT.md §4.4; samples
 * test/fixtures/livechat/event.v3.6.*.json). Only the common fields are typed; type-specific ones
 * (`fields`, `content`, `elements`, `url`…) pass through.
 */
export const eventSchema = z.looseObject({
  id: z.string(),
  type: z.string(),
  created_at: z.optional(z.string()),
  /** Absent on `system_message` events (ADS "System message"). */
  author_id: z.optional(z.string()),
  visibility: z.optional(z.string()),
  custom_id: z.optional(z.string()),
  text: z.optional(z.string()),
  properties: z.optional(propertiesSchema),
  /** 3.6: true for deleted events (docs/LIVECHAT.md §4.4). */
  deleted: z.optional(z.boolean()),
  system_message_type: z.optional(z.string()),
  text_vars: z.optional(z.record(z.string(), z.unknown())),
});
export type ChatEvent = z.infer<typeof eventSchema>;

