import { DurableObject } from "cloudflare:workers";

/**
 * License Durable Object: one per organization_id, the single writer of that license's
 * tokens, bot credentials, settings and reconcile state (ARCHITECTURE.md "One writer per license").
 */
export class License extends DurableObject<Env> {}
