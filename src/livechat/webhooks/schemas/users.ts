import * as z from "zod/mini";
import { forwardParse, Id } from "./common";

/**
 * Chat users (docs/LIVECHAT.md §4.4 "Users"; examples user.v3.6.agent.json / user.v3.6.customer.json).
 * A user is an `agent` (bots appear as agents) or a `customer`; an unknown `type` still parses as
 * {@link UnknownUser} so a new user kind cannot make a whole chat unprocessable.
 */

/** Customer visit; v3.6 calls it `visit`, v3.5 `last_visit` (docs/LIVECHAT.md §4.4, ACL). */
export const VisitSchema = z.looseObject({
  started_at: z.optional(z.string()),
  ended_at: z.optional(z.string()),
  referrer: z.optional(z.string()),
  last_pages: z.optional(z.array(z.looseObject({ url: z.optional(z.string()), title: z.optional(z.string()) }))),
});
export type Visit = z.output<typeof VisitSchema>;

const userCommon = {
  id: Id,
  name: z.optional(z.string()),
  email: z.optional(z.string()),
  present: z.optional(z.boolean()),
  events_seen_up_to: z.optional(z.string()),
};

export const AgentUserSchema = z.looseObject({
  ...userCommon,
  type: z.literal("agent"),
  visibility: z.optional(z.string()),
});
/** An agent (or bot) in a chat. */
export type AgentUser = z.output<typeof AgentUserSchema>;

const customerFields = {
  ...userCommon,
  visit: z.optional(VisitSchema),
  last_visit: z.optional(VisitSchema),
  session_fields: z.optional(z.array(z.record(z.string(), z.unknown()))),
};

/** Normalised once: handlers read `visit` whatever the API version (v3.5 `last_visit`). */
const withVisit = <T extends { visit?: Visit; last_visit?: Visit }>(c: T) => ({ ...c, visit: c.visit ?? c.last_visit });

export const CustomerUserSchema = z.pipe(
  z.looseObject({ ...customerFields, type: z.literal("customer") }),
  z.transform(withVisit),
);
/** A customer in a chat; `visit` is filled from v3.5's `last_visit` when needed. */
export type CustomerUser = z.output<typeof CustomerUserSchema>;

/**
 * A customer outside a chat (`incoming_customer.customer`, v3.5 only, docs/LIVECHAT.md §2.3 / W35):
 * the same structure, `type` may be omitted.
 */
export const CustomerProfileSchema = z.pipe(
  z.looseObject({ ...customerFields, type: z.optional(z.literal("customer")) }),
  z.transform(withVisit),
);
export type CustomerProfile = z.output<typeof CustomerProfileSchema>;

export const UnknownUserSchema = z.looseObject({ id: Id, type: z.string() });
/** A user whose `type` is neither `agent` nor `customer` (forward compatibility). */
export type UnknownUser = z.output<typeof UnknownUserSchema>;

/** Any chat user; narrow with {@link isAgentUser} / {@link isCustomerUser}. */
export type ChatUser = AgentUser | CustomerUser | UnknownUser;

const userSchemas = new Map<string, z.ZodMiniType>([
  ["agent", AgentUserSchema],
  ["customer", CustomerUserSchema],
]);

/** A chat user, validated by the schema its `type` selects. */
export const ChatUserSchema = z.pipe(
  z.looseObject({ type: z.string() }),
  z.transform((raw, ctx): ChatUser => forwardParse(userSchemas.get(raw.type) ?? UnknownUserSchema, raw, ctx) as ChatUser),
);

/** True for agents (bots included, docs/LIVECHAT.md §4.4). */
export function isAgentUser(user: ChatUser): user is AgentUser {
  return user.type === "agent";
}

/** True for customers. */
export function isCustomerUser(user: ChatUser): user is CustomerUser {
  return user.type === "customer";
}
