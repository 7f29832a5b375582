import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { MAX_NUDGE_ATTEMPTS, REPLY_TIMER, STRETCH_KEY, type Stretch } from "../../src/bot/reply-nudge";
import { chatStub } from "../../src/chats/stub";
import { defaultSettings } from "../../src/licenses/settings";
import {
  advance,
  AGENT,
  botWorld,
  callsTo,
  chatStore,
  CUSTOMER,
  deliver,
  type FakeEvent,
  message,
  runDue,
  say,
  sends,
  type World,
} from "./helpers";

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const DEFAULT_TEXT = defaultSettings({ replyTimeoutSeconds: 120 }).replyMessage;
const timersOf = (w: World, chatId: string) => chatStub(env, w.org, chatId).pendingTimers();
/** Another bot of the license (bots are agent users, docs/LIVECHAT.md §4.4). */
const OTHER_BOT = "other-bot";

/**
 * The chat's previous thread is closed and the customer writes again: LiveChat starts thread
 * `threadId` with the customer's first message(s) and sends `incoming_chat` (docs/LIVECHAT.md §2.3).
 */
async function startThread(w: World, chatId: string, threadId: string, events: FakeEvent[]) {
  const chat = w.chats.chats.get(chatId)!;
  chat.thread = { id: threadId, active: true, events: [...events] };
  return deliver(w, chatId, "incoming_chat", { chat: { id: chatId, users: chat.users, thread: { id: threadId, active: true, events } } });
}

/** Advance the clock by `seconds` and run what came due. */
async function wait(w: World, chatId: string, seconds: number) {
  advance(seconds * 1000);
  await runDue(w.org, chatId);
}

describe("reply timer", () => {
  it("a customer message starts the timer; at the timeout the bot joins (visibility all) and nudges once", async () => {
    const w = await botWorld("nudge");
    w.chats.open("C1");
    const start = Date.now();
    await say(w, "C1", message("E1", CUSTOMER));

    expect(await timersOf(w, "C1")).toEqual([
      { name: REPLY_TIMER, due: start + 120_000, organizationId: w.org, chatId: "C1", data: { stretch: "E1" } },
    ]);
    // Another customer message does not move the running timer.
    advance(30_000);
    await say(w, "C1", message("E2", CUSTOMER));
    expect((await timersOf(w, "C1"))[0].due).toBe(start + 120_000);

    await wait(w, "C1", 89); // 119 s after the first message
    expect(sends(w)).toEqual([]);

    await wait(w, "C1", 2);
    const chatCalls = w.lc.calls().filter((c) => /add_user_to_chat|send_event/.test(c.url.pathname));
    expect(chatCalls.map((c) => c.url.pathname.split("/").pop())).toEqual(["add_user_to_chat", "send_event"]);
    expect(chatCalls[0].body).toEqual({ chat_id: "C1", user_id: w.bot.id, user_type: "agent", visibility: "all", ignore_requester_presence: true });
    // Added as the license, sent as the bot with its own token (docs/LIVECHAT.md §4.2).
    expect(chatCalls[0].headers.get("authorization")).toMatch(/^Bearer dal:access-/);
    expect(chatCalls[1].headers.get("authorization")).toBe(`Bearer bot-jwt-${w.bot.id}-1`);
    expect(chatCalls[1].body).toEqual({
      chat_id: "C1",
      event: { type: "message", text: DEFAULT_TEXT, visibility: "all", custom_id: "nudge:E1" },
    });
    expect(await timersOf(w, "C1")).toEqual([]);
    expect(await chatStore(w.org, "C1", (s) => s.get<Stretch>(STRETCH_KEY))).toMatchObject({ id: "E1", nudge: "sent" });

    // Once per unanswered stretch: more customer messages and time change nothing.
    await say(w, "C1", message("E3", CUSTOMER));
    expect(await timersOf(w, "C1")).toEqual([]);
    await wait(w, "C1", 600);
    expect(sends(w)).toHaveLength(1);

    // Our own bot's message (the nudge's incoming_event) neither stops nor starts anything.
    const nudge = w.chats.chats.get("C1")!.thread.events.find((e) => e.custom_id === "nudge:E1")!;
    await say(w, "C1", nudge);
    expect(await chatStore(w.org, "C1", (s) => s.get<Stretch>(STRETCH_KEY))).toMatchObject({ id: "E1", nudge: "sent" });

    // An agent answers: the stretch closes; the next customer message opens a new one, nudged again.
    await say(w, "C1", message("A1", AGENT));
    await say(w, "C1", message("E4", CUSTOMER));
    await wait(w, "C1", 121);
    expect(sends(w).map((b) => b.event.custom_id)).toEqual(["nudge:E1", "nudge:E4"]);
    expect(callsTo(w, "/agent/action/add_user_to_chat")).toHaveLength(1); // still a member
  });

  it("an agent's message cancels the timer; the bot's own messages do not", async () => {
    const w = await botWorld("cancel");
    w.chats.open("C2");
    await say(w, "C2", message("E1", CUSTOMER));
    await say(w, "C2", message("B1", w.bot.id));
    expect(await timersOf(w, "C2")).toHaveLength(1);
    await say(w, "C2", message("A1", AGENT));
    expect(await timersOf(w, "C2")).toEqual([]);
    await wait(w, "C2", 500);
    expect(sends(w)).toEqual([]);
    expect(await chatStore(w.org, "C2", (s) => s.get(STRETCH_KEY))).toBeUndefined();
  });

  it("chat_deactivated cancels the reply timer", async () => {
    const w = await botWorld("deact");
    const chat = w.chats.open("C3");
    await say(w, "C3", message("E1", CUSTOMER));
    expect(await timersOf(w, "C3")).toHaveLength(1);
    chat.thread.active = false;
    await deliver(w, "C3", "chat_deactivated", { chat_id: "C3", thread_id: chat.thread.id, user_id: AGENT });
    expect(await timersOf(w, "C3")).toEqual([]);
    const calls = w.lc.calls().length;
    await wait(w, "C3", 500);
    expect(w.lc.calls().length).toBe(calls); // nothing fired, nothing asked
    expect(sends(w)).toEqual([]);
  });

  it("chat_deactivated stops the bot's reply timer only: an app's own timers in the chat stay", async () => {
    const w = await botWorld("deact-app-timer");
    const chat = w.chats.open("C3B");
    await say(w, "C3B", message("E1", CUSTOMER));
    const { runInDurableObject } = await import("cloudflare:test");
    const due = Date.now() + 3600_000;
    await runInDurableObject(chatStub(env, w.org, "C3B"), async (instance) => {
      const timers = (instance as unknown as { timers: import("../../src/framework/context").ChatTimers }).timers;
      await timers.start("app-sla", due, { organizationId: w.org, chatId: "C3B" });
    });
    chat.thread.active = false;
    await deliver(w, "C3B", "chat_deactivated", { chat_id: "C3B", thread_id: chat.thread.id, user_id: AGENT });
    expect((await timersOf(w, "C3B")).map((t) => t.name)).toEqual(["app-sla"]);
  });

  it("a transfer restarts the wait", async () => {
    const w = await botWorld("transfer");
    const chat = w.chats.open("C4");
    const start = Date.now();
    await say(w, "C4", message("E1", CUSTOMER));
    advance(100_000);
    await deliver(w, "C4", "chat_transferred", {
      chat_id: "C4",
      thread_id: chat.thread.id,
      reason: "manual",
      transferred_to: { agent_ids: ["other@example.com"] },
    });
    expect((await timersOf(w, "C4"))[0].due).toBe(start + 100_000 + 120_000);
    await wait(w, "C4", 21); // 121 s after the message: the original deadline has passed
    expect(sends(w)).toEqual([]);
    await wait(w, "C4", 100);
    expect(sends(w).map((b) => b.event.custom_id)).toEqual(["nudge:E1"]);
  });

  it("the author's type comes from incoming_chat / user_added_to_chat, else one get_chat", async () => {
    const w = await botWorld("users");
    const chat = w.chats.open("C5");
    // incoming_chat with the customer's first message; the users are known from it.
    await deliver(w, "C5", "incoming_chat", {
      chat: { id: "C5", users: chat.users, thread: { id: chat.thread.id, active: true, events: [message("E1", CUSTOMER)] } },
    });
    expect(await timersOf(w, "C5")).toHaveLength(1);
    // A new agent, announced by user_added_to_chat, answers: known without asking LiveChat.
    const helper = { id: "helper@example.com", type: "agent", present: true, visibility: "all" };
    chat.users.push(helper);
    await deliver(w, "C5", "user_added_to_chat", { chat_id: "C5", thread_id: chat.thread.id, user: helper, user_type: "agent" });
    await say(w, "C5", message("A1", helper.id));
    expect(await timersOf(w, "C5")).toEqual([]);
    expect(callsTo(w, "/agent/action/get_chat")).toHaveLength(0);
    // An author nobody announced: one get_chat, then remembered.
    chat.users.push({ id: "late@example.com", type: "agent", present: true, visibility: "all" });
    await say(w, "C5", message("E2", CUSTOMER));
    await say(w, "C5", message("A2", "late@example.com"));
    await say(w, "C5", message("A3", "late@example.com"));
    expect(callsTo(w, "/agent/action/get_chat")).toHaveLength(1);
    expect(await timersOf(w, "C5")).toEqual([]);
  });

  it("incoming_chat's first message later redelivered as incoming_event (license and bot) counts once", async () => {
    const w = await botWorld("dupe");
    const chat = w.chats.open("C6");
    await deliver(w, "C6", "incoming_chat", {
      chat: { id: "C6", users: chat.users, thread: { id: chat.thread.id, active: true, events: [message("E1", CUSTOMER)] } },
    });
    await say(w, "C6", message("A1", AGENT));
    // The customer's message as incoming_event after the agent's answer: must not reopen the wait.
    expect((await say(w, "C6", message("E1", CUSTOMER))).outcome).toBe("accepted");
    expect((await say(w, "C6", message("E1", CUSTOMER))).outcome).toBe("accepted"); // a redelivery: stored, never run
    expect((await say(w, "C6", message("E1", CUSTOMER), "license")).outcome).toBe("accepted");
    expect(await timersOf(w, "C6")).toEqual([]);
    await wait(w, "C6", 500);
    expect(sends(w)).toEqual([]);
  });

  it("duplicate webhooks of one message (license + bot, redeliveries) make one timer and one nudge", async () => {
    const w = await botWorld("twice");
    w.chats.open("C7");
    const e1 = message("E1", CUSTOMER);
    await Promise.all([say(w, "C7", e1), say(w, "C7", e1), say(w, "C7", e1, "bot"), say(w, "C7", e1, "bot")]);
    await runDue(w.org, "C7");
    expect(await timersOf(w, "C7")).toHaveLength(1);
    await wait(w, "C7", 121);
    await say(w, "C7", e1, "bot");
    await wait(w, "C7", 121);
    expect(sends(w)).toHaveLength(1);
  });
});

describe("the nudge when the timer fires", () => {
  it("is not sent twice under alarm retries: a lost send_event answer is found by custom_id", async () => {
    const w = await botWorld("lost");
    const chat = w.chats.open("L1");
    await say(w, "L1", message("E1", CUSTOMER));
    w.chats.sendFaults.push("lost_response"); // LiveChat stores the event, the answer is lost
    await wait(w, "L1", 121);
    expect(chat.thread.events.filter((e) => e.custom_id === "nudge:E1")).toHaveLength(1);
    const pending = await timersOf(w, "L1");
    expect(pending).toHaveLength(1); // the alarm will run it again (backoff ≈ 1 s)
    expect(await chatStore(w.org, "L1", (s) => s.get<Stretch>(STRETCH_KEY))).toMatchObject({ failures: 1 });

    await wait(w, "L1", 2);
    expect(sends(w)).toHaveLength(1); // the retry found its message in get_chat and did not send
    expect(chat.thread.events.filter((e) => e.custom_id === "nudge:E1")).toHaveLength(1);
    expect(await timersOf(w, "L1")).toEqual([]);
    expect(await chatStore(w.org, "L1", (s) => s.get<Stretch>(STRETCH_KEY))).toMatchObject({ nudge: "sent", nudgeEventId: expect.any(String) });
  });

  it("a failed send is retried by the alarm and then sent once", async () => {
    const w = await botWorld("retry");
    const chat = w.chats.open("R1");
    await say(w, "R1", message("E1", CUSTOMER));
    w.chats.sendFaults.push("fail");
    await wait(w, "R1", 121);
    expect(chat.thread.events.filter((e) => e.custom_id === "nudge:E1")).toHaveLength(0);
    await wait(w, "R1", 2);
    expect(sends(w)).toHaveLength(2);
    expect(chat.thread.events.filter((e) => e.custom_id === "nudge:E1")).toHaveLength(1);
  });

  it("a crash between the send and its record (timer re-run, stretch not yet marked) does not send again", async () => {
    const w = await botWorld("crash");
    const chat = w.chats.open("K1");
    await say(w, "K1", message("E1", CUSTOMER));
    const before = await chatStore(w.org, "K1", (s) => s.get<Stretch>(STRETCH_KEY));
    await wait(w, "K1", 121);
    expect(sends(w)).toHaveLength(1);

    // Replay the state a crash right after send_event would leave: the record unwritten and the
    // deadline still there (NamedAlarms removes it only after the handler returned).
    await chatStore(w.org, "K1", (s) => s.put(STRETCH_KEY, before));
    const { runInDurableObject } = await import("cloudflare:test");
    await runInDurableObject(chatStub(env, w.org, "K1"), async (instance) => {
      const timers = (instance as unknown as { timers: import("../../src/framework/context").ChatTimers }).timers;
      await timers.start(REPLY_TIMER, Date.now(), { organizationId: w.org, chatId: "K1", data: { stretch: "E1" } });
    });
    await runDue(w.org, "K1");
    // And a plain repeated alarm.
    const { runDurableObjectAlarm } = await import("cloudflare:test");
    await runDurableObjectAlarm(chatStub(env, w.org, "K1"));
    expect(sends(w)).toHaveLength(1);
    expect(chat.thread.events.filter((e) => e.custom_id === "nudge:E1")).toHaveLength(1);
    expect(await chatStore(w.org, "K1", (s) => s.get<Stretch>(STRETCH_KEY))).toMatchObject({ nudge: "sent" });
  });

  it("gives up after repeated failures, logged, without retrying forever", async () => {
    const w = await botWorld("giveup");
    w.chats.open("G1");
    await say(w, "G1", message("E1", CUSTOMER));
    w.chats.sendFaults.push(...Array.from({ length: MAX_NUDGE_ATTEMPTS }, () => "fail" as const));
    await wait(w, "G1", 121);
    for (let i = 1; i < MAX_NUDGE_ATTEMPTS; i++) await wait(w, "G1", 600);
    expect(sends(w)).toHaveLength(MAX_NUDGE_ATTEMPTS);
    expect(await timersOf(w, "G1")).toEqual([]);
    expect(await chatStore(w.org, "G1", (s) => s.get<Stretch>(STRETCH_KEY))).toMatchObject({ nudge: "failed", failures: MAX_NUDGE_ATTEMPTS });
  });

  it("is not sent when the chat is no longer active", async () => {
    const w = await botWorld("inactive");
    const chat = w.chats.open("I1");
    await say(w, "I1", message("E1", CUSTOMER));
    chat.thread.active = false; // closed without a chat_deactivated reaching us
    const lookups = callsTo(w, "/agent/action/get_chat").length; // the author's
    await wait(w, "I1", 121);
    expect(callsTo(w, "/agent/action/get_chat")).toHaveLength(lookups + 1); // the fire's re-check
    expect(sends(w)).toEqual([]);
    expect(callsTo(w, "/agent/action/add_user_to_chat")).toEqual([]);
    expect(await chatStore(w.org, "I1", (s) => s.get(STRETCH_KEY))).toBeUndefined();
  });

  it("is not sent when the thread shows an agent's answer the webhooks missed", async () => {
    const w = await botWorld("answered");
    const chat = w.chats.open("N1");
    await say(w, "N1", message("E1", CUSTOMER));
    chat.thread.events.push(message("A1", AGENT)); // no incoming_event for it
    await wait(w, "N1", 121);
    expect(sends(w)).toEqual([]);
  });

  it("an answer the bot missed (offline), then the customer wrote again: no stale nudge, the wait restarts at the new message", async () => {
    const w = await botWorld("missed");
    const chat = w.chats.open("N2");
    await say(w, "N2", message("E1", CUSTOMER));
    // While the bot was offline LiveChat sent no bot webhooks (docs/LIVECHAT.md §1.5): the thread has both, the bot heard neither.
    advance(30_000);
    chat.thread.events.push(message("A1", AGENT), { ...message("E2", CUSTOMER), created_at: new Date(Date.now()).toISOString() });
    await wait(w, "N2", 91); // the first wait is over
    expect(sends(w)).toEqual([]);
    expect(await timersOf(w, "N2")).toHaveLength(1);
    await wait(w, "N2", 30); // E2 has waited the full timeout now
    expect(sends(w).map((b) => b.event.custom_id)).toEqual(["nudge:E2"]);
  });

  it("is skipped while the bot is not accepting chats; the next customer message waits again", async () => {
    const w = await botWorld("closed");
    w.chats.open("H1");
    await say(w, "H1", message("E1", CUSTOMER));
    await w.license.recordRoutingStatus({ agentId: w.bot.id, status: "not_accepting_chats", at: Date.now() });
    await wait(w, "H1", 121);
    expect(sends(w)).toEqual([]);
    expect(await timersOf(w, "H1")).toEqual([]);

    await w.license.recordRoutingStatus({ agentId: w.bot.id, status: "accepting_chats", at: Date.now() });
    await say(w, "H1", message("E2", CUSTOMER));
    expect(await timersOf(w, "H1")).toHaveLength(1);
    await wait(w, "H1", 121);
    expect(sends(w).map((b) => b.event.custom_id)).toEqual(["nudge:E1"]); // still the stretch opened by E1
  });

  it("uses the license's own timeout and text over the defaults", async () => {
    const w = await botWorld("settings");
    expect(await w.license.updateSettings({ replyTimeoutSeconds: 30, replyMessage: "Hang on, someone is coming!" })).toMatchObject({ ok: true });
    w.chats.open("S1");
    const start = Date.now();
    await say(w, "S1", message("E1", CUSTOMER));
    expect((await timersOf(w, "S1"))[0].due).toBe(start + 30_000);
    await wait(w, "S1", 31);
    expect(sends(w).map((b) => b.event.text)).toEqual(["Hang on, someone is coming!"]);
  });

  it("renews the bot's token once when it is close to expiry, then sends with the new one", async () => {
    const w = await botWorld("renew");
    expect(w.bots.tokensIssued).toBe(1);
    advance(22 * 3600_000 + 60_000); // the 24 h token now expires in < 2 h
    w.chats.open("T1");
    await say(w, "T1", message("E1", CUSTOMER));
    await wait(w, "T1", 121);
    expect(callsTo(w, "/configuration/action/issue_bot_token")).toHaveLength(2); // provisioning + one renewal
    expect(w.bots.tokensIssued).toBe(2);
    expect(callsTo(w, "/agent/action/send_event")[0].headers.get("authorization")).toBe(`Bearer bot-jwt-${w.bot.id}-2`);
  });
});

describe("bot webhooks", () => {
  it("are ignored while the bot is not accepting chats: no timer, no sends", async () => {
    const w = await botWorld("gate");
    await w.license.updateSettings({ tagSuggestions: { billing: ["Here is our billing FAQ."] } });
    const chat = w.chats.open("B1");
    const calls = w.lc.calls().length;
    await w.license.recordRoutingStatus({ agentId: w.bot.id, status: "not_accepting_chats", at: Date.now() });
    await say(w, "B1", message("E1", CUSTOMER), "bot");
    await deliver(w, "B1", "thread_tagged", { chat_id: "B1", thread_id: chat.thread.id, tag: "billing" }, "bot");
    await wait(w, "B1", 500);
    expect(await timersOf(w, "B1")).toEqual([]);
    expect(w.lc.calls().slice(calls)).toEqual([]);
    const deliveries = await chatStub(env, w.org, "B1").recentDeliveries({ limit: 10 });
    expect(deliveries.map((d) => d.status)).toEqual(["skipped", "skipped"]);
  });
});

describe("agents-only events (docs/LIVECHAT.md §4.3 visibility, §4.4)", () => {
  it("an agents-only message (a supervisor's whisper) is no answer: the timer runs on and the nudge is sent", async () => {
    const w = await botWorld("whisper");
    w.chats.open("W1");
    await say(w, "W1", message("E1", CUSTOMER));
    await say(w, "W1", { ...message("A1", AGENT), visibility: "agents" });
    expect(await timersOf(w, "W1")).toHaveLength(1);
    expect(await chatStore(w.org, "W1", (s) => s.get<Stretch>(STRETCH_KEY))).toMatchObject({ id: "E1" });
    await wait(w, "W1", 121);
    expect(sends(w).map((b) => b.event.custom_id)).toEqual(["nudge:E1"]);

    // An agent's message without `visibility` is seen by everyone: it is an answer.
    const { visibility: _all, ...plain } = message("A2", AGENT);
    await say(w, "W1", plain);
    expect(await chatStore(w.org, "W1", (s) => s.get(STRETCH_KEY))).toBeUndefined();
  });

  it("the re-check at the timeout ignores agents-only messages in the thread: the nudge is sent", async () => {
    const w = await botWorld("whisper-check");
    const chat = w.chats.open("W2");
    chat.users.push({ id: OTHER_BOT, type: "agent", present: true, visibility: "agents" });
    await say(w, "W2", message("E1", CUSTOMER));
    // A whisper and another bot's internal note, no incoming_event for either.
    chat.thread.events.push({ ...message("A1", AGENT), visibility: "agents" }, { ...message("X1", OTHER_BOT), visibility: "agents" });
    await wait(w, "W2", 121);
    expect(sends(w).map((b) => b.event.custom_id)).toEqual(["nudge:E1"]);
  });
});

describe("threads of a chat: late and retried webhooks (docs/LIVECHAT.md §1.4)", () => {
  it("a late chat_deactivated for the previous thread leaves the new thread's wait: the nudge is sent", async () => {
    const w = await botWorld("late-deact");
    w.chats.open("P1", "P1-T1");
    await say(w, "P1", message("E1", CUSTOMER));
    await say(w, "P1", message("A1", AGENT));
    // T1 is closed (its chat_deactivated still on its way); the customer comes back in T2.
    await startThread(w, "P1", "P1-T2", [message("E2", CUSTOMER)]);
    await say(w, "P1", message("E2", CUSTOMER));
    expect(await timersOf(w, "P1")).toHaveLength(1);
    await deliver(w, "P1", "chat_deactivated", { chat_id: "P1", thread_id: "P1-T1", user_id: AGENT });
    expect(await timersOf(w, "P1")).toHaveLength(1);
    expect(await chatStore(w.org, "P1", (s) => s.get<Stretch>(STRETCH_KEY))).toMatchObject({ id: "E2", threadId: "P1-T2" });
    await wait(w, "P1", 121);
    expect(sends(w).map((b) => b.event.custom_id)).toEqual(["nudge:E2"]);

    // The new thread's own chat_deactivated still stops everything.
    await say(w, "P1", message("E3", CUSTOMER));
    await deliver(w, "P1", "chat_deactivated", { chat_id: "P1", thread_id: "P1-T2", user_id: AGENT });
    expect(await timersOf(w, "P1")).toEqual([]);
    expect(await chatStore(w.org, "P1", (s) => s.get(STRETCH_KEY))).toBeUndefined();
  });

  it("a late agent message from the previous thread does not close the new thread's wait", async () => {
    const w = await botWorld("late-agent");
    w.chats.open("P2", "P2-T1");
    await say(w, "P2", message("E1", CUSTOMER));
    await startThread(w, "P2", "P2-T2", [message("E2", CUSTOMER)]);
    await deliver(w, "P2", "incoming_event", { chat_id: "P2", thread_id: "P2-T1", event: message("A1", AGENT) });
    expect(await timersOf(w, "P2")).toHaveLength(1);
    await wait(w, "P2", 121);
    expect(sends(w).map((b) => b.event.custom_id)).toEqual(["nudge:E2"]);
  });

  it("a late customer message from a closed thread does not replace the new thread's wait", async () => {
    const w = await botWorld("late-customer");
    w.chats.open("P3", "P3-T1");
    await say(w, "P3", message("E1", CUSTOMER));
    await deliver(w, "P3", "chat_deactivated", { chat_id: "P3", thread_id: "P3-T1", user_id: AGENT });
    const start = Date.now();
    await startThread(w, "P3", "P3-T2", [message("E2", CUSTOMER)]);
    advance(60_000);
    // T1's message once more, by the bot webhook (its own delivery, docs/LIVECHAT.md §1.5).
    await deliver(w, "P3", "incoming_event", { chat_id: "P3", thread_id: "P3-T1", event: message("E1", CUSTOMER) }, "bot");
    expect(await timersOf(w, "P3")).toEqual([
      { name: REPLY_TIMER, due: start + 120_000, organizationId: w.org, chatId: "P3", data: { stretch: "E2" } },
    ]);
    await wait(w, "P3", 61);
    expect(sends(w).map((b) => b.event.custom_id)).toEqual(["nudge:E2"]);
  });

  it("a late chat_transferred of the previous thread does not restart the new thread's wait", async () => {
    const w = await botWorld("late-transfer");
    w.chats.open("P5", "P5-T1");
    await say(w, "P5", message("E1", CUSTOMER));
    const start = Date.now();
    await startThread(w, "P5", "P5-T2", [message("E2", CUSTOMER)]);
    advance(100_000);
    await deliver(w, "P5", "chat_transferred", { chat_id: "P5", thread_id: "P5-T1", reason: "manual", transferred_to: { agent_ids: ["x@example.com"] } });
    expect((await timersOf(w, "P5"))[0].due).toBe(start + 120_000);
    await wait(w, "P5", 21);
    expect(sends(w).map((b) => b.event.custom_id)).toEqual(["nudge:E2"]);
  });

  it("a chat's store keeps the bot's per-thread keys for its last 20 deactivated threads only", async () => {
    const w = await botWorld("thread-keys");
    w.chats.open("P6", "P6-T0");
    const threads = Array.from({ length: 25 }, (_, i) => `P6-T${i + 1}`);
    await chatStore(w.org, "P6", async (s) => {
      for (const t of threads) {
        await s.put(`tags:suggested:${t}:refund`, { eventId: "x" });
        await s.put(`rating:current:${t}`, { score: "good" });
        await s.put(`rating:generation:${t}`, 1);
        await s.put(`rating:cancelled:${t}`, { score: "bad" });
      }
    });
    for (const t of threads) await deliver(w, "P6", "chat_deactivated", { chat_id: "P6", thread_id: t, user_id: AGENT });
    const kept = await chatStore(w.org, "P6", async (s) => ({ tags: await s.list("tags:suggested:"), ratings: await s.list("rating:") }));
    const threadsOf = (entries: [string, unknown][]) => [...new Set(entries.map(([k]) => /(P6-T\d+)/.exec(k)![1]))].sort();
    expect(threadsOf(kept.tags)).toEqual(threads.slice(5).sort());
    expect(threadsOf(kept.ratings)).toEqual(threads.slice(5).sort());
    expect(kept.ratings).toHaveLength(20 * 3);
  });

  it("a late chat_deactivated for the previous thread keeps the new thread's counted messages", async () => {
    const w = await botWorld("late-seen");
    w.chats.open("P4", "P4-T1");
    await startThread(w, "P4", "P4-T2", [message("E2", CUSTOMER)]);
    await say(w, "P4", message("A2", AGENT));
    await deliver(w, "P4", "chat_deactivated", { chat_id: "P4", thread_id: "P4-T1", user_id: AGENT });
    // E2 again by the bot webhook, after the answer: must not reopen the wait.
    await deliver(w, "P4", "incoming_event", { chat_id: "P4", thread_id: "P4-T2", event: message("E2", CUSTOMER) }, "bot");
    expect(await timersOf(w, "P4")).toEqual([]);
    expect(await chatStore(w.org, "P4", (s) => s.get(STRETCH_KEY))).toBeUndefined();
  });
});
