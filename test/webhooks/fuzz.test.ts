import { describe, expect, it } from "vitest";
import { MAX_WEBHOOK_BODY_BYTES } from "../../src/routes/webhooks";
import { webhookActions } from "../../src/livechat/webhooks";
import { type Body, expandedSample, webhookSampleNames } from "../livechat/webhooks/samples";
import { post, SECRET, uniqueOrg } from "./helpers";

/** Seeded PRNG (mulberry32): a failing case can be replayed from its seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (n: number) => Math.floor(next() * n),
    pick: <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)],
  };
}
type Rng = ReturnType<typeof prng>;

/** Paths to every container and leaf of a JSON value (breadth-first, bounded). */
function paths(value: unknown): (string | number)[][] {
  const out: (string | number)[][] = [];
  const queue: [unknown, (string | number)[]][] = [[value, []]];
  while (queue.length > 0 && out.length < 400) {
    const [node, path] = queue.shift()!;
    out.push(path);
    if (node && typeof node === "object") {
      for (const [k, v] of Object.entries(node)) queue.push([v, [...path, Array.isArray(node) ? Number(k) : k]]);
    }
  }
  return out;
}

function setAt(root: Body, path: (string | number)[], value: unknown): Body {
  if (path.length === 0) return value as Body;
  let node: any = root;
  for (const key of path.slice(0, -1)) node = node[key];
  node[path[path.length - 1]] = value;
  return root;
}

function deleteAt(root: Body, path: (string | number)[]): Body {
  if (path.length === 0) return root;
  let node: any = root;
  for (const key of path.slice(0, -1)) node = node[key];
  if (Array.isArray(node)) node.splice(Number(path[path.length - 1]), 1);
  else delete node[path[path.length - 1]];
  return root;
}

/** Nested JSON text (built as text: JSON.stringify itself overflows on very deep values). */
function nestedText(depth: number, asArray: boolean): string {
  return asArray ? `${"[".repeat(depth)}"leaf"${"]".repeat(depth)}` : `${'{"n":'.repeat(depth)}"leaf"${"}".repeat(depth)}`;
}

function randomValue(r: Rng): unknown {
  return r.pick<() => unknown>([
    () => null,
    () => r.int(2) === 0,
    () => r.int(1e9) - 5e8,
    () => 1e308,
    () => -0,
    () => "",
    () => "x".repeat(r.int(300)),
    () => "\u0000\ud800\u202e<script>",
    () => [],
    () => ({}),
    () => [1, "two", null],
    () => ({ __proto__: { polluted: true }, constructor: { prototype: 1 } }),
  ])();
}

type Mutant = { text: string; note: string };

/** One mutated request body, built from a documented sample that carries the right secret. */
function mutate(r: Rng, org: string): Mutant {
  const name = r.pick(webhookSampleNames());
  let body: Body = { ...expandedSample(name), secret_key: SECRET, organization_id: org };
  const kinds = r.int(3) + 1;
  const notes: string[] = [name];
  const deep: [string, string][] = [];
  for (let i = 0; i < kinds; i++) {
    const path = r.pick(paths(body));
    switch (r.int(9)) {
      case 0:
        body = setAt(body, path, randomValue(r));
        notes.push(`type ${path.join(".")}`);
        break;
      case 1:
        body = deleteAt(body, path);
        notes.push(`delete ${path.join(".")}`);
        break;
      case 2: {
        const size = r.pick([1_000, 100_000, 600_000, MAX_WEBHOOK_BODY_BYTES + 10]);
        body = setAt(body, path.length ? path : ["payload", "huge"], "h".repeat(size));
        notes.push(`huge ${size}`);
        break;
      }
      case 3: {
        const depth = r.pick([20, 100, 127, 129, 1_000, 50_000]);
        const marker = `__deep_${deep.length}__`;
        deep.push([marker, nestedText(depth, r.int(2) === 0)]);
        body = setAt(body, path.length ? path : ["payload", "deep"], marker);
        notes.push(`deep ${depth}`);
        break;
      }
      case 4:
        body.action = r.pick([...webhookActions, "incoming_chat_thread", "", "__proto__", "constructor", "toString"]);
        notes.push(`action ${String(body.action)}`);
        break;
      case 5:
        body.payload = r.pick<unknown>([[], [{}], "payload", 7, null, { chat_id: 1 }, { chat: [] }]);
        notes.push("payload swap");
        break;
      case 6:
        body = setAt(body, path, { secret_key: SECRET, ["__proto__"]: { x: 1 } });
        notes.push("nested secret");
        break;
      case 7:
        body.license_id = r.pick<unknown>([104130623, -1, "104130623", 1.5, 2 ** 60]);
        if (r.int(2) === 0) delete body.organization_id;
        notes.push("license_id");
        break;
      default:
        body.additional_data = randomValue(r);
        notes.push("additional_data");
    }
  }
  let text = JSON.stringify(body) ?? "null";
  for (const [marker, json] of deep) text = text.replace(`"${marker}"`, json);
  if (r.int(6) === 0) {
    text = text.slice(0, r.int(text.length));
    notes.push("truncated");
  }
  return { text, note: notes.join(", ") };
}

describe("fuzz: mutated webhook bodies at the HTTP boundary", () => {
  it("never answer 5xx (300 seeded cases)", async () => {
    const seed = 20261121;
    const r = prng(seed);
    const org = uniqueOrg("fuzz");
    const seen = new Map<number, number>();
    for (let i = 0; i < 300; i++) {
      const { text, note } = mutate(r, org);
      const res = await post(r.int(2) === 0 ? "license" : "bot", text);
      seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
      const answer = (await res.json()) as { ok: boolean };
      if (![200, 400, 401, 413].includes(res.status)) {
        throw new Error(`case ${i} (seed ${seed}): ${note} → ${res.status} ${JSON.stringify(answer)}`);
      }
      expect(answer.ok).toBe(res.status === 200);
    }
    // The loop exercised every answer the receiver can give to a JSON request.
    expect([...seen.keys()].sort()).toEqual([200, 400, 401, 413]);
  });
});
