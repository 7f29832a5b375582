import { describe, expect, it } from "vitest";
import type { Webhook } from "../../src/livechat/schemas/configuration";
import type { DesiredWebhook } from "../../src/setup/declaration";
import { markOf, matches, MAX_WEBHOOKS_PER_ACTION, planWebhooks, webhookUrl } from "../../src/setup/plan";
import { fixture } from "../helpers/fixtures";

const URL_ = "https://edge.example.test";
const CLIENT = "client-1";
const opts = { url: URL_, ownerClientId: CLIENT };
const MY_BOTS = { chat_presence: { my_bots: true } };

let seq = 0;
function hook(partial: Partial<Webhook> & Pick<Webhook, "action">): Webhook {
  const type = partial.type ?? "license";
  return { id: `wh-${++seq}`, url: `${URL_}/webhooks/${type}`, description: "livechat-edge", owner_client_id: CLIENT, type, filters: {}, ...partial };
}

const desired: DesiredWebhook[] = [
  { action: "incoming_event", type: "license" },
  { action: "routing_status_set", type: "license" },
  { action: "incoming_event", type: "bot", filters: MY_BOTS },
];

describe("webhookUrl", () => {
  it("appends the endpoint to the public URL, trailing slashes trimmed", () => {
    expect(webhookUrl("https://edge.example.test/", "license")).toBe("https://edge.example.test/webhooks/license");
    expect(webhookUrl("https://edge.example.test", "bot")).toBe("https://edge.example.test/webhooks/bot");
  });
});

describe("planWebhooks", () => {
  it("plans nothing when everything is registered as declared", () => {
    const existing = [
      hook({ action: "incoming_event" }),
      hook({ action: "routing_status_set", filters: undefined }),
      hook({ action: "incoming_event", type: "bot", filters: MY_BOTS }),
    ];
    const plan = planWebhooks(desired, existing, opts);
    expect(plan.add).toEqual([]);
    expect(plan.remove).toEqual([]);
    expect(plan.keep).toEqual(existing);
    expect(plan.problems).toEqual([]);
  });

  it("adds what is missing", () => {
    const existing = [hook({ action: "incoming_event" })];
    const plan = planWebhooks(desired, existing, opts);
    expect(plan.add).toEqual([desired[1], desired[2]]);
    expect(plan.remove).toEqual([]);
    expect(plan.keep).toEqual(existing);
  });

  it("removes stale webhooks at our urls: undeclared actions, wrong endpoint for the type, duplicates", () => {
    const undeclared = hook({ action: "thread_untagged" });
    const wrongEndpoint = hook({ action: "routing_status_set", type: "license", url: `${URL_}/webhooks/bot` });
    const first = hook({ action: "incoming_event" });
    const duplicate = hook({ action: "incoming_event" });
    const existing = [undeclared, wrongEndpoint, first, duplicate, hook({ action: "routing_status_set" }), hook({ action: "incoming_event", type: "bot", filters: MY_BOTS })];
    const plan = planWebhooks(desired, existing, opts);
    expect(plan.add).toEqual([]);
    expect(plan.remove).toEqual([undeclared, wrongEndpoint, duplicate]);
    expect(plan.keep).toContain(first);
  });

  it("leaves webhooks at other urls alone unless pruneAll", () => {
    const other = hook({ action: "incoming_event", url: "https://staging.example.test/webhooks/license" });
    const foreign = hook({ action: "incoming_chat", url: "https://elsewhere.example.test/hook" });
    const existing = [other, foreign];
    const plan = planWebhooks(desired, existing, opts);
    expect(plan.remove).toEqual([]);
    expect(plan.elsewhere).toEqual([other, foreign]);
    expect(plan.add).toHaveLength(3); // a registration elsewhere does not count as ours

    const pruned = planWebhooks(desired, existing, { ...opts, pruneAll: true });
    expect(pruned.remove).toEqual([other, foreign]);
    expect(pruned.elsewhere).toEqual([]);
  });

  it("never touches registrations of another owner client id", () => {
    const theirs = hook({ action: "incoming_event", owner_client_id: "someone-else" });
    const plan = planWebhooks(desired, [theirs], { ...opts, pruneAll: true });
    expect(plan.remove).toEqual([]);
    expect(plan.keep).toEqual([]);
  });

  it("replaces a webhook whose filters differ: add the declared one, remove the old one", () => {
    const old = hook({ action: "incoming_event", filters: { author_type: "customer" } });
    const plan = planWebhooks([desired[0]], [old], opts);
    expect(plan.add).toEqual([desired[0]]);
    expect(plan.remove).toEqual([old]);
  });

  it("replaces a webhook whose additional_data differs", () => {
    const old = hook({ action: "incoming_event", additional_data: ["chat_properties"] });
    const want: DesiredWebhook = { action: "incoming_event", type: "license", additional_data: ["chat_properties", "chat_presence_user_ids"] };
    const plan = planWebhooks([want], [old], opts);
    expect(plan.add).toEqual([want]);
    expect(plan.remove).toEqual([old]);
  });

  it("compares filters deeply, ignoring key and array order", () => {
    const want: DesiredWebhook = {
      action: "incoming_chat",
      type: "bot",
      filters: { source_type: ["system", "my_client"], chat_presence: { my_bots: true, user_ids: { values: ["b", "a"] } } },
      additional_data: ["chat_presence_user_ids", "chat_properties"],
    };
    const registered = hook({
      action: "incoming_chat",
      type: "bot",
      filters: { chat_presence: { user_ids: { values: ["a", "b"] }, my_bots: true }, source_type: ["my_client", "system"] },
      additional_data: ["chat_properties", "chat_presence_user_ids"],
    });
    expect(matches(want, registered)).toBe(true);
    expect(matches(want, { ...registered, filters: { chat_presence: { my_bots: false } } })).toBe(false);
    expect(matches({ action: "incoming_chat", type: "license" }, hook({ action: "incoming_chat", filters: {} }))).toBe(true);
    expect(matches({ action: "incoming_chat", type: "license" }, hook({ action: "incoming_chat", type: "bot" }))).toBe(false);
  });

  it("treats our url case- and slash-insensitively in the host and path end", () => {
    const existing = [hook({ action: "incoming_event", url: "https://EDGE.example.test/webhooks/license/" })];
    const plan = planWebhooks([desired[0]], existing, { ...opts, url: "https://edge.example.test/" });
    expect(plan.add).toEqual([]);
    expect(plan.keep).toEqual(existing);
  });

  it("reports when adding would pass LiveChat's 3 webhooks per action (docs/LIVECHAT.md §1.1)", () => {
    const existing = [1, 2, 3].map((n) => hook({ action: "incoming_event", url: `https://deploy${n}.example.test/webhooks/license` }));
    const plan = planWebhooks([desired[0]], existing, opts);
    expect(plan.add).toEqual([desired[0]]);
    expect(plan.problems).toHaveLength(1);
    expect(plan.problems[0]).toMatch(/incoming_event: 3 registered \+ 1 to add exceeds LiveChat's limit of 3/);
    expect(plan.problems[0]).toContain("deploy2.example.test");
    expect(MAX_WEBHOOKS_PER_ACTION).toBe(3);

    // A replacement counts too: the new one is registered before the old one goes.
    const two = [hook({ action: "incoming_event", url: "https://a.example.test/x" }), hook({ action: "incoming_event", filters: { author_type: "agent" } })];
    expect(planWebhooks([desired[0]], two, opts).problems).toEqual([]);
    const both = planWebhooks([desired[0], desired[2]], [...two, hook({ action: "incoming_event", url: "https://b.example.test/x" })], opts);
    expect(both.problems[0]).toMatch(/3 registered \+ 2 to add/);
  });

  it("replace re-registers everything of ours", () => {
    const existing = [hook({ action: "incoming_event" }), hook({ action: "routing_status_set" }), hook({ action: "incoming_event", url: "https://other.example.test/webhooks/license" })];
    const plan = planWebhooks(desired.slice(0, 2), existing, { ...opts, replace: true });
    expect(plan.add).toEqual(desired.slice(0, 2));
    expect(plan.remove).toEqual(existing.slice(0, 2));
    expect(plan.elsewhere).toEqual([existing[2]]);
  });

  it("dedupes identical desired entries", () => {
    const plan = planWebhooks([desired[0], { ...desired[0] }], [], opts);
    expect(plan.add).toHaveLength(1);
  });

  it("reads the documented list_webhooks sample, which carries no secret_key", () => {
    const sample = fixture<Webhook[]>("configuration.v3.6.list_webhooks.response");
    expect(sample[0]).not.toHaveProperty("secret_key");
    const plan = planWebhooks(desired, sample, { url: "http://myservice.com", ownerClientId: sample[0].owner_client_id! });
    // The sample points at http://myservice.com/webhooks, not one of our two endpoints.
    expect(plan.elsewhere).toEqual(sample);
    expect(plan.remove).toEqual([]);
    expect(plan.add).toEqual(desired);
  });
});

describe("the webhook secret's mark in the description", () => {
  const marked = (mark: string) => [
    hook({ action: "incoming_event", description: `livechat-edge secret:${mark}` }),
    hook({ action: "routing_status_set", description: `livechat-edge secret:${mark}` }),
    hook({ action: "incoming_event", type: "bot", filters: MY_BOTS, description: `livechat-edge secret:${mark}` }),
  ];

  it("keeps registrations carrying the current secret's mark", () => {
    const plan = planWebhooks(desired, marked("0a1b2c3d"), { ...opts, secretMark: "0a1b2c3d" });
    expect(plan.keep).toHaveLength(3);
    expect(plan.add).toEqual([]);
    expect(plan.otherSecret).toBe(0);
  });

  it("replaces registrations carrying another secret's mark", () => {
    const existing = marked("ffffffff");
    const plan = planWebhooks(desired, existing, { ...opts, secretMark: "0a1b2c3d" });
    expect(plan.add).toHaveLength(3);
    expect(plan.remove).toEqual(existing);
    expect(plan.otherSecret).toBe(3);
  });

  it("does not judge registrations without a mark (made by hand or by an older setup)", () => {
    const existing = [hook({ action: "incoming_event" }), hook({ action: "routing_status_set" }), hook({ action: "incoming_event", type: "bot", filters: MY_BOTS })];
    const plan = planWebhooks(desired, existing, { ...opts, secretMark: "0a1b2c3d" });
    expect(plan.keep).toHaveLength(3);
    expect(plan.otherSecret).toBe(0);
  });

  it("reads the mark only in its own form", () => {
    expect(markOf("livechat-edge secret:0a1b2c3d")).toBe("0a1b2c3d");
    expect(markOf("livechat-edge")).toBeUndefined();
    expect(markOf("my secret:0a1b2c3dxx")).toBeUndefined();
    expect(markOf(undefined)).toBeUndefined();
  });
});
