import * as z from "zod/mini";
import { forwardParse, Id, PropertiesSchema } from "./common";

/**
 * Chat events (docs/LIVECHAT.md §4.4 "Event types"; examples event.v3.6.*.json) and the event actions
 * `incoming_event`, `event_updated`, `event_deleted`, `incoming_rich_message_postback` (docs/LIVECHAT.md §2.3).
 *
 * The event schema dispatches on `type`; a type we do not know parses as {@link UnknownEvent}
 * (forward compatible), and a deleted-event stub (`deleted: true`, 3.6) as {@link DeletedEvent}.
 * Narrow with {@link isEventType}, which excludes both.
 */

const eventCommon = {
  id: Id,
  custom_id: z.optional(z.string()),
  created_at: z.optional(z.string()),
  /** `all` or `agents` (ADS); kept a string so a new visibility does not reject the event. */
  visibility: z.optional(z.string()),
  properties: z.optional(PropertiesSchema),
};

/** Template variables of system messages are strings; scalars are converted (docs/LIVECHAT.md §5 reads `text_vars.score`). */
const TextVar = z.pipe(z.union([z.string(), z.number(), z.boolean()]), z.transform((v) => String(v)));

export const MessageEventSchema = z.looseObject({
  ...eventCommon,
  type: z.literal("message"),
  author_id: Id,
  text: z.string(),
  postback: z.optional(z.looseObject({ id: z.optional(z.string()), value: z.optional(z.string()) })),
});
export type MessageEvent = z.output<typeof MessageEventSchema>;

export const RichMessageEventSchema = z.looseObject({
  ...eventCommon,
  type: z.literal("rich_message"),
  author_id: Id,
  template_id: z.optional(z.string()),
  elements: z.optional(z.array(z.looseObject({ title: z.optional(z.string()) }))),
});
export type RichMessageEvent = z.output<typeof RichMessageEventSchema>;

export const FileEventSchema = z.looseObject({
  ...eventCommon,
  type: z.literal("file"),
  author_id: Id,
  url: z.string(),
  name: z.optional(z.string()),
  content_type: z.optional(z.string()),
  size: z.optional(z.number()),
});
export type FileEvent = z.output<typeof FileEventSchema>;

const FormField = z.looseObject({ id: z.optional(z.string()), type: z.string(), label: z.optional(z.string()) });

export const FormEventSchema = z.looseObject({
  ...eventCommon,
  type: z.literal("form"),
  author_id: z.optional(Id),
  form_id: z.optional(z.string()),
  form_type: z.optional(z.string()),
  fields: z.optional(z.array(FormField)),
});
export type FormEvent = z.output<typeof FormEventSchema>;

export const FilledFormEventSchema = z.looseObject({
  ...eventCommon,
  type: z.literal("filled_form"),
  author_id: Id,
  form_id: z.optional(z.string()),
  form_type: z.optional(z.string()),
  fields: z.optional(z.array(FormField)),
});
export type FilledFormEvent = z.output<typeof FilledFormEventSchema>;

export const CustomEventSchema = z.looseObject({
  ...eventCommon,
  type: z.literal("custom"),
  author_id: z.optional(Id),
  content: z.optional(z.unknown()),
});
export type CustomEvent = z.output<typeof CustomEventSchema>;

/** System messages have no `author_id` (docs/LIVECHAT.md §4.4); ratings arrive as `rating.chat_rated` (§5). */
export const SystemMessageEventSchema = z.looseObject({
  ...eventCommon,
  type: z.literal("system_message"),
  system_message_type: z.string(),
  text: z.optional(z.string()),
  text_vars: z.optional(z.record(z.string(), TextVar)),
});
export type SystemMessageEvent = z.output<typeof SystemMessageEventSchema>;

/** The v3.6 `system` event (e.g. commerce activity, example event.v3.6.system.json). */
export const SystemEventSchema = z.looseObject({
  ...eventCommon,
  type: z.literal("system"),
  subtype: z.optional(z.string()),
  source: z.optional(z.string()),
  details: z.optional(z.string()),
});
export type SystemEvent = z.output<typeof SystemEventSchema>;

/** Stub of a deleted event (3.6: `deleted: true`, original `type`, no content; docs/LIVECHAT.md §4.4). */
export const DeletedEventSchema = z.looseObject({
  id: Id,
  type: z.string(),
  deleted: z.literal(true),
  author_id: z.optional(Id),
  created_at: z.optional(z.string()),
});
export type DeletedEvent = z.output<typeof DeletedEventSchema>;

/** An event of a type this code does not know yet. */
export const UnknownEventSchema = z.looseObject({ ...eventCommon, type: z.string(), author_id: z.optional(z.string()) });
export type UnknownEvent = z.output<typeof UnknownEventSchema>;

/** Event types of v3.6 (docs/LIVECHAT.md §4.4). */
export const eventTypes = ["message", "rich_message", "file", "form", "filled_form", "custom", "system_message", "system"] as const;
export type KnownEventType = (typeof eventTypes)[number];

/** Events with a known type, discriminated on `type`. */
export type KnownEvent =
  | MessageEvent
  | RichMessageEvent
  | FileEvent
  | FormEvent
  | FilledFormEvent
  | CustomEvent
  | SystemMessageEvent
  | SystemEvent;

/** Any chat event; use {@link isEventType} to narrow to a known type. */
export type ChatEvent = KnownEvent | DeletedEvent | UnknownEvent;

const eventSchemas = new Map<string, z.ZodMiniType>([
  ["message", MessageEventSchema],
  ["rich_message", RichMessageEventSchema],
  ["file", FileEventSchema],
  ["form", FormEventSchema],
  ["filled_form", FilledFormEventSchema],
  ["custom", CustomEventSchema],
  ["system_message", SystemMessageEventSchema],
  ["system", SystemEventSchema],
]);

/** A chat event, validated by the schema its `type` (or `deleted: true`) selects. */
export const ChatEventSchema = z.pipe(
  z.looseObject({ type: z.string(), deleted: z.optional(z.unknown()) }),
  z.transform((raw, ctx): ChatEvent => {
    const schema = raw.deleted === true ? DeletedEventSchema : (eventSchemas.get(raw.type) ?? UnknownEventSchema);
    return forwardParse(schema, raw, ctx) as ChatEvent;
  }),
);

/**
 * Narrow an event to a known type. False for deleted stubs (they keep the original `type` but
 * have no content) and for unknown types.
 *
 * @example if (isEventType(event, "message")) reply(event.text);
 */
export function isEventType<T extends KnownEventType>(event: ChatEvent, type: T): event is Extract<KnownEvent, { type: T }> {
  return event.type === type && (event as { deleted?: unknown }).deleted !== true && eventSchemas.has(type);
}

/** True for the deleted-event stub of v3.6. */
export function isDeletedEvent(event: ChatEvent): event is DeletedEvent {
  return (event as { deleted?: unknown }).deleted === true;
}

/** `incoming_event` / `event_updated`: `chat_id`, `thread_id`, `event` (docs/LIVECHAT.md §2.3 / W36, W35). */
export const IncomingEventPayloadSchema = z.looseObject({ chat_id: Id, thread_id: Id, event: ChatEventSchema });
export type IncomingEventPayload = z.output<typeof IncomingEventPayloadSchema>;
export const EventUpdatedPayloadSchema = IncomingEventPayloadSchema;
export type EventUpdatedPayload = IncomingEventPayload;

/** `event_deleted` (3.6 only): `chat_id`, `thread_id`, `event_id` (docs/LIVECHAT.md §2.3 / W36). */
export const EventDeletedPayloadSchema = z.looseObject({ chat_id: Id, thread_id: Id, event_id: Id });
export type EventDeletedPayload = z.output<typeof EventDeletedPayloadSchema>;

/**
 * `incoming_rich_message_postback`: `user_id`, `chat_id`, `thread_id`, `event_id`,
 * `postback {id, toggled, button_type?, button_value?, ecommerce?}` (last three 3.6; docs/LIVECHAT.md §2.3).
 */
export const IncomingRichMessagePostbackPayloadSchema = z.looseObject({
  user_id: Id,
  chat_id: Id,
  thread_id: Id,
  event_id: Id,
  postback: z.looseObject({
    id: z.string(),
    toggled: z.boolean(),
    button_type: z.optional(z.string()),
    button_value: z.optional(z.string()),
    ecommerce: z.optional(
      z.looseObject({
        product_id: z.optional(z.string()),
        option_id: z.optional(z.string()),
        quantity: z.optional(z.number()),
      }),
    ),
  }),
});
export type IncomingRichMessagePostbackPayload = z.output<typeof IncomingRichMessagePostbackPayloadSchema>;
