import * as z from "zod/mini";

/**
 * Building blocks shared by the per-action payload schemas. Every object schema is a
 * `z.looseObject`: fields the code reads are checked, everything else passes through untouched
 * so that LiveChat can add fields without breaking us (docs/LIVECHAT.md §2.3).
 */

/** Longest identifier (chat, thread, event, user, webhook, organization id) we accept. */
export const MAX_ID_LENGTH = 512;

/** A non-empty identifier of bounded length (LiveChat ids are 10–64 characters; emails ≤ 254). */
export const Id = z.string().check(z.minLength(1), z.maxLength(MAX_ID_LENGTH));

/** Integer ids, e.g. group ids (`group_created.id: int`, `access.group_ids: int[]`, docs/LIVECHAT.md §2.3). */
export const IntId = z.int();

/** Access structure `{group_ids: int[]}` (docs/LIVECHAT.md §2.3 `chat_access_updated`, ADS). */
export const AccessSchema = z.looseObject({
  group_ids: z.optional(z.array(IntId)),
});
export type Access = z.output<typeof AccessSchema>;

/** A rating score is an int (`0` bad, `1` good, docs/LIVECHAT.md §5); a numeric string is accepted and converted. */
const RatingScore = z.union([
  z.number(),
  z.pipe(z.string().check(z.regex(/^-?\d{1,6}$/)), z.transform((s) => Number(s))),
]);

/** The `rating` properties namespace: `score` and `comment` (docs/LIVECHAT.md §5 / PROPS "rating"). */
export const RatingPropertiesSchema = z.looseObject({
  score: z.optional(z.nullable(RatingScore)),
  comment: z.optional(z.nullable(z.string())),
});
export type RatingProperties = z.output<typeof RatingPropertiesSchema>;

/**
 * Properties `{namespace: {name: value}}` (docs/LIVECHAT.md §4.4 / ADS "Properties"); the `rating`
 * namespace is typed because the rating behaviour reads `properties.rating.score` (docs/LIVECHAT.md §5).
 */
export const PropertiesSchema = z.catchall(
  z.object({ rating: z.optional(RatingPropertiesSchema) }),
  z.record(z.string(), z.unknown()),
);
export type Properties = z.output<typeof PropertiesSchema>;

/** Deleted properties `{namespace: [names]}` (docs/LIVECHAT.md §2.3 `*_properties_deleted`). */
export const DeletedPropertiesSchema = z.record(z.string(), z.array(z.string()));
export type DeletedProperties = z.output<typeof DeletedPropertiesSchema>;

/** Queue info; v3.5 samples write `queued_at_us` where v3.6 writes `queued_at` (docs/LIVECHAT.md §2.3 / W35). */
export const QueueSchema = z.pipe(
  z.looseObject({
    position: z.optional(z.number()),
    wait_time: z.optional(z.number()),
    queued_at: z.optional(z.string()),
    queued_at_us: z.optional(z.union([z.string(), z.number()])),
  }),
  // Normalised once: handlers read `queued_at` whatever the API version.
  z.transform((q) => ({ ...q, queued_at: q.queued_at ?? (typeof q.queued_at_us === "string" ? q.queued_at_us : undefined) })),
);
export type Queue = z.output<typeof QueueSchema>;

/** Payload of configuration actions that only carry an id (`agent_approved`, `bot_deleted`, ..., docs/LIVECHAT.md §2.3). */
export const IdOnlySchema = z.looseObject({ id: Id });

/** A numeric LiveChat license id (`license_id` of v3.3-style bodies, `licenseID` of App Webhooks): a positive safe integer. */
export function isLicenseNumber(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value > 0;
}

/** Plain-object test used on raw (unvalidated) input: not null, not an array. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `value` when it is an identifier-like string (non-empty, at most {@link MAX_ID_LENGTH}), else undefined. */
export function idString(value: unknown): string | undefined {
  return typeof value === "string" && value.length > 0 && value.length <= MAX_ID_LENGTH ? value : undefined;
}

/**
 * Re-dispatch `value` to one of several schemas chosen by a discriminator, inside a transform,
 * so the chosen schema's own issues (with their paths) are reported instead of a vague union error.
 */
export function forwardParse<S extends z.ZodMiniType>(
  schema: S,
  value: unknown,
  ctx: { issues: unknown[] },
): z.output<S> | typeof z.NEVER {
  const result = schema.safeParse(value, { reportInput: true });
  if (result.success) return result.data as z.output<S>;
  for (const issue of result.error.issues) ctx.issues.push({ ...issue });
  return z.NEVER;
}
