/**
 * Name of the Chat DO of one chat: `${organization_id}:${chat_id}` with `%` and `:` escaped in
 * each part (as `%25`, `%3A`), so two different pairs never share a name (both ids are strings
 * LiveChat chooses, and either may hold a `:`). Ids without `%` or `:`, which every LiveChat
 * organization id (a UUID) and chat id is, keep the name they always had: existing Chat DOs
 * stay reachable (docs/SECURITY.md "Durable Object names").
 */
export function chatObjectName(organizationId: string, chatId: string): string {
  return `${escapeNamePart(organizationId)}:${escapeNamePart(chatId)}`;
}

/** One part of a DO name with its separator escaped: `%` → `%25` first, then `:` → `%3A` (reversible). */
function escapeNamePart(part: string): string {
  return part.includes("%") || part.includes(":") ? part.replaceAll("%", "%25").replaceAll(":", "%3A") : part;
}

/** The Chat DO of one chat (one per organization_id + chat_id). */
export function chatStub(env: Env, organizationId: string, chatId: string) {
  return env.CHATS.get(env.CHATS.idFromName(chatObjectName(organizationId, chatId)));
}
