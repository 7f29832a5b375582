import * as z from "zod/mini";
import { DeletedPropertiesSchema, Id, PropertiesSchema } from "./common";

/**
 * Property actions (docs/LIVECHAT.md §2.1 "Properties", payloads §2.3). Updates carry only the changed
 * properties `{namespace: {name: value}}`; deletions `{namespace: [names]}`. A chat rating arrives
 * as `thread_properties_updated` with `properties.rating.score` (docs/LIVECHAT.md §5).
 */

export const ChatPropertiesUpdatedPayloadSchema = z.looseObject({ chat_id: Id, properties: PropertiesSchema });
export type ChatPropertiesUpdatedPayload = z.output<typeof ChatPropertiesUpdatedPayloadSchema>;

export const ChatPropertiesDeletedPayloadSchema = z.looseObject({ chat_id: Id, properties: DeletedPropertiesSchema });
export type ChatPropertiesDeletedPayload = z.output<typeof ChatPropertiesDeletedPayloadSchema>;

export const ThreadPropertiesUpdatedPayloadSchema = z.looseObject({ chat_id: Id, thread_id: Id, properties: PropertiesSchema });
export type ThreadPropertiesUpdatedPayload = z.output<typeof ThreadPropertiesUpdatedPayloadSchema>;

export const ThreadPropertiesDeletedPayloadSchema = z.looseObject({
  chat_id: Id,
  thread_id: Id,
  properties: DeletedPropertiesSchema,
});
export type ThreadPropertiesDeletedPayload = z.output<typeof ThreadPropertiesDeletedPayloadSchema>;

export const EventPropertiesUpdatedPayloadSchema = z.looseObject({
  chat_id: Id,
  thread_id: Id,
  event_id: Id,
  properties: PropertiesSchema,
});
export type EventPropertiesUpdatedPayload = z.output<typeof EventPropertiesUpdatedPayloadSchema>;

export const EventPropertiesDeletedPayloadSchema = z.looseObject({
  chat_id: Id,
  thread_id: Id,
  event_id: Id,
  properties: DeletedPropertiesSchema,
});
export type EventPropertiesDeletedPayload = z.output<typeof EventPropertiesDeletedPayloadSchema>;
