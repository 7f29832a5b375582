import { ChatUsers, roleOf } from "../chats/users";
import type { ChatHandle, HandlerContext } from "../framework/context";
import type { TimerContext } from "../framework/timers";
import type { ChatEvent as ApiEvent } from "../livechat/schemas/events";
import { type ChatEvent, isEventType } from "../livechat/webhooks";
import { type ActiveChat, activeChat, botOnDuty, type BotScope, sendOnce } from "./send";

/**
 * The reply timer (issue 4 "Reply timer"): a customer message opens an "unanswered stretch" and
 * starts the chat's `reply` timer unless one is running; an agent's message (not our bot's) that
 * the customer can see closes the stretch and cancels the timer; a transfer restarts the wait;
 * `chat_deactivated` of the stretch's thread cancels everything. When the timer fires and the
 * chat is still active and unanswered, the bot tells the customer the license's `replyMessage`,
 * once per stretch.
 *
 * Only events with `visibility` "all" (or none) are an answer: an agents-only event (a
 * supervisor's whisper, another bot's note, docs/LIVECHAT.md §4.3 `send_event` visibility) is not
 * shown to the customer.
 *
 * Threads: webhooks come in any order and are retried (docs/LIVECHAT.md §1.4), so a delivery about
 * the chat's previous thread can arrive after the next thread started. Every event webhook and
 * `chat_deactivated` names its thread (§2.3), so: an agent's message closes only the stretch of
 * its own thread; `chat_deactivated` clears only its thread's stretch, timer and counted events;
 * a customer message from a thread we saw deactivated changes nothing (a deactivated thread does
 * not become active again: the chat continues in a new thread, §2.3 `incoming_chat`, §4.3
 * `chat_inactive` [inference]).
 *
 * Idempotency of the nudge (alarms are at-least-once, docs/LIVECHAT.md §1.4 deliveries too):
 * - message events are counted once per event id (`incoming_chat` may carry the first message
 *   that later also arrives as `incoming_event`; license and bot webhooks both deliver it);
 * - the stretch records `nudge: "sent"` after the send; a fire for a nudged or replaced stretch
 *   does nothing;
 * - the send carries `custom_id: nudge:<stretch id>`, and the fresh `get_chat` taken before
 *   sending is searched for it: a retry after a crash between the send and the record finds the
 *   earlier message and only records it (see `sendOnce`).
 * While the bot is not accepting chats (outside working hours) a due timer is dropped without a
 * nudge; the customer's next message starts a new wait. The bot hears nothing while it is
 * offline and acts on nothing while it does not accept chats (bot webhooks, docs/LIVECHAT.md
 * §1.5), so an agent's answer may be missed: the timer re-reads the thread before it nudges
 * (`threadVerdict`), and a customer who wrote again after such an answer waits from that
 * message. Before the bot is provisioned nothing is followed.
 */

/** Name (and kind) of the chat's reply timer. */
export const REPLY_TIMER = "reply";
/** Chat-store key of the open {@link Stretch}. */
export const STRETCH_KEY = "reply:stretch";
/** Chat-store key prefix of message events already counted; the value is the event's thread id. */
export const SEEN_PREFIX = "reply:seen:";
/** Chat-store key of the ids of the chat's last deactivated threads, newest last. */
export const CLOSED_KEY = "reply:closed";
/** How many deactivated threads {@link CLOSED_KEY} remembers. */
export const MAX_CLOSED_THREADS = 20;
/** A nudge that failed this many times in a row is given up (logged as an error). */
export const MAX_NUDGE_ATTEMPTS = 8;

/** Customer messages nobody answered yet, since the first of them. */
export interface Stretch {
  /** Id of the customer event that opened the stretch. */
  id: string;
  threadId: string;
  /** When that event was received (ms); the wait counts from here. */
  startedAt: number;
  /** Set once the stretch is settled: nudged, or given up after {@link MAX_NUDGE_ATTEMPTS}. */
  nudge?: "sent" | "failed";
  nudgeEventId?: string;
  failures?: number;
}

/** The reply timer's scope: a chat (with timers) of a license. */
type ReplyScope = BotScope & { organizationId: string; chat: ChatHandle & { timers: NonNullable<ChatHandle["timers"]> } };

/** The context of a chat-scoped delivery in the Chat DO, or undefined elsewhere. */
export function replyScope(ctx: HandlerContext): ReplyScope | undefined {
  const chat = ctx.chat;
  if (!chat?.timers) return undefined;
  return { chat: { ...chat, timers: chat.timers }, license: ctx.license, api: ctx.api, log: ctx.log, organizationId: ctx.organizationId };
}

/** Events that count as someone writing: message, file, rich message. */
function authored(event: ChatEvent): { id: string; authorId: string; visibility?: string } | undefined {
  if (isEventType(event, "message") || isEventType(event, "file") || isEventType(event, "rich_message")) {
    return { id: event.id, authorId: event.author_id, visibility: event.visibility };
  }
  return undefined;
}

/**
 * The customer sees an event with `visibility` "all"; absent means "all" too (it is optional
 * on `send_event`, docs/LIVECHAT.md §4.3). "agents" (or a value LiveChat adds later) is not shown.
 */
function customerSees(visibility: string | undefined): boolean {
  return visibility === undefined || visibility === "all";
}

/**
 * One chat event of thread `threadId` (from `incoming_event`, or `incoming_chat`'s
 * `thread.events`): a customer's message starts the wait, an agent's that the customer sees ends
 * it, our bot's and anything else change nothing. `at` is when the event was received.
 */
export async function onChatEvent(scope: ReplyScope, threadId: string, event: ChatEvent, at: number): Promise<void> {
  const written = authored(event);
  if (!written) return;
  const seenKey = SEEN_PREFIX + written.id;
  if (await scope.chat.store.get(seenKey)) return;
  // No bot yet (before provisioning): no bot behaviour, and no LiveChat calls for it.
  const bot = await scope.license.botInfo();
  if (!bot) return;
  const role = await roleOf(scope, written.authorId, bot.id);
  if (role === "customer") await customerWrote(scope, threadId, written.id, at);
  else if (role === "agent" && customerSees(written.visibility)) await agentWrote(scope, threadId);
  else if (role === "agent") scope.log.debug("agents-only message; not an answer", { event_id: written.id });
  else if (role === "unknown") scope.log.warn("message author unknown; reply timer unchanged", { event_id: written.id });
  // The thread id lets chat_deactivated drop only its own thread's entries.
  await scope.chat.store.put(seenKey, threadId);
}

async function customerWrote(scope: ReplyScope, threadId: string, eventId: string, at: number): Promise<void> {
  if ((await closedThreads(scope)).includes(threadId)) {
    // A late delivery (docs/LIVECHAT.md §1.4) from a thread already deactivated: nobody can answer
    // there any more, and it must not replace a newer thread's stretch.
    scope.log.info("customer message from a deactivated thread; reply timer unchanged", { event_id: eventId, thread_id: threadId });
    return;
  }
  let stretch = await scope.chat.store.get<Stretch>(STRETCH_KEY);
  const fresh = !stretch || stretch.threadId !== threadId;
  if (fresh) {
    stretch = { id: eventId, threadId, startedAt: at };
    await scope.chat.store.put(STRETCH_KEY, stretch);
  }
  if (stretch!.nudge) return; // one nudge per unanswered stretch
  const started = await startTimer(scope, stretch!, at, fresh ? "replace" : "keep");
  if (started) scope.log.debug("reply timer started", { stretch: stretch!.id });
}

async function agentWrote(scope: ReplyScope, threadId: string): Promise<void> {
  const stretch = await scope.chat.store.get<Stretch>(STRETCH_KEY);
  if (stretch && stretch.threadId !== threadId) {
    // An answer in another (older) thread, delivered late (docs/LIVECHAT.md §1.4): not this stretch's.
    scope.log.debug("agent message from another thread; reply timer unchanged", { thread_id: threadId, stretch: stretch.id });
    return;
  }
  const had = await scope.chat.store.delete(STRETCH_KEY);
  const pending = await scope.chat.timers.cancel(REPLY_TIMER);
  if (had || pending) scope.log.debug("customer answered; reply timer stopped");
}

async function closedThreads(scope: ReplyScope): Promise<string[]> {
  return (await scope.chat.store.get<string[]>(CLOSED_KEY)) ?? [];
}

async function startTimer(scope: ReplyScope, stretch: Stretch, from: number, mode: "replace" | "keep"): Promise<boolean> {
  const { replyTimeoutSeconds } = await scope.license.settings();
  return scope.chat.timers.start(
    REPLY_TIMER,
    from + replyTimeoutSeconds * 1000,
    { organizationId: scope.organizationId, chatId: scope.chat.id, data: { stretch: stretch.id } },
    mode,
  );
}

/**
 * `chat_transferred` of thread `threadId` (optional in the payload, docs/LIVECHAT.md §2.3): an open,
 * un-nudged stretch of that thread waits the full timeout again from `at`; a late one of an older
 * thread (§1.4) changes nothing.
 */
export async function onTransfer(scope: ReplyScope, at: number, threadId?: string): Promise<void> {
  const stretch = await scope.chat.store.get<Stretch>(STRETCH_KEY);
  if (!stretch || stretch.nudge || (threadId !== undefined && stretch.threadId !== threadId)) return;
  await startTimer(scope, stretch, at, "replace");
  scope.log.info("chat transferred; reply timer restarted", { stretch: stretch.id });
}

/**
 * `chat_deactivated` of thread `threadId` (docs/LIVECHAT.md §2.3): the thread is remembered as closed
 * and the counted events of closed threads are dropped; when the open stretch is that thread's (or there is none),
 * the reply timer stops and the stretch is dropped. A late one for an older thread
 * (§1.4) leaves the newer thread's stretch and timer alone. Without a thread id, everything goes.
 * Returns the threads no longer remembered as closed (beyond {@link MAX_CLOSED_THREADS}): the bot
 * forgets what it kept per thread for them.
 */
export async function onDeactivated(scope: ReplyScope, threadId?: string): Promise<string[]> {
  const { store } = scope.chat;
  const closed = new Set(await closedThreads(scope));
  let forgotten: string[] = [];
  if (threadId !== undefined) {
    closed.delete(threadId);
    closed.add(threadId);
    const all = [...closed];
    forgotten = all.slice(0, -MAX_CLOSED_THREADS);
    await store.put(CLOSED_KEY, all.slice(-MAX_CLOSED_THREADS));
  }
  // Entries of every closed thread go (a late message of one is counted after its deactivation);
  // `true`: counted before entries carried their thread, which is unknown, so it goes too.
  for (const [key, thread] of await store.list<string | boolean>(SEEN_PREFIX)) {
    if (threadId === undefined || thread === true || (typeof thread === "string" && closed.has(thread))) await store.delete(key);
  }
  const stretch = await store.get<Stretch>(STRETCH_KEY);
  if (threadId !== undefined && stretch && stretch.threadId !== threadId) {
    scope.log.info("chat deactivated for another thread; reply timer kept", { thread_id: threadId, stretch: stretch.id });
    return forgotten;
  }
  // The reply timer only: other timers of the chat are an app's own (src/handlers.ts), theirs to end.
  const cancelled = await scope.chat.timers.cancel(REPLY_TIMER);
  await store.delete(STRETCH_KEY);
  if (cancelled) scope.log.info("chat deactivated; reply timer cancelled");
  return forgotten;
}

/**
 * What the thread's events say about the stretch (agents-only messages are no answer,
 * docs/LIVECHAT.md §4.3, §4.4): `open` when no agent other than the bot answered after the
 * stretch's first event; `answered` when one did and the customer wrote nothing since; `reopened`
 * with the customer's first message after the last answer when they wrote again (the answer was
 * missed, e.g. while the bot was offline and LiveChat sent no bot webhooks, §1.5). Only decided
 * when the stretch's first event is in the thread; otherwise the webhooks decide (`open`).
 */
function threadVerdict(chat: ActiveChat, stretch: Stretch, botId: string): { kind: "open" | "answered" } | { kind: "reopened"; event: ApiEvent } {
  const events: ApiEvent[] = chat.thread.events ?? [];
  const start = events.findIndex((e) => e.id === stretch.id);
  if (start < 0) return { kind: "open" };
  const agents = new Set(chat.users.filter((u) => u.type === "agent" && u.id !== botId).map((u) => u.id));
  const customers = new Set(chat.users.filter((u) => u.type === "customer").map((u) => u.id));
  const written = (e: ApiEvent) => ["message", "file", "rich_message"].includes(e.type) && e.author_id !== undefined;
  let answered = false;
  let reopened: ApiEvent | undefined;
  for (const e of events.slice(start + 1)) {
    if (!written(e)) continue;
    if (agents.has(e.author_id!) && customerSees(e.visibility)) {
      answered = true;
      reopened = undefined;
    } else if (answered && !reopened && customers.has(e.author_id!)) {
      reopened = e;
    }
  }
  if (reopened) return { kind: "reopened", event: reopened };
  return { kind: answered ? "answered" : "open" };
}

/**
 * The `reply` timer fired: re-check everything, then nudge once. Safe to run any number of
 * times for the same stretch (see the module comment).
 */
export async function fireReplyTimer(ctx: TimerContext): Promise<void> {
  const { store } = ctx.chat;
  const stretch = await store.get<Stretch>(STRETCH_KEY);
  const wanted = (ctx.timer.data as { stretch?: string } | null)?.stretch;
  if (!stretch || stretch.id !== wanted || stretch.nudge) {
    ctx.log.info("reply timer fired for a settled stretch; nothing to do", { stretch: wanted });
    return;
  }
  const bot = await botOnDuty(ctx);
  if (!bot) {
    ctx.log.info("reply timer fired while the bot is not accepting chats; no nudge", { stretch: stretch.id });
    return;
  }
  try {
    const chat = await activeChat(ctx);
    if (!chat || chat.thread.id !== stretch.threadId) {
      await store.delete(STRETCH_KEY);
      ctx.log.info("chat no longer active; no nudge", { stretch: stretch.id });
      return;
    }
    await new ChatUsers(store).learn(chat.users);
    const verdict = threadVerdict(chat, stretch, bot.id);
    if (verdict.kind === "answered") {
      await store.delete(STRETCH_KEY);
      ctx.log.info("customer already answered; no nudge", { stretch: stretch.id });
      return;
    }
    if (verdict.kind === "reopened") {
      // The answer was missed; the customer's wait starts again at their first message after it.
      const written = Date.parse(verdict.event.created_at ?? "");
      const next: Stretch = { id: verdict.event.id, threadId: stretch.threadId, startedAt: Number.isFinite(written) ? Math.min(written, Date.now()) : Date.now() };
      await store.put(STRETCH_KEY, next);
      const { replyTimeoutSeconds } = await ctx.license.settings();
      // Never at or before this firing (a re-armed timer must lie ahead to survive it).
      const due = Math.max(next.startedAt + replyTimeoutSeconds * 1000, Date.now() + 1_000);
      await ctx.chat.timers.start(REPLY_TIMER, due, { organizationId: ctx.timer.organizationId, chatId: ctx.timer.chatId, data: { stretch: next.id } }, "replace");
      ctx.log.info("an answer the bot missed, then the customer wrote again; waiting from that message", { stretch: next.id });
      return;
    }
    const { replyMessage } = await ctx.license.settings();
    const outcome = await sendOnce(ctx, bot, chat, { customId: `nudge:${stretch.id}`, text: replyMessage, visibility: "all" });
    if (outcome.status === "chat_inactive") {
      await store.delete(STRETCH_KEY);
      return;
    }
    await store.put(STRETCH_KEY, { ...stretch, nudge: "sent", nudgeEventId: outcome.eventId } satisfies Stretch);
  } catch (err) {
    const failures = (stretch.failures ?? 0) + 1;
    if (failures >= MAX_NUDGE_ATTEMPTS) {
      await store.put(STRETCH_KEY, { ...stretch, failures, nudge: "failed" } satisfies Stretch);
      ctx.log.error("nudge failed; giving up for this stretch", { stretch: stretch.id, failures, error: err });
      return;
    }
    await store.put(STRETCH_KEY, { ...stretch, failures } satisfies Stretch);
    throw err;
  }
}
