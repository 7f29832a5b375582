import { DurableObject } from "cloudflare:workers";

/**
 * Chat Durable Object: one per (organization_id, chat_id). Records deliveries durably
 * before the ack, processes them in order, and runs the chat's timers on its alarm.
 */
export class Chat extends DurableObject<Env> {}
