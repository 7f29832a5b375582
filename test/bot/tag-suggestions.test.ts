import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { suggestionText } from "../../src/bot/tag-suggestions";
import { MAX_TEXT_BYTES } from "../../src/livechat/schemas/events";
import { chatStub } from "../../src/chats/stub";
import { advance, botWorld, callsTo, CUSTOMER, deliver, message, runDue, say, sends, type World } from "./helpers";

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const tagged = (w: World, chatId: string, tag: string, kind?: "license" | "bot") =>
  deliver(w, chatId, "thread_tagged", { chat_id: chatId, thread_id: w.chats.chats.get(chatId)!.thread.id, tag }, kind);

async function worldWithTags(label: string) {
  const w = await botWorld(label);
  const result = await w.license.updateSettings({
    tagSuggestions: { billing: ["Here is our billing FAQ: https://example.com/faq", "I can refund that for you."] },
  });
  expect(result.ok).toBe(true);
  return w;
}

describe("tag suggestions", () => {
  it("a configured tag on an active chat: the bot joins agents-only, then posts the canned responses to agents", async () => {
    const w = await worldWithTags("tag");
    w.chats.open("T1");
    const before = w.lc.calls().length;
    await tagged(w, "T1", "billing");
    const calls = w.lc.calls().slice(before);
    expect(calls.map((c) => c.url.pathname.split("/").pop())).toEqual(["get_chat", "add_user_to_chat", "send_event"]);
    expect(calls[1].body).toMatchObject({ chat_id: "T1", user_id: w.bot.id, user_type: "agent", visibility: "agents" });
    expect(calls[2].body).toEqual({
      chat_id: "T1",
      event: {
        type: "message",
        visibility: "agents",
        custom_id: "tag:T1-T1:billing",
        text: 'Suggested replies for the tag "billing":\n1. Here is our billing FAQ: https://example.com/faq\n2. I can refund that for you.',
      },
    });
  });

  it("an unknown tag makes no LiveChat call at all", async () => {
    const w = await worldWithTags("unknown");
    w.chats.open("T2");
    const before = w.lc.calls().length;
    await tagged(w, "T2", "Billing"); // tags are case-sensitive (docs/LIVECHAT.md §4.3)
    await tagged(w, "T2", "vip");
    expect(w.lc.calls().slice(before)).toEqual([]);
  });

  it("a chat no longer active gets no suggestion (get_chat only)", async () => {
    const w = await worldWithTags("closed");
    const chat = w.chats.open("T3");
    chat.thread.active = false;
    const before = w.lc.calls().length;
    await tagged(w, "T3", "billing");
    expect(w.lc.calls().slice(before).map((c) => c.url.pathname.split("/").pop())).toEqual(["get_chat"]);
  });

  it("one suggestion per thread and tag, whatever the duplicates (license + bot webhook, re-tag)", async () => {
    const w = await worldWithTags("dupe");
    w.chats.open("T4");
    await tagged(w, "T4", "billing");
    await tagged(w, "T4", "billing", "bot");
    await tagged(w, "T4", "billing");
    expect(sends(w)).toHaveLength(1);
    expect(callsTo(w, "/agent/action/add_user_to_chat")).toHaveLength(1);
  });

  it("uses the defaults (no suggestions) until the license configures some", async () => {
    const w = await botWorld("defaults");
    w.chats.open("T5");
    await tagged(w, "T5", "billing");
    expect(sends(w)).toEqual([]);
    await w.license.updateSettings({ tagSuggestions: { billing: ["See the FAQ."] } });
    w.chats.open("T6");
    await tagged(w, "T6", "billing");
    expect(sends(w).map((b) => b.event.text)).toEqual(['Suggested replies for the tag "billing":\n1. See the FAQ.']);
  });

  it("a bot that joined agents-only is re-added with visibility all before it nudges the customer", async () => {
    const w = await worldWithTags("upgrade");
    const chat = w.chats.open("T6");
    await tagged(w, "T6", "billing");
    await say(w, "T6", message("E1", CUSTOMER));
    advance(121_000);
    await runDue(w.org, "T6");
    const adds = callsTo(w, "/agent/action/add_user_to_chat").map((c) => (c.body as { visibility: string }).visibility);
    expect(adds).toEqual(["agents", "all"]);
    expect(sends(w).map((b) => b.event.visibility)).toEqual(["agents", "all"]);
    expect(chat.users.find((u) => u.id === w.bot.id)).toMatchObject({ visibility: "all" });

    // Removed by an agent: the next send adds it again.
    chat.users.find((u) => u.id === w.bot.id)!.present = false;
    await deliver(w, "T6", "user_removed_from_chat", { chat_id: "T6", thread_id: chat.thread.id, user_id: w.bot.id, user_type: "agent" });
    await w.license.updateSettings({ tagSuggestions: { billing: ["x"], vip: ["Treat with care."] } });
    await tagged(w, "T6", "vip");
    expect(callsTo(w, "/agent/action/add_user_to_chat")).toHaveLength(3);
    expect(sends(w)).toHaveLength(3);
  });

  it("tags named like Object.prototype members are unknown tags: no LiveChat call, processed without error", async () => {
    const w = await worldWithTags("proto");
    w.chats.open("T7");
    const before = w.lc.calls().length;
    const tags = ["constructor", "__proto__", "toString", "hasOwnProperty"];
    for (const tag of tags) await tagged(w, "T7", tag);
    expect(w.lc.calls().slice(before)).toEqual([]);
    const deliveries = await chatStub(env, w.org, "T7").recentDeliveries({ limit: 10 });
    expect(deliveries.map((d) => ({ status: d.status, attempts: d.attempts, lastError: d.lastError }))).toEqual(
      tags.map(() => ({ status: "processed", attempts: 1, lastError: undefined })),
    );
  });

  it("a tag the license named \"constructor\" is its own; a \"__proto__\" key never reaches the settings", async () => {
    const w = await botWorld("proto-own");
    // As an admin's JSON body arrives: JSON.parse makes "__proto__" an own key.
    const result = await w.license.updateSettings({ tagSuggestions: JSON.parse('{"constructor": ["Built to order."], "__proto__": ["P"]}') });
    expect(result.ok).toBe(true);
    expect(Object.keys((await w.license.settings()).tagSuggestions)).toEqual(["constructor"]);
    w.chats.open("T8");
    await tagged(w, "T8", "constructor");
    await tagged(w, "T8", "__proto__");
    expect(sends(w).map((b) => b.event.text)).toEqual(['Suggested replies for the tag "constructor":\n1. Built to order.']);
    const deliveries = await chatStub(env, w.org, "T8").recentDeliveries({ limit: 10 });
    expect(deliveries.map((d) => [d.status, d.lastError])).toEqual([
      ["processed", undefined],
      ["processed", undefined],
    ]);
  });

  it("keeps the listing within LiveChat's message size", () => {
    const long = "x".repeat(2000);
    const text = suggestionText("big", Array.from({ length: 10 }, () => long));
    expect(new TextEncoder().encode(text).length).toBeLessThanOrEqual(MAX_TEXT_BYTES);
    expect(text.split("\n")).toHaveLength(8); // heading + 7 responses of 2000 characters
  });
});
