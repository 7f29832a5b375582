import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { vi } from "vitest";
import type { ChatStore } from "../../src/framework/context";
import { chatStub } from "../../src/chats/stub";
import type { NamedAlarms } from "../../src/durable/alarms";
import { licenseStub } from "../../src/licenses/stub";
import { appWebhooks } from "../../src/setup/declaration";
import { fakeLiveChat } from "../helpers/fake-livechat";
import { tokenResponse } from "../helpers/install";
import { livechatError, mockLiveChat, type RecordedCall } from "../helpers/livechat-mock";
import { rawSample } from "../livechat/webhooks/samples";
import { install, post, SECRET, uniqueOrg } from "../webhooks/helpers";

/**
 * A bot world for the behaviour tests: an installed license whose bot is provisioned and
 * accepting chats, LiveChat faked at fetch (bots via fake-livechat, chats here), and a clock far
 * in the future that only the test moves, so no DO alarm fires by itself: the test runs them
 * (`runDue`). Everything goes through the real Worker: POST /webhooks/license|bot → Chat DO.
 */

/** Start of the fake clock; storage alarms armed near it never fire during a test run. */
export const T0 = 4_000_000_000_000;

export const CUSTOMER = "customer-1";
export const AGENT = "agent@example.com";

export interface FakeEvent {
  id: string;
  type: string;
  author_id?: string;
  text?: string;
  visibility?: string;
  custom_id?: string;
  created_at?: string;
  system_message_type?: string;
  text_vars?: Record<string, string>;
}
export interface FakeUser {
  id: string;
  type: string;
  present?: boolean;
  visibility?: string;
}
export interface FakeChat {
  id: string;
  users: FakeUser[];
  thread: { id: string; active: boolean; events: FakeEvent[] };
}

/** The chats LiveChat knows, answering get_chat / add_user_to_chat / send_event like the docs (docs/LIVECHAT.md §4.3). */
export function fakeChats(lc: ReturnType<typeof mockLiveChat>) {
  const chats = new Map<string, FakeChat>();
  const body = (call: RecordedCall) => (call.body ?? {}) as Record<string, any>;
  const botOf = (call: RecordedCall) => /^Bearer bot-jwt-(bot-\d+-[0-9a-f]{8})-\d+$/.exec(call.headers.get("authorization") ?? "")?.[1];
  /** Send outcomes to force, in order (then normal). */
  const sendFaults: ("lost_response" | "fail")[] = [];
  lc.on("POST", "/agent/action/get_chat", (call) => {
    const chat = chats.get(body(call).chat_id);
    return chat ? Response.json(structuredClone(chat)) : livechatError(404, "not_found", "Chat not found");
  });
  lc.on("POST", "/agent/action/add_user_to_chat", (call) => {
    const { chat_id, user_id, visibility } = body(call);
    const chat = chats.get(chat_id);
    if (!chat) return livechatError(404, "not_found");
    if (!chat.thread.active) return livechatError(400, "chat_inactive");
    const member = chat.users.find((u) => u.id === user_id);
    if (member) Object.assign(member, { present: true, visibility });
    else chat.users.push({ id: user_id, type: "agent", present: true, visibility });
    return Response.json({});
  });
  lc.on("POST", "/agent/action/send_event", (call) => {
    const { chat_id, event } = body(call);
    const chat = chats.get(chat_id);
    const author = botOf(call);
    if (!chat) return livechatError(404, "not_found");
    if (!chat.thread.active) return livechatError(400, "chat_inactive");
    const member = chat.users.find((u) => u.id === author && u.present !== false);
    if (!member) return livechatError(403, "authorization", "Requester is not user of the chat");
    if (member.visibility === "agents" && event.visibility === "all") return livechatError(400, "validation", "visibility");
    const fault = sendFaults.shift();
    if (fault === "fail") return livechatError(400, "validation", "refused");
    const id = `${chat.thread.id}_${chat.thread.events.length + 1}`;
    chat.thread.events.push({ ...event, id, author_id: author });
    // The event is stored but the answer never arrives (a 4xx stands for the lost response).
    if (fault === "lost_response") return livechatError(400, "validation", "response lost");
    return Response.json({ event_id: id });
  });
  return {
    chats,
    sendFaults,
    /** A chat with one active thread, a customer and an agent. */
    open(chatId: string, threadId = `${chatId}-T1`, events: FakeEvent[] = []): FakeChat {
      const chat: FakeChat = {
        id: chatId,
        users: [
          { id: CUSTOMER, type: "customer", present: true },
          { id: AGENT, type: "agent", present: true, visibility: "all" },
        ],
        thread: { id: threadId, active: true, events },
      };
      chats.set(chatId, chat);
      return chat;
    },
  };
}

/** A provisioned, accepting bot on a fresh license, with LiveChat faked. */
export async function botWorld(label: string) {
  vi.useFakeTimers({ toFake: ["Date"] });
  vi.setSystemTime(T0 + Math.floor(Math.random() * 1e9));
  const org = uniqueOrg(label);
  const lc = mockLiveChat();
  const bots = fakeLiveChat(lc);
  lc.on("POST", "/v2/token", () => Response.json(tokenResponse(org)));
  const chats = fakeChats(lc);
  await install(org);
  const bot = await licenseStub(env, org).provisionBot();
  return { org, lc, bots, chats, bot, license: licenseStub(env, org) };
}

export type World = Awaited<ReturnType<typeof botWorld>>;

/** Move the fake clock by `ms`. */
export function advance(ms: number): void {
  vi.setSystemTime(Date.now() + ms);
}

/** Run the Chat DO's alarm until nothing is due (processing deliveries, firing timers). */
export async function runDue(org: string, chatId: string): Promise<void> {
  const stub = chatStub(env, org, chatId);
  for (let i = 0; i < 100; i++) {
    const due = await runInDurableObject(stub, (instance) =>
      (instance as unknown as { alarms: NamedAlarms }).alarms.list().some((d) => d.at <= Date.now()),
    );
    if (!due) return;
    await runDurableObjectAlarm(stub);
  }
  throw new Error("deadlines keep coming due");
}

/** A webhook body for `action` (the documented envelope) carrying `payload`. */
export function webhook(action: string, org: string, payload: Record<string, unknown>): Record<string, unknown> {
  return { ...rawSample(`webhook.v3.6.${action}`), secret_key: SECRET, organization_id: org, payload };
}

/** A message event. */
export function message(id: string, author: string, text = `text of ${id}`): FakeEvent {
  return { id, type: "message", author_id: author, text, visibility: "all", created_at: "2096-10-01T10:00:00.000000Z" };
}

/** The endpoint LiveChat delivers `action` to, as `npm run setup` registers it (bot when both). */
export function registeredKind(action: string): "license" | "bot" {
  const types = appWebhooks().filter((w) => w.action === action).map((w) => w.type);
  return types.includes("bot") || types.length === 0 ? "bot" : "license";
}

/** POST a webhook to the endpoint the app registers it for (or `kind`) and process it. */
export async function deliver(world: World, chatId: string, action: string, payload: Record<string, unknown>, kind: "license" | "bot" = registeredKind(action)) {
  const res = await post(kind, webhook(action, world.org, payload));
  if (res.status !== 200) throw new Error(`webhook answered ${res.status}`);
  await runDue(world.org, chatId);
  return (await res.json()) as { outcome: string };
}

/**
 * An event as LiveChat delivers it: into the fake chat's thread (so get_chat sees it) and as
 * `incoming_event`.
 */
export async function say(world: World, chatId: string, event: FakeEvent, kind?: "license" | "bot") {
  const chat = world.chats.chats.get(chatId)!;
  if (!chat.thread.events.some((e) => e.id === event.id)) chat.thread.events.push(event);
  return deliver(world, chatId, "incoming_event", { chat_id: chatId, thread_id: chat.thread.id, event }, kind);
}

/** The calls to `path` (e.g. "/agent/action/send_event"). */
export function callsTo(world: World, path: string): RecordedCall[] {
  return world.lc.calls(path);
}

/** Bodies of the bot's sends. */
export function sends(world: World): Record<string, any>[] {
  return callsTo(world, "/agent/action/send_event").map((c) => c.body as Record<string, any>);
}

/** Read the chat store of a chat. */
export function chatStore<T>(org: string, chatId: string, fn: (store: ChatStore) => Promise<T>): Promise<T> {
  return runInDurableObject(chatStub(env, org, chatId), (instance) => fn((instance as unknown as { store: ChatStore }).store));
}
