import type { ChatHandle, ChatStore, LiveChatApis } from "../framework/context";
import { LiveChatError } from "../livechat/errors";

/**
 * A chat's users as this chat has seen them: id → agent | customer (+ name, presence), learned
 * from `incoming_chat` (`chat.users`), `user_added_to_chat`, `user_removed_from_chat`
 * (docs/LIVECHAT.md §2.3) and, for an author nobody told us about, from `get_chat` (§4.3).
 * Bots appear as agents (docs/LIVECHAT.md §4.4); our own bot is recognised by the license's bot id.
 */

/** What is kept per user. */
export interface KnownUser {
  /** `agent` or `customer` (another string for a user kind LiveChat adds later). */
  type: string;
  name?: string;
  present?: boolean;
  visibility?: string;
}

/** Who wrote something, from the bot's point of view. */
export type UserRole = "bot" | "agent" | "customer" | "unknown";

const KEY = "user:";

/** Any user object LiveChat sends (webhook or API shape). */
type UserLike = { id: string; type: string; name?: string; present?: boolean; visibility?: string };

/** The chat's users in its chat store. */
export class ChatUsers {
  constructor(private readonly store: ChatStore) {}

  /** Remember users (e.g. `incoming_chat`'s `chat.users`, `get_chat`'s `users`), replacing what was known. */
  async learn(users: readonly UserLike[]): Promise<void> {
    for (const user of users) await this.store.put(KEY + user.id, known(user));
  }

  /** A user left the chat (`user_removed_from_chat`): still known by type, no longer present. */
  async removed(userId: string, userType?: string): Promise<void> {
    const current = await this.get(userId);
    const type = current?.type ?? userType;
    if (type === undefined) return;
    await this.store.put(KEY + userId, { ...current, type, present: false });
  }

  /** What is known about `userId`. */
  get(userId: string): Promise<KnownUser | undefined> {
    return this.store.get<KnownUser>(KEY + userId);
  }
}

function known(user: UserLike): KnownUser {
  return {
    type: user.type,
    ...(user.name !== undefined ? { name: user.name } : {}),
    ...(user.present !== undefined ? { present: user.present } : {}),
    ...(user.visibility !== undefined ? { visibility: user.visibility } : {}),
  };
}

/** What {@link roleOf} needs from a handler or timer context. */
export interface UserScope {
  chat: Pick<ChatHandle, "id" | "store">;
  api: Pick<LiveChatApis, "agent">;
}

/**
 * The role of `userId` in the chat: our bot (`botId`, the license's bot), an agent, a customer,
 * or unknown. A user this chat has not seen yet is looked up with `get_chat` as the license and
 * every user of the answer is remembered; a chat LiveChat no longer has (`not_found`) gives
 * `unknown`.
 */
export async function roleOf(scope: UserScope, userId: string, botId: string | undefined): Promise<UserRole> {
  if (botId !== undefined && botId === userId) return "bot";
  const users = new ChatUsers(scope.chat.store);
  let user = await users.get(userId);
  if (!user) {
    try {
      const chat = await scope.api.agent.getChat({ chat_id: scope.chat.id });
      await users.learn(chat.users);
    } catch (err) {
      if (!(err instanceof LiveChatError && err.type === "not_found")) throw err;
    }
    user = await users.get(userId);
  }
  if (user?.type === "agent") return "agent";
  if (user?.type === "customer") return "customer";
  return "unknown";
}
