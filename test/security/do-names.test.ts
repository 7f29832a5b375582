import { describe, expect, it } from "vitest";
import { chatDeliveries, incomingEvent, post, settled } from "../webhooks/helpers";

describe("threat: two chats share one Durable Object through an ambiguous name", () => {
  it("webhooks for (org 'x:y', chat 'z') and (org 'x', chat 'y:z') land in two Chat DOs, each seeing only its own", async () => {
    const tag = crypto.randomUUID();
    const first = { org: `${tag}:y`, chat: "z" };
    const second = { org: tag, chat: "y:z" };
    const a = await post("license", incomingEvent(first.org, first.chat, "E-FIRST"));
    const b = await post("license", incomingEvent(second.org, second.chat, "E-SECOND"));
    expect([a.status, b.status]).toEqual([200, 200]);
    // Different dedupe keys too: both accepted, neither taken for the other's redelivery.
    expect([await a.json(), await b.json()]).toEqual([
      { ok: true, outcome: "accepted" },
      { ok: true, outcome: "accepted" },
    ]);

    const eventIds = (list: { payload: unknown; organizationId: string }[]) =>
      list.map((d) => [d.organizationId, (d.payload as { event: { id: string } }).event.id]);
    expect(eventIds(await settled(() => chatDeliveries(first.org, first.chat), 1))).toEqual([[first.org, "E-FIRST"]]);
    expect(eventIds(await settled(() => chatDeliveries(second.org, second.chat), 1))).toEqual([[second.org, "E-SECOND"]]);
  });
});
