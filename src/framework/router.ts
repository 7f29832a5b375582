import type { WebhookKind } from "../deliveries/types";
import type { WebhookAction, WebhookPayload } from "../livechat/webhooks";
import type { HandlerContext } from "./context";

/**
 * A webhook handler. `payload` is the validated payload of `A` (routing statuses normalised);
 * for a handler registered on several actions, `ctx.action` tells which one arrived.
 * Throwing (or rejecting) fails the delivery: it is retried with backoff, then dead-lettered.
 * Deliveries are at-least-once: make side effects idempotent (e.g. `custom_id` on `send_event`).
 */
export type Handler<A extends WebhookAction> = (payload: WebhookPayload<A>, ctx: HandlerContext<A>) => Promise<void> | void;

/** Options of {@link WebhookRouter.on}. */
export interface HandlerOptions {
  /**
   * Stable name, used in logs and to skip handlers that already completed when a delivery is
   * retried. Defaults to `<actions>#<registration index>`.
   */
  name?: string;
  /**
   * Which webhook the handler needs (setup registers from it, `src/setup/declaration.ts`):
   * - `"bot"`: a bot behaviour. Served by a `bot` webhook, which LiveChat delivers only while the
   *   bot is not offline (docs/LIVECHAT.md §1.5), and run only while the bot accepts chats. A
   *   deployment with `BOT_WEBHOOK_TYPE=license` serves it from license webhooks instead (same gate).
   * - `"license"`: must arrive whatever the bot's status (e.g. `chat_deactivated` ending a timer);
   *   a license webhook, never gated.
   * - none: runs for deliveries of both endpoints; registered as a license webhook.
   */
  kind?: WebhookKind;
  /**
   * Run for bot deliveries even while the bot is not accepting chats (bot webhooks are otherwise
   * acted on only while it is, docs/LIVECHAT.md §1.5). For bookkeeping such as status tracking.
   */
  ignoreBotStatus?: boolean;
}

/** A handler as registered. */
export interface RegisteredHandler {
  name: string;
  actions: readonly string[];
  kind?: WebhookKind;
  ignoreBotStatus: boolean;
  run(payload: unknown, ctx: HandlerContext): Promise<void>;
}

/**
 * Registry of typed webhook handlers, the framework's face (docs/ARCHITECTURE.md: "typed webhook
 * handlers"). Handlers run in registration order, after the delivery is stored and acked, in
 * arrival order per chat.
 *
 * @example
 * import { router } from "./handlers";
 * router.on("incoming_event", async (payload, ctx) => {
 *   if (payload.event.type === "message") ctx.log.info("message", { chat_id: payload.chat_id });
 * });
 * router.on(["thread_tagged", "thread_untagged"], (payload, ctx) => ctx.log.info(ctx.action, { tag: payload.tag }));
 */
export class WebhookRouter {
  private readonly registered: RegisteredHandler[] = [];
  private count = 0;

  /**
   * Register `handler` for `action` (or each of `actions`). Returns a function that removes it.
   */
  on<A extends WebhookAction>(action: A | readonly A[], handler: Handler<A>, options: HandlerOptions = {}): () => void {
    const actions: readonly A[] = typeof action === "string" ? [action] : action;
    if (actions.length === 0) throw new TypeError("WebhookRouter.on: no action given");
    const name = options.name ?? `${actions.join("|")}#${this.count}`;
    this.count++;
    if (this.registered.some((r) => r.name === name)) throw new Error(`WebhookRouter.on: a handler named "${name}" exists`);
    const entry: RegisteredHandler = {
      name,
      actions,
      ...(options.kind ? { kind: options.kind } : {}),
      ignoreBotStatus: options.ignoreBotStatus ?? false,
      run: async (payload, ctx) => handler(payload as WebhookPayload<A>, ctx as HandlerContext<A>),
    };
    this.registered.push(entry);
    return () => {
      const index = this.registered.indexOf(entry);
      if (index >= 0) this.registered.splice(index, 1);
    };
  }

  /**
   * Handlers for `action` arriving on the `kind` endpoint, in registration order. With
   * `botWebhookType` "license", bot behaviours (`kind: "bot"`) are served by license deliveries.
   */
  handlersFor(action: string, kind: WebhookKind, botWebhookType: WebhookKind = "bot"): RegisteredHandler[] {
    return this.registered.filter(
      (r) => r.actions.includes(action) && (r.kind === undefined || r.kind === kind || (kind === "license" && r.kind === "bot" && botWebhookType === "license")),
    );
  }
}
