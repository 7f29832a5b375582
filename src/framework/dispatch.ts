import type { Config } from "../config";
import type { AdmittedDelivery, ProcessOutcome, Processor, StoredDelivery } from "../deliveries/types";
import { parseAction, type WebhookAction } from "../livechat/webhooks";
import type { Logger } from "../log";
import { type ChatHandle, type HandlerContext, type LicenseRpc, liveChatApis } from "./context";
import type { WebhookRouter } from "./router";

/** Note recorded on bot deliveries that arrive while the bot is not accepting chats. */
export const BOT_NOT_ACCEPTING = "bot not accepting chats";
/** Note recorded on deliveries for organizations without an installation. */
export const NOT_INSTALLED = "organization has not installed the app";

/** What a DO provides to run deliveries through a router. */
export interface ProcessorDeps {
  router: WebhookRouter;
  /** The validated config (for LiveChat clients); read only when a handler uses `ctx.api`. */
  config: () => Pick<Config, "apiUrl" | "apiVersion" | "botWebhookType">;
  /** The License DO of an organization (its stub, or the License DO itself). */
  license: (organizationId: string) => LicenseRpc;
  /** The chat handle for a chat-scoped delivery (Chat DO only). */
  chat?: (delivery: StoredDelivery) => ChatHandle | undefined;
  log: Logger;
}

/** A handler failed; the message names it, so operators see which one in the dead letter. */
export class HandlerError extends Error {
  constructor(
    readonly handler: string,
    readonly cause: unknown,
  ) {
    super(`handler ${handler} failed: ${cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause)}`);
    this.name = "HandlerError";
  }
}

/**
 * The inbox processor: validate the stored payload (unprocessable: recorded with the validation
 * error, never run), skip organizations without an
 * installation, gate bot deliveries on the bot accepting chats, then run the matching handlers
 * in registration order, skipping those a previous attempt completed. A throwing handler fails
 * the attempt (the inbox retries, then dead-letters).
 */
export function createProcessor(deps: ProcessorDeps): Processor {
  return async ({ delivery, attempt, markHandled }): Promise<ProcessOutcome> => {
    // Validated here, after the 200 (docs/ARCHITECTURE.md "Webhook answers": recorded, not bounced).
    const parsed = parseAction(delivery.action, delivery.payload);
    if (!parsed.ok) return { status: "unprocessable", note: parsed.reason, error: parsed.error };

    const rpc = deps.license(delivery.organizationId);
    const installation = await rpc.installation();
    if (!installation.installed) return { status: "not_installed", note: NOT_INSTALLED };

    const handlers = deps.router.handlersFor(delivery.action, delivery.kind, deps.config().botWebhookType);
    let runnable = handlers;
    let skipped = false;
    // docs/LIVECHAT.md §1.5: the bot reacts only while its routing status is accepting_chats; bot
    // webhooks still arrive while it is not_accepting_chats (recorded, not acted on). Bot behaviours
    // served by license webhooks (BOT_WEBHOOK_TYPE=license) are held to the same rule.
    const gated = (h: (typeof handlers)[number]) => !h.ignoreBotStatus && (delivery.kind === "bot" || h.kind === "bot");
    if (handlers.some(gated)) {
      const bot = await rpc.botRoutingStatus();
      if (!bot.acceptingChats) {
        runnable = handlers.filter((h) => !gated(h));
        skipped = true;
      }
    }

    const ctx = handlerContext(deps, delivery, attempt, parsed.action, rpc);
    const done = new Set(delivery.handled);
    for (const handler of runnable) {
      if (done.has(handler.name)) continue;
      try {
        await handler.run(parsed.payload, ctx);
      } catch (error) {
        throw new HandlerError(handler.name, error);
      }
      markHandled(handler.name);
    }
    if (skipped) return { status: "skipped", note: BOT_NOT_ACCEPTING };
    return handlers.length === 0 ? { status: "processed", note: "no handlers" } : { status: "processed" };
  };
}

function handlerContext(
  deps: ProcessorDeps,
  delivery: AdmittedDelivery,
  attempt: number,
  action: WebhookAction,
  rpc: LicenseRpc,
): HandlerContext {
  let api: ReturnType<typeof liveChatApis> | undefined;
  const chat = deps.chat?.(delivery);
  return {
    action,
    kind: delivery.kind,
    organizationId: delivery.organizationId,
    ...(delivery.chatId !== undefined ? { chatId: delivery.chatId } : {}),
    delivery: {
      id: delivery.id,
      dedupeKey: delivery.dedupeKey,
      webhookId: delivery.webhookId,
      receivedAt: delivery.receivedAt,
      attempt,
      ...(delivery.additionalData !== undefined ? { additionalData: delivery.additionalData } : {}),
      ...(delivery.requester !== undefined ? { requester: delivery.requester } : {}),
    },
    license: {
      organizationId: delivery.organizationId,
      installation: () => rpc.installation(),
      credentials: (rejected) => rpc.credentials(rejected),
      botCredentials: (rejected) => rpc.botCredentials(rejected),
      botInfo: () => rpc.botInfo(),
      settings: () => rpc.settings(),
      botRoutingStatus: () => rpc.botRoutingStatus(),
      recordRoutingStatus: (update) => rpc.recordRoutingStatus(update),
      recordBotDeleted: (update) => rpc.recordBotDeleted(update),
      recordRegion: (region) => rpc.recordRegion(region),
    },
    get api() {
      return (api ??= liveChatApis(deps.config(), rpc));
    },
    ...(chat ? { chat } : {}),
    log: deps.log.child({
      organization_id: delivery.organizationId,
      ...(delivery.chatId !== undefined ? { chat_id: delivery.chatId } : {}),
      action: delivery.action,
      delivery_id: delivery.id,
    }),
  };
}
