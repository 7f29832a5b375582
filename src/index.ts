import { app } from "./app";
import { reconcileFleet } from "./licenses/fleet";

export { License } from "./licenses/license-do";
export { Chat } from "./chats/chat-do";

/** Worker entry: HTTP routes and the reconcile cron. */
export default {
  fetch: app.fetch,
  /** Cron Trigger: every license reconciles itself (src/licenses/fleet.ts). */
  async scheduled(_controller, env, _ctx) {
    await reconcileFleet(env);
  },
} satisfies ExportedHandler<Env>;
