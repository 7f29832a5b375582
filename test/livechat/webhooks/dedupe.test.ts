import { describe, expect, it } from "vitest";
import {
  canonicalJson,
  dedupeKey,
  dedupeKeyKind,
  dedupeSubject,
  parseEnvelope,
  sha256Hex,
  webhookActions,
  type Envelope,
} from "../../../src/livechat/webhooks";
import { fixture } from "../../helpers/fixtures";
import { expandedSample, incomingEvent, rawSample, v35IncomingCustomer, webhookSampleNames, type Body } from "./samples";

const SECRET = "dedupe-secret-value-5d1c0e";

function envelopeOf(body: Body): Envelope {
  const result = parseEnvelope(body);
  if (!result.ok) throw new Error(result.error);
  return result.envelope;
}

async function keyOf(body: Body): Promise<string> {
  const env = envelopeOf(body);
  return dedupeKey(env.action, env.payload);
}

const allBodies = (): [string, Body][] => [
  ...webhookSampleNames()
    .filter((n) => n !== "webhook.v3.6.general_format")
    .map((n): [string, Body] => [n, expandedSample(n)]),
  ["v3.5 incoming_customer", v35IncomingCustomer()],
];

describe("canonicalJson", () => {
  it("sorts keys at every level and drops what JSON drops", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { f: 2, e: 1 }], c: null } })).toBe('{"a":{"c":null,"d":[1,{"e":1,"f":2}]},"b":1}');
    expect(canonicalJson({ a: undefined, b: () => 1, c: [undefined, NaN, Infinity] })).toBe('{"c":[null,null,null]}');
    expect(canonicalJson("x\"y")).toBe(JSON.stringify("x\"y"));
  });

  it("matches JSON.stringify on key-sorted input", () => {
    const sample = fixture<Body>("user.v3.6.customer");
    const sortDeep = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(sortDeep) : v && typeof v === "object" ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortDeep((v as Body)[k])])) : v;
    expect(canonicalJson(sample)).toBe(JSON.stringify(sortDeep(sample)));
  });

  it("survives 10k levels and cycles", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(canonicalJson(deep)).toBe(`${"[".repeat(10_000)}1${"]".repeat(10_000)}`);
    const cyclic: Body = { a: 1 };
    cyclic.self = cyclic;
    expect(canonicalJson(cyclic)).toBe('{"a":1,"self":"[circular]"}');
  });
});

describe("dedupeKey", () => {
  it("has readable id-based keys for event and chat actions", async () => {
    expect(await keyOf(expandedSample("webhook.v3.6.incoming_event"))).toBe(
      "incoming_event:PJ0MRSHTDG:K600PKZON8:0affb00a-82d6-4e07-ae61-56ba5c36f743",
    );
    expect(await keyOf(expandedSample("webhook.v3.6.incoming_chat"))).toBe("incoming_chat:PJ0MRSHTDG:K600PKZON8");
    expect(await keyOf(rawSample("webhook.v3.6.chat_deactivated"))).toBe("chat_deactivated:PJ0MRSHTDG:K600PKZON8");
    expect(await keyOf(rawSample("webhook.v3.6.event_deleted"))).toBe("event_deleted:PJ0MRSHTDG:K600PKZON8:K600PKZON8_4");
    expect(await keyOf(rawSample("webhook.v3.6.thread_tagged"))).toBe("thread_tagged:PJ0MRSHTDG:K600PKZON8:bug_report");
    expect(await keyOf(rawSample("webhook.v3.6.thread_properties_updated"))).toMatch(/^thread_properties_updated:PJ0MRSHTDG:K600PKZON8:[0-9a-f]{64}$/);
    expect(await keyOf(rawSample("webhook.v3.6.agent_created"))).toMatch(/^agent_created:smith@example\.com:[0-9a-f]{64}$/);
    expect(await keyOf(rawSample("webhook.v3.6.tag_deleted"))).toMatch(/^tag_deleted:docs_feedback:[0-9a-f]{64}$/);
    expect(await keyOf(rawSample("webhook.v3.6.group_updated"))).toMatch(/^group_updated:1:[0-9a-f]{64}$/);
    expect(await keyOf(rawSample("webhook.v3.6.routing_status_set"))).toMatch(/^routing_status_set:agent1@example\.com:[0-9a-f]{64}:[0-9a-f-]{36}$/);
    // A status switched back repeats an earlier body exactly: never a duplicate.
    expect(await keyOf(rawSample("webhook.v3.6.routing_status_set"))).not.toBe(await keyOf(rawSample("webhook.v3.6.routing_status_set")));
  });

  /** Without its unique suffix: a routing status report is never a duplicate (see below). */
  const stable = async (body: Body) => (await keyOf(body)).replace(/^(routing_status_set:.*):[0-9a-f-]{36}$/, "$1");

  it("is stable across redeliveries: same body, other webhook_id, key order, whitespace", async () => {
    for (const [name, body] of allBodies()) {
      const keyOf = stable;
      const first = await keyOf(body);
      const redelivered = JSON.parse(JSON.stringify({ ...body, webhook_id: "another-registration" }, null, 2));
      expect(await keyOf(redelivered), name).toBe(first);
      const reordered = JSON.parse(JSON.stringify(body));
      if (reordered.payload && !Array.isArray(reordered.payload)) {
        reordered.payload = Object.fromEntries(Object.entries(reordered.payload).reverse());
      }
      expect(await keyOf(reordered), name).toBe(first);
    }
  });

  it("never contains the secret and ignores it", async () => {
    for (const [name, body] of allBodies()) {
      const keyOf = stable;
      const a = await keyOf({ ...body, secret_key: SECRET });
      expect(a, name).not.toContain(SECRET);
      expect(await keyOf({ ...body, secret_key: "other" }), name).toBe(a);
    }
  });

  it("is unique per action across all samples", async () => {
    const keys = new Map<string, string>();
    for (const [name, body] of allBodies()) {
      if (name.includes("auto_accesses_updated")) continue; // three samples of one action, checked below
      const key = await keyOf(body);
      expect(keys.has(key), `${name} collides with ${keys.get(key)}`).toBe(false);
      keys.set(key, name);
    }
    const auto = await Promise.all(["added", "updated", "deleted"].map((v) => keyOf(rawSample(`webhook.v3.6.auto_accesses_updated.${v}`))));
    expect(new Set(auto).size).toBe(3);
    expect(auto.every((k) => k.startsWith("auto_accesses_updated:"))).toBe(true); // quirk alias resolved
  });

  it("differs for genuinely different events", async () => {
    const message = fixture<Body>("event.v3.6.message");
    const a = await keyOf(incomingEvent({ ...message, id: "K600PKZON8_1" }));
    const b = await keyOf(incomingEvent({ ...message, id: "K600PKZON8_2" }));
    const c = await keyOf(incomingEvent({ ...message, id: "K600PKZON8_1" }, { chat_id: "OTHERCHAT" }));
    expect(new Set([a, b, c]).size).toBe(3);

    const updated = expandedSample("webhook.v3.6.event_updated");
    const edit1 = await keyOf(updated);
    updated.payload.event.text = "second edit";
    const edit2 = await keyOf(updated);
    expect(edit1).not.toBe(edit2);
    expect(edit1.startsWith("event_updated:PJ0MRSHTDG:K600PKZON8:0affb00a-82d6-4e07-ae61-56ba5c36f743:")).toBe(true);

    const tagged = rawSample("webhook.v3.6.thread_tagged");
    const untagged = rawSample("webhook.v3.6.thread_untagged");
    expect(await keyOf(tagged)).not.toBe(await keyOf(untagged));
    expect(await keyOf(tagged)).not.toBe(await keyOf({ ...tagged, payload: { ...tagged.payload, tag: "other" } }));

    const status = rawSample("webhook.v3.6.routing_status_set");
    expect(await keyOf(status)).not.toBe(await keyOf({ ...status, payload: { ...status.payload, status: "offline" } }));

    const rating = rawSample("webhook.v3.6.thread_properties_updated");
    const good = { ...rating, payload: { ...rating.payload, properties: { rating: { score: 1 } } } };
    const bad = { ...rating, payload: { ...rating.payload, properties: { rating: { score: 0 } } } };
    expect(await keyOf(good)).not.toBe(await keyOf(bad));
  });

  it("hashes id parts that are not plain (colons, spaces, huge) so keys stay unambiguous and short", async () => {
    const tagged = rawSample("webhook.v3.6.thread_tagged");
    const spaced = await keyOf({ ...tagged, payload: { ...tagged.payload, tag: "positive feedback" } });
    expect(spaced).toMatch(/^thread_tagged:PJ0MRSHTDG:K600PKZON8:~[0-9a-f]{32}$/);
    const a = await keyOf({ ...tagged, payload: { ...tagged.payload, thread_id: "T:x", tag: "y" } });
    const b = await keyOf({ ...tagged, payload: { ...tagged.payload, thread_id: "T", tag: "x:y" } });
    expect(a).not.toBe(b);
    const huge = await keyOf({ ...tagged, payload: { ...tagged.payload, tag: "t".repeat(1_000_000) } });
    expect(huge.length).toBeLessThan(100);
  });

  it("falls back to a payload hash when ids are missing, and for unknown actions", async () => {
    const env = envelopeOf(rawSample("webhook.v3.6.incoming_event")); // event: {} placeholder
    expect(await dedupeKey(env.action, env.payload)).toMatch(/^incoming_event:[0-9a-f]{64}$/);
    expect(await dedupeKey("incoming_hologram", { a: 1 })).toBe(`incoming_hologram:${await sha256Hex('{"a":1}')}`);
    expect(await dedupeKey("weird action: with spaces", { a: 1 })).toMatch(/^~[0-9a-f]{16}:[0-9a-f]{64}$/);
    expect(await dedupeKey("incoming_event", null)).toBe(`incoming_event:${await sha256Hex("null")}`);
  });

  it("classifies key kinds", () => {
    const identity = webhookActions.filter((a) => dedupeKeyKind(a) === "identity");
    expect(identity.sort()).toEqual(["chat_deactivated", "event_deleted", "incoming_chat", "incoming_event"]);
    expect(dedupeKeyKind("thread_tagged")).toBe("content");
    expect(dedupeKeyKind("unknown")).toBe("content");
  });
});

describe("dedupeSubject", () => {
  const subjectOf = (name: string, action?: string) => dedupeSubject(action ?? (rawSample(name).action as string), rawSample(name).payload);

  it("names one subject for every state of an agent, a bot, a group or a tag of the configuration", async () => {
    const agent = await subjectOf("webhook.v3.6.agent_suspended");
    expect(agent).toBe("agent:smith@example.com");
    expect(await subjectOf("webhook.v3.6.agent_unsuspended")).toBe(agent);
    expect(await subjectOf("webhook.v3.6.agent_deleted")).toBe(agent);
    expect(await subjectOf("webhook.v3.6.tag_deleted")).toBe("tag:docs_feedback");
    expect(await subjectOf("webhook.v3.6.tag_created")).toBe("tag:docs_feedback");
    expect(await subjectOf("webhook.v3.6.group_updated")).toBe("group:1");
    expect(await subjectOf("webhook.v3.6.bot_deleted")).toBe("bot:5c9871d5372c824cbf22d860a707a578");
    expect(await subjectOf("webhook.v3.6.thread_untagged")).toBe(await subjectOf("webhook.v3.6.thread_tagged"));
    // Identity keys need none.
    expect(await subjectOf("webhook.v3.6.chat_deactivated")).toBeUndefined();
  });
});
