import type { Logger } from "../log";
import type { ChatHandle, ChatTimers, LicenseRpc, LiveChatApis, PendingTimer } from "./context";

/**
 * The timer side of the handler API: handlers of the chats' logical timers, registered by kind
 * like webhook handlers on the WebhookRouter (./router.ts); the Chat DO runs them (src/chats/timers.ts).
 */

/** What a fired timer's handler gets: the chat and its license, like a webhook handler. */
export interface TimerContext {
  timer: PendingTimer;
  organizationId: string;
  chatId: string;
  license: LicenseRpc;
  api: LiveChatApis;
  chat: ChatHandle & { timers: ChatTimers };
  log: Logger;
}

/** Runs one fired timer. Throwing retries it later with backoff. */
export type TimerHandler = (ctx: TimerContext) => Promise<void> | void;

/** The app's timer handlers by kind (the name up to its first `:`); shared by every Chat DO. */
export class TimerRegistry {
  private readonly handlers = new Map<string, TimerHandler>();

  /** Register the handler of timers named `kind` or `kind:<anything>`. Returns a function that removes it. */
  on(kind: string, handler: TimerHandler): () => void {
    if (!kind || kind.includes(":")) throw new TypeError(`TimerRegistry.on: invalid kind "${kind}"`);
    if (this.handlers.has(kind)) throw new Error(`TimerRegistry.on: a handler for "${kind}" exists`);
    this.handlers.set(kind, handler);
    return () => {
      if (this.handlers.get(kind) === handler) this.handlers.delete(kind);
    };
  }

  /** The handler for timer `name`, if any. */
  handlerFor(name: string): TimerHandler | undefined {
    return this.handlers.get(name.split(":", 1)[0]);
  }
}
