import { app } from "./app";

export { License } from "./licenses/license-do";
export { Chat } from "./chats/chat-do";

/** Worker entry: HTTP routes and the reconcile cron. */
export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Env>;
