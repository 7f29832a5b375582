// In this order the bundle compresses best (docs/BENCHMARK.md "Bundle").
import { router, timers } from "./handlers";
import { ChatObject } from "./chats/chat-do";
import { LicenseObject } from "./licenses/license-do";
import { deliveryHost } from "./framework/host";
import { chatStub } from "./chats/stub";
import { requireConfig } from "./config";

/**
 * The Durable Object classes wrangler.toml binds. Each DO's modules live in its folder
 * (src/licenses/license-do.ts, src/chats/chat-do.ts); here, the one place above them all
 * (docs/INTERNALS.md "Layers"), they are given the app's handlers (src/handlers.ts), and the
 * License DO the Chat DOs it erases.
 */

/** License DO: one per organization_id (src/licenses/license-do.ts). */
export class License extends LicenseObject {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, {
      // License-scoped deliveries run through the handlers with this DO as their license.
      deliveries: ({ storage, alarms, license, log }, options) =>
        deliveryHost(storage, alarms, { router, config: () => requireConfig(env), license, log }, options),
      eraseChat: (organizationId, chatId) => chatStub(env, organizationId, chatId).erase(),
      chatStorage: (organizationId, chatId) => chatStub(env, organizationId, chatId).storageReport(),
    });
  }
}

/** Chat DO: one per (organization_id, chat_id) (src/chats/chat-do.ts). */
export class Chat extends ChatObject {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env, { router, timers });
  }
}
