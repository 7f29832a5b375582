/** Name of the Chat DO of one chat: `${organization_id}:${chat_id}` (INTERNALS.md "Durable objects"). */
export function chatObjectName(organizationId: string, chatId: string): string {
  return `${organizationId}:${chatId}`;
}

/** The Chat DO of one chat (one per organization_id + chat_id). */
export function chatStub(env: Env, organizationId: string, chatId: string) {
  return env.CHATS.get(env.CHATS.idFromName(chatObjectName(organizationId, chatId)));
}
