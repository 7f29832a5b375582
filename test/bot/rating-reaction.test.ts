import { afterEach, describe, expect, it, vi } from "vitest";
import { RATING_CANCELLED_PREFIX, RATING_PREFIX, ratingScore, ratingText } from "../../src/bot/rating-reaction";
import { MAX_TEXT_BYTES } from "../../src/livechat/schemas/events";
import { defaultSettings } from "../../src/licenses/settings";
import { botWorld, callsTo, chatStore, deliver, say, sends, type World } from "./helpers";

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

const defaults = defaultSettings({ replyTimeoutSeconds: 120 }).rating;

/** The customer rates (thread properties, docs/LIVECHAT.md §5). */
const rated = (w: World, chatId: string, score: unknown, kind?: "license" | "bot") =>
  deliver(w, chatId, "thread_properties_updated", { chat_id: chatId, thread_id: `${chatId}-T1`, properties: { rating: { score } } }, kind);

/** LiveChat's `rating.chat_rated` system message (docs/LIVECHAT.md §5, text_vars.score unofficial). */
let n = 0;
const ratedMessage = (w: World, chatId: string, score: string, type = "rating.chat_rated") =>
  say(w, chatId, {
    id: `SYS-${++n}`,
    type: "system_message",
    system_message_type: type,
    text: `Customer rated the chat as ${score}`,
    text_vars: { score, customer: "Customer" },
    visibility: "all",
  });

const cancelled = (w: World, chatId: string) =>
  deliver(w, chatId, "thread_properties_deleted", { chat_id: chatId, thread_id: `${chatId}-T1`, properties: { rating: ["score", "comment"] } });

describe("rating reaction", () => {
  it("good (thread properties) → one agents-only review suggestion with the license's link; the system message adds nothing", async () => {
    const w = await botWorld("good");
    await w.license.updateSettings({ rating: { reviewUrl: "https://reviews.example.com/acme" } });
    w.chats.open("R1");
    await rated(w, "R1", 1);
    await ratedMessage(w, "R1", "good");
    await rated(w, "R1", 1, "bot");
    expect(sends(w)).toEqual([
      {
        chat_id: "R1",
        event: {
          type: "message",
          visibility: "agents",
          custom_id: "rating:R1-T1:0:good",
          text: "The customer rated this chat as good. Consider asking them for a review: https://reviews.example.com/acme",
        },
      },
    ]);
    expect(callsTo(w, "/agent/action/add_user_to_chat").map((c) => (c.body as { visibility: string }).visibility)).toEqual(["agents"]);
  });

  it("bad (system message first) → the bad-rating suggestion once; the properties update adds nothing", async () => {
    const w = await botWorld("bad");
    w.chats.open("R2");
    await ratedMessage(w, "R2", "bad");
    await rated(w, "R2", 0);
    expect(sends(w).map((b) => [b.event.text, b.event.visibility])).toEqual([[defaults.badMessage, "agents"]]);
  });

  it("a cancelled rating is noted; a new rating after it reacts again", async () => {
    const w = await botWorld("cancel");
    w.chats.open("R3");
    await rated(w, "R3", 0);
    await cancelled(w, "R3");
    expect(await chatStore(w.org, "R3", (s) => s.get(RATING_CANCELLED_PREFIX + "R3-T1"))).toMatchObject({ score: "bad" });
    expect(await chatStore(w.org, "R3", (s) => s.get(RATING_PREFIX + "R3-T1"))).toBeUndefined();
    await ratedMessage(w, "R3", "whatever", "rating.chat_rating_canceled"); // the other cancel signal: nothing more
    await rated(w, "R3", "1"); // a numeric string is read as a number
    await rated(w, "R3", 1);
    expect(sends(w).map((b) => b.event.custom_id)).toEqual(["rating:R3-T1:0:bad", "rating:R3-T1:1:good"]);
    // Without a configured link, the sentence with the placeholder is left out.
    expect(sends(w)[1].event.text).toBe("The customer rated this chat as good.");
  });

  it("a rating after the chat ended sends nothing (and is recorded, so the second signal does not ask again)", async () => {
    const w = await botWorld("ended");
    const chat = w.chats.open("R4");
    chat.thread.active = false;
    await rated(w, "R4", 1);
    await ratedMessage(w, "R4", "good");
    expect(callsTo(w, "/agent/action/get_chat")).toHaveLength(1);
    expect(sends(w)).toEqual([]);
    expect(callsTo(w, "/agent/action/add_user_to_chat")).toEqual([]);
    expect(await chatStore(w.org, "R4", (s) => s.get(RATING_PREFIX + "R4-T1"))).toMatchObject({ score: "good", outcome: "chat_inactive" });
  });

  it("uses the license's messages over the defaults", async () => {
    const w = await botWorld("custom");
    await w.license.updateSettings({ rating: { badMessage: "Bad rating: call them back today." } });
    w.chats.open("R5");
    await rated(w, "R5", 0);
    expect(sends(w).map((b) => b.event.text)).toEqual(["Bad rating: call them back today."]);
  });

  it("after the review link is cleared, a good rating suggests without the link's sentence", async () => {
    const w = await botWorld("cleared");
    expect((await w.license.updateSettings({ rating: { reviewUrl: "https://reviews.example.com/acme" } })).ok).toBe(true);
    expect((await w.license.updateSettings({ rating: { reviewUrl: null } })).ok).toBe(true);
    w.chats.open("R7");
    await rated(w, "R7", 1);
    expect(sends(w).map((b) => b.event.text)).toEqual(["The customer rated this chat as good."]);
  });

  it("ignores properties without a usable score", async () => {
    const w = await botWorld("noscore");
    w.chats.open("R6");
    await rated(w, "R6", null);
    await rated(w, "R6", 5);
    await deliver(w, "R6", "thread_properties_updated", { chat_id: "R6", thread_id: "R6-T1", properties: { other: { x: 1 } } });
    expect(callsTo(w, "/agent/action/get_chat")).toEqual([]);
  });
});

describe("rating helpers", () => {
  it("read scores as numbers or words", () => {
    expect([1, "1", "good", 0, "0", "bad", 2, "meh", null].map(ratingScore)).toEqual(["good", "good", "good", "bad", "bad", "bad", undefined, undefined, undefined]);
  });

  it("fill or drop the review link", () => {
    const rating = { goodMessage: "Rated good! Ask for a review at {reviewUrl}. Thank them.", badMessage: "b" };
    expect(ratingText({ ...rating, reviewUrl: "https://r.example" }, "good")).toBe("Rated good! Ask for a review at https://r.example. Thank them.");
    expect(ratingText(rating, "good")).toBe("Rated good! Thank them.");
    expect(ratingText({ ...rating, goodMessage: "{reviewUrl}" }, "good")).toBe("The customer rated this chat as good.");
    expect(ratingText(rating, "bad")).toBe("b");
  });

  it("without a link, drop only the line or sentence holding the placeholder and keep the others' line breaks", () => {
    const rating = { goodMessage: "Rated good!\nReview link: {reviewUrl}\nThank them.\n\nThen close the chat. Ask for {reviewUrl} later.", badMessage: "b" };
    expect(ratingText(rating, "good")).toBe("Rated good!\nThank them.\n\nThen close the chat.");
  });

  it("insert the link literally (no `$&`-style replacement patterns)", () => {
    const rating = { goodMessage: "Review: {reviewUrl}", badMessage: "b", reviewUrl: "https://r.example/?a=$&b=$'c=$$" };
    expect(ratingText(rating, "good")).toBe("Review: https://r.example/?a=$&b=$'c=$$");
  });

  it("never exceed LiveChat's message size, whatever the stored settings (clipped on a character boundary)", () => {
    const rating = { goodMessage: Array(20).fill("{reviewUrl}").join(" "), badMessage: "b", reviewUrl: `https://r.example/${"€".repeat(1900)}` };
    const text = ratingText(rating, "good");
    expect(new TextEncoder().encode(text).byteLength).toBeLessThanOrEqual(MAX_TEXT_BYTES);
    expect(new TextEncoder().encode(text).byteLength).toBeGreaterThan(MAX_TEXT_BYTES - 8);
    expect(text.startsWith(`https://r.example/€€€`)).toBe(true);
    expect(text.endsWith("…")).toBe(true);
    expect(text.slice(0, -1)).toBe(rating.goodMessage.replaceAll("{reviewUrl}", rating.reviewUrl).slice(0, text.length - 1));
  });
});
