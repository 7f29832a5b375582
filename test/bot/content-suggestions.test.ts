import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { contentSuggestionText } from "../../src/bot/content-suggestions";
import { TAG_SUGGESTED_PREFIX } from "../../src/bot/tag-suggestions";
import { chatStub } from "../../src/chats/stub";
import { MAX_TEXT_BYTES } from "../../src/livechat/schemas/events";
import { advance, AGENT, botWorld, callsTo, chatStore, CUSTOMER, deliver, message, runDue, say, sends, type World } from "./helpers";

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const REFUNDS = ["Refunds reach your card within 5 business days.", "Could you share your order number so I can start the refund?"];
const DELIVERY = ["Orders ship within 2 business days; track your parcel with the link we email."];

async function shop(label: string, extra: Record<string, unknown> = {}) {
  const w = await botWorld(label);
  const result = await w.license.updateSettings({
    tagSuggestions: { refund: REFUNDS, delivery: DELIVERY },
    tagKeywords: { refund: ["money back", "Rückerstattung"], delivery: ["package", "shipping"] },
    ...extra,
  });
  expect(result).toMatchObject({ ok: true });
  return w;
}

const names = (w: World, from: number) => w.lc.calls().slice(from).map((c) => c.url.pathname.split("/").pop());
const REFUND_TEXT = `Suggested replies for the customer's message:\n1. [refund] ${REFUNDS[0]}\n2. [refund] ${REFUNDS[1]}`;

describe("suggestions from what the customer writes", () => {
  it("a customer's message that fits a tag: the bot joins agents-only and posts the tag's responses to agents", async () => {
    const w = await shop("fit");
    w.chats.open("S1");
    const before = w.lc.calls().length;
    await say(w, "S1", message("E1", CUSTOMER, "Hi, when will I get my refund?"));
    expect(names(w, before)).toEqual(["get_chat", "get_chat", "add_user_to_chat", "send_event"]);
    expect(callsTo(w, "/agent/action/add_user_to_chat")[0].body).toMatchObject({ chat_id: "S1", user_id: w.bot.id, visibility: "agents" });
    expect(sends(w)).toEqual([
      { chat_id: "S1", event: { type: "message", visibility: "agents", custom_id: "content:S1-T1:E1", text: REFUND_TEXT } },
    ]);
    expect(await chatStore(w.org, "S1", (s) => s.get(`${TAG_SUGGESTED_PREFIX}S1-T1:refund`))).toMatchObject({ via: "content" });
  });

  it("matches keywords in other languages and misspellings", async () => {
    const w = await shop("lang");
    w.chats.open("S2");
    await say(w, "S2", message("E1", CUSTOMER, "Wann bekomme ich meine Rückerstattung?"));
    w.chats.open("S3");
    await say(w, "S3", message("E2", CUSTOMER, "my pakage has not arrived, i paid for shiping"));
    expect(sends(w).map((s) => [s.chat_id, s.event.text.split("\n")[1]])).toEqual([
      ["S2", `1. [refund] ${REFUNDS[0]}`],
      ["S3", `1. [delivery] ${DELIVERY[0]}`],
    ]);
  });

  it("a message that fits nothing makes no LiveChat call at all", async () => {
    const w = await shop("nothing");
    w.chats.open("S4");
    await say(w, "S4", message("E0", CUSTOMER, "hello")); // learns the users (one get_chat)
    const before = w.lc.calls().length;
    await say(w, "S4", message("E1", CUSTOMER, "Is this jacket waterproof?"));
    await say(w, "S4", message("E2", CUSTOMER, "谢谢你的帮助"));
    expect(names(w, before)).toEqual([]);
  });

  it("agents' messages and agents-only events never bring suggestions; nor does the bot's own", async () => {
    const w = await shop("agents");
    w.chats.open("S5");
    await say(w, "S5", message("A1", AGENT, "Do you want your money back? I can refund it."));
    await say(w, "S5", { ...message("A2", AGENT, "refund refund, money back"), visibility: "agents" });
    await say(w, "S5", { ...message("W1", CUSTOMER, "refund please"), visibility: "agents" }); // odd, but agents-only
    await say(w, "S5", message("B1", w.bot.id, "When will I get my refund?"));
    expect(sends(w)).toEqual([]);
  });

  it("once per tag and thread, across redeliveries (license and bot webhooks) and later messages", async () => {
    const w = await shop("once");
    w.chats.open("S6");
    const e1 = message("E1", CUSTOMER, "I want my money back");
    await say(w, "S6", e1);
    await say(w, "S6", e1, "bot");
    await say(w, "S6", message("E2", CUSTOMER, "so where is my refund??"));
    expect(sends(w)).toHaveLength(1);
    // Another topic in the same thread is suggested once too.
    await say(w, "S6", message("E3", CUSTOMER, "and is shipping free for the package?"));
    await say(w, "S6", message("E4", CUSTOMER, "refund, and the package shipping"));
    expect(sends(w).map((s) => s.event.custom_id)).toEqual(["content:S6-T1:E1", "content:S6-T1:E3"]);

    // The chat's next thread starts afresh.
    const chat = w.chats.chats.get("S6")!;
    chat.thread = { id: "S6-T2", active: true, events: [] };
    await say(w, "S6", message("E5", CUSTOMER, "refund please"));
    expect(sends(w).map((s) => s.event.custom_id)).toEqual(["content:S6-T1:E1", "content:S6-T1:E3", "content:S6-T2:E5"]);
  });

  it("not twice with tag suggestions: a tag suggested by tagging is not suggested from the text, and the other way round", async () => {
    const w = await shop("tagged");
    w.chats.open("S7");
    await deliver(w, "S7", "thread_tagged", { chat_id: "S7", thread_id: "S7-T1", tag: "refund" });
    await say(w, "S7", message("E1", CUSTOMER, "when do I get the refund"));
    await say(w, "S7", message("E2", CUSTOMER, "where is my package"));
    await deliver(w, "S7", "thread_tagged", { chat_id: "S7", thread_id: "S7-T1", tag: "delivery" });
    expect(sends(w).map((s) => s.event.custom_id)).toEqual(["tag:S7-T1:refund", "content:S7-T1:E2"]);
  });

  it("leaves out responses an agent already wrote in the thread; nothing when it wrote them all", async () => {
    const w = await shop("used");
    const chat = w.chats.open("S8");
    chat.thread.events.push(message("A1", AGENT, `Hello!  ${REFUNDS[0].toUpperCase()}`));
    await say(w, "S8", message("E1", CUSTOMER, "refund?"));
    expect(sends(w).map((s) => s.event.text)).toEqual([`Suggested replies for the customer's message:\n1. [refund] ${REFUNDS[1]}`]);

    const other = w.chats.open("S9");
    other.thread.events.push(message("A2", AGENT, DELIVERY[0]));
    await say(w, "S9", message("E2", CUSTOMER, "package shipping?"));
    await say(w, "S9", message("E3", CUSTOMER, "my package!"));
    expect(sends(w)).toHaveLength(1);
    // Settled for the thread: the second message asked LiveChat nothing more.
    expect(callsTo(w, "/agent/action/get_chat").filter((c) => (c.body as { chat_id: string }).chat_id === "S9")).toHaveLength(2);
  });

  it("the first messages of a chat (incoming_chat) are read too", async () => {
    const w = await shop("first");
    const chat = w.chats.open("S10");
    const first = message("E1", CUSTOMER, "I'd like a refund");
    chat.thread.events.push(first);
    await deliver(w, "S10", "incoming_chat", { chat: { id: "S10", users: chat.users, thread: { id: "S10-T1", active: true, events: [first] } } });
    await say(w, "S10", first); // the same message as incoming_event later
    expect(sends(w).map((s) => s.event.custom_id)).toEqual(["content:S10-T1:E1"]);
  });

  it("an inactive chat, or a message of an older thread, gets nothing (get_chat only)", async () => {
    const w = await shop("inactive");
    const chat = w.chats.open("S11");
    await say(w, "S11", message("E0", CUSTOMER, "hi"));
    chat.thread.active = false;
    const before = w.lc.calls().length;
    await say(w, "S11", message("E1", CUSTOMER, "refund please"));
    expect(names(w, before)).toEqual(["get_chat"]);
    chat.thread = { id: "S11-T2", active: true, events: [] };
    await deliver(w, "S11", "incoming_event", { chat_id: "S11", thread_id: "S11-T1", event: message("E2", CUSTOMER, "refund please") });
    expect(sends(w)).toEqual([]);
  });

  it("switched off, or above the license's threshold: nothing, not even a LiveChat call", async () => {
    const w = await shop("off", { contentSuggestions: false });
    w.chats.open("S12");
    await say(w, "S12", message("E0", CUSTOMER, "hi"));
    const before = w.lc.calls().length;
    await say(w, "S12", message("E1", CUSTOMER, "I want a refund, money back"));
    expect(names(w, before)).toEqual([]);

    await w.license.updateSettings({ contentSuggestions: true, contentSuggestionThreshold: 10 });
    advance(10_000); // past the Chat DO's cached settings (src/chats/license-cache.ts)
    await say(w, "S12", message("E2", CUSTOMER, "I want a refund, money back"));
    expect(names(w, before)).toEqual([]);

    await w.license.updateSettings({ contentSuggestionThreshold: 0.5 });
    advance(10_000);
    await say(w, "S12", message("E3", CUSTOMER, "I want a refund, money back"));
    expect(sends(w).map((s) => s.event.custom_id)).toEqual(["content:S12-T1:E3"]);
  });

  it("a license without tag suggestions has no library: nothing", async () => {
    const w = await botWorld("empty");
    w.chats.open("S13");
    await say(w, "S13", message("E1", CUSTOMER, "refund please"));
    expect(sends(w)).toEqual([]);
  });

  it("stays silent while the bot is not accepting chats", async () => {
    const w = await shop("away");
    w.chats.open("S14");
    await w.license.recordRoutingStatus({ agentId: w.bot.id, status: "not_accepting_chats", at: Date.now() });
    await say(w, "S14", message("E1", CUSTOMER, "refund please"));
    expect(sends(w)).toEqual([]);
  });

  it("a lost send_event answer: the retried delivery finds its message by custom_id and does not post again", async () => {
    const w = await shop("lost");
    const chat = w.chats.open("S15");
    w.chats.sendFaults.push("lost_response");
    await say(w, "S15", message("E1", CUSTOMER, "refund please"));
    expect(chat.thread.events.filter((e) => e.custom_id === "content:S15-T1:E1")).toHaveLength(1);
    advance(60_000);
    await runDue(w.org, "S15");
    expect(sends(w)).toHaveLength(1);
    expect(chat.thread.events.filter((e) => e.custom_id === "content:S15-T1:E1")).toHaveLength(1);
    expect(await chatStore(w.org, "S15", (s) => s.get(`${TAG_SUGGESTED_PREFIX}S15-T1:refund`))).toMatchObject({ via: "content" });
    const [delivery] = await chatStub(env, w.org, "S15").recentDeliveries({ limit: 1 });
    expect(delivery).toMatchObject({ status: "processed", attempts: 2 });
  });

  it("keeps the listing within LiveChat's message size", () => {
    const long = "x".repeat(2000);
    const text = contentSuggestionText([
      { tag: "a", texts: Array.from({ length: 5 }, () => long) },
      { tag: "b", texts: Array.from({ length: 5 }, () => long) },
    ]);
    expect(new TextEncoder().encode(text).length).toBeLessThanOrEqual(MAX_TEXT_BYTES);
    expect(text.split("\n")).toHaveLength(8);
  });
});
