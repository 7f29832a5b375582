import { describe, expect, it } from "vitest";
import {
  chatIdOf,
  dedupeKey,
  MAX_SUMMARY_LENGTH,
  parseAction,
  parseEnvelope,
  redactEnvelope,
  secretMatches,
  webhookActions,
  type Envelope,
} from "../../../src/livechat/webhooks";
import { expandedSample, rawSample, v35ChatTransferred, v35IncomingCustomer, webhookSampleNames, withLicenseId, type Body } from "./samples";

/**
 * Seeded fuzzing of the whole parsing surface with mutated documented bodies: truncation, type swaps,
 * deleted keys, huge strings (1 MB), deep nesting (10k levels), odd payloads, prototype-pollution keys.
 * Every function must return normally (and dedupeKey resolve) for every input.
 */

const SEED = 0x5eed_1234;
const ITERATIONS = 3000;
const SECRET = "fuzz-secret-7d1f0c9e2b";

/** mulberry32: small, fast, deterministic. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HUGE = "x".repeat(1024 * 1024);
const HUGE_UNICODE = "ż\u0000\n\"".repeat(64 * 1024);

function deep(levels: number, arrays: boolean): unknown {
  let value: unknown = "bottom";
  for (let i = 0; i < levels; i++) value = arrays ? [value] : { n: value };
  return value;
}
const DEEP_OBJECTS = deep(10_000, false);
const DEEP_ARRAYS = deep(10_000, true);

const POLLUTION = [
  () => JSON.parse('{"__proto__":{"polluted":true,"chat_id":"EVIL"}}'),
  () => JSON.parse('{"constructor":{"prototype":{"polluted":true}}}'),
  () => JSON.parse('{"__proto__":[1,2,3],"prototype":null}'),
];

function seeds(): Body[] {
  const bodies = webhookSampleNames().flatMap((n) => [rawSample(n), expandedSample(n)]);
  bodies.push(v35IncomingCustomer(), v35ChatTransferred(), withLicenseId(expandedSample("webhook.v3.6.incoming_chat")));
  for (const b of bodies) b.secret_key = SECRET;
  return bodies;
}

/** How often the expensive shapes were generated (the test asserts they were). */
const generated = { huge: 0, deep: 0, pollution: 0, truncated: 0 };

function run(seed: number) {
  const random = rng(seed);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];

  const scalars = (): unknown =>
    pick<() => unknown>([
      () => null,
      () => undefined,
      () => 0,
      () => -1,
      () => 1.5,
      () => Number.MAX_SAFE_INTEGER + 2,
      () => NaN,
      () => "",
      () => "x",
      () => "accepting chats",
      () => true,
      () => false,
      () => [],
      () => ({}),
      () => [1, "a", null],
      () => ({ id: 5, type: 7 }),
      () => (int(4) === 0 ? (generated.huge++, HUGE) : "y".repeat(int(2000))),
      () => (int(4) === 0 ? (generated.huge++, HUGE_UNICODE) : "\u0000\u202e"),
      () => (int(4) === 0 ? (generated.deep++, DEEP_OBJECTS) : deep(int(300), false)),
      () => (int(4) === 0 ? (generated.deep++, DEEP_ARRAYS) : deep(int(300), true)),
      () => (generated.pollution++, pick(POLLUTION)()),
    ])();

  /** Every [container, key] pair in a value, breadth-first and bounded. */
  const slots = (root: unknown): [Record<string, unknown> | unknown[], string | number][] => {
    const out: [Record<string, unknown> | unknown[], string | number][] = [];
    const queue: unknown[] = [root];
    while (queue.length > 0 && out.length < 400) {
      const node = queue.shift();
      if (Array.isArray(node)) node.forEach((v, i) => (out.push([node, i]), queue.push(v)));
      else if (node && typeof node === "object") for (const [k, v] of Object.entries(node)) out.push([node as Record<string, unknown>, k]), queue.push(v);
    }
    return out;
  };

  const mutate = (body: Body): unknown => {
    switch (int(9)) {
      case 0: {
        // Truncate the JSON text; use it if it still parses, else the text itself.
        const text = safeStringify(body);
        if (text === undefined) return body;
        const cut = text.slice(0, int(text.length));
        generated.truncated++;
        try {
          return JSON.parse(cut);
        } catch {
          return cut;
        }
      }
      case 1:
      case 2:
      case 3: {
        // Replace a random value (anywhere) with a value of another type.
        const all = slots(body);
        if (all.length === 0) return body;
        const [container, key] = pick(all);
        (container as Record<string | number, unknown>)[key] = scalars();
        return body;
      }
      case 4: {
        // Delete a random key.
        const objects = slots(body).filter(([c]) => !Array.isArray(c));
        if (objects.length === 0) return body;
        const [container, key] = pick(objects);
        delete (container as Record<string, unknown>)[key as string];
        return body;
      }
      case 5:
        body.payload = scalars();
        return body;
      case 6:
        body.action = pick([...webhookActions, "auto_access_added", "__proto__", "constructor", "", "x".repeat(200), "INCOMING_EVENT"]);
        return body;
      case 7: {
        // Inject prototype-pollution keys (as own data properties, the way JSON.parse creates them).
        const objects = slots(body)
          .map(([c, k]) => (c as Record<string | number, unknown>)[k])
          .filter((v): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v));
        const target = objects.length > 0 ? pick(objects) : body;
        const evil = pick(POLLUTION)() as Record<string, unknown>;
        generated.pollution++;
        for (const key of Object.keys(evil)) {
          Object.defineProperty(target, key, { value: evil[key], enumerable: true, writable: true, configurable: true });
        }
        const text = safeStringify(body);
        return text === undefined ? body : JSON.parse(text.replace(/^\{/, '{"__proto__":{"polluted":1},'));
      }
      default:
        return pick<() => unknown>([
          () => null,
          () => [],
          () => 42,
          () => "body",
          () => (generated.deep++, DEEP_OBJECTS),
          () => (generated.deep++, { payload: DEEP_ARRAYS }),
        ])();
    }
  };

  return { random, int, pick, mutate, scalars };
}

/** JSON.stringify recurses: it throws RangeError on 10k-level values (one reason parseEnvelope caps depth). */
function safeStringify(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

const envelopeFor = (action: string, payload: unknown): Envelope => ({
  webhookId: "w",
  secretKey: SECRET,
  action,
  organizationId: "o",
  payload,
});

describe("fuzz: mutated webhook bodies never throw", () => {
  it(`survives ${ITERATIONS} seeded mutations (seed ${SEED.toString(16)})`, async () => {
    const { mutate, pick, int } = run(SEED);
    const bases = seeds();
    const stats = { envelopeOk: 0, actionOk: 0, actionFailed: 0 };

    for (let i = 0; i < ITERATIONS; i++) {
      const body = structuredClone(pick(bases));
      let input: unknown = mutate(body);
      if (int(3) === 0 && typeof input === "object" && input !== null) input = mutate(input as Body); // sometimes twice

      const env = parseEnvelope(input);
      expect(typeof env.ok).toBe("boolean");
      if (!env.ok) expect(env.error).not.toContain(SECRET);

      const isObject = typeof input === "object" && input !== null && !Array.isArray(input);
      const action = isObject && typeof (input as Body).action === "string" ? (input as Body).action : pick(webhookActions);
      const payload = isObject ? (input as Body).payload : input;

      for (const name of [action, pick(webhookActions), pick(webhookActions)]) {
        const parsed = parseAction(name, payload);
        if (parsed.ok) stats.actionOk++;
        else {
          stats.actionFailed++;
          expect(["unknown_action", "invalid_payload"]).toContain(parsed.reason);
          expect(parsed.error.length).toBeLessThanOrEqual(MAX_SUMMARY_LENGTH);
          expect(parsed.error).not.toContain(SECRET);
        }
        const chatId = chatIdOf(name, payload);
        if (chatId !== undefined) expect(typeof chatId).toBe("string");
        const key = await dedupeKey(name, payload);
        expect(typeof key).toBe("string");
        expect(key.length).toBeLessThan(1024);
        expect(key).not.toContain(SECRET);
      }

      if (env.ok) {
        stats.envelopeOk++;
        const stored = redactEnvelope(input as Body);
        expect(stored.secret_key).toBeUndefined();
        if (i % 25 === 0) expect(JSON.stringify(stored)).not.toContain(SECRET); // stringify is costly on 1 MB bodies
        expect(secretMatches(env.envelope.secretKey, [SECRET, ""])).toBe(env.envelope.secretKey === SECRET);
      }
    }

    // Nothing leaked onto the shared prototype, and the loop really exercised both outcomes.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype.hasOwnProperty.call(Object.prototype, "chat_id")).toBe(false);
    expect(stats.envelopeOk).toBeGreaterThan(ITERATIONS / 4);
    expect(stats.actionOk).toBeGreaterThan(100);
    expect(stats.actionFailed).toBeGreaterThan(100);
    expect(generated.huge).toBeGreaterThan(10);
    expect(generated.deep).toBeGreaterThan(50);
    expect(generated.pollution).toBeGreaterThan(100);
    expect(generated.truncated).toBeGreaterThan(100);
  }, 120_000);

  it("handles the extreme inputs directly", async () => {
    const env = envelopeFor("incoming_event", {});
    const extremes: unknown[] = [
      undefined, null, NaN, 0, "", HUGE, [], {}, DEEP_OBJECTS, DEEP_ARRAYS,
      { chat_id: HUGE, thread_id: HUGE, event: { id: HUGE, type: HUGE, text: HUGE, author_id: "a" } },
      { chat_id: "c", thread_id: "t", event: DEEP_OBJECTS },
      { chat: { id: "c", thread: { id: "t", events: [DEEP_ARRAYS] }, users: [DEEP_OBJECTS] } },
      { chat_id: "c", properties: { ns: DEEP_OBJECTS, rating: { score: DEEP_ARRAYS } } },
      JSON.parse('{"chat_id":"c","thread_id":"t","properties":{"__proto__":{"score":1}},"__proto__":{"chat_id":"EVIL"}}'),
    ];
    for (const payload of extremes) {
      for (const action of webhookActions) {
        const parsed = parseAction(action, payload);
        if (parsed.ok) expect(Object.getPrototypeOf(parsed.payload)).toBe(Array.isArray(parsed.payload) ? Array.prototype : Object.prototype);
        chatIdOf(action, payload);
      }
      await dedupeKey("incoming_event", payload);
      await dedupeKey("thread_properties_updated", payload);
      parseEnvelope({ webhook_id: "w", secret_key: SECRET, action: "incoming_event", organization_id: "o", payload });
      redactEnvelope({ secret_key: SECRET, payload } as Record<string, unknown>);
    }
    const evil = JSON.parse('{"chat_id":"c","thread_id":"t","properties":{"__proto__":{"score":1}},"__proto__":{"chat_id":"EVIL"}}');
    expect(chatIdOf("chat_properties_updated", evil)).toBe("c");
    const parsed = parseAction("thread_properties_updated", evil);
    expect(parsed.ok).toBe(true);
    if (parsed.ok && parsed.action === "thread_properties_updated") {
      expect(Object.keys(parsed.payload.properties)).not.toContain("__proto__");
      expect((parsed.payload.properties as Record<string, unknown>).score).toBeUndefined();
    }
    expect(({} as Record<string, unknown>).score).toBeUndefined();
  }, 60_000);
});
