/**
 * LiveChat's documented sample bodies (test/fixtures/livechat), bundled into the test
 * isolate at build time: workerd has no file system, so Vite's glob import inlines them.
 */
const files = import.meta.glob<unknown>("../fixtures/livechat/*.json", { eager: true, import: "default" });

const byName = new Map(Object.entries(files).map(([path, json]) => [path.split("/").pop()!.replace(/\.json$/, ""), json]));

/** A deep copy of the named example, e.g. `fixture("webhook.v3.6.incoming_event")`. */
export function fixture<T = any>(name: string): T {
  if (!byName.has(name)) throw new Error(`no fixture ${name}.json in test/fixtures/livechat`);
  return structuredClone(byName.get(name)) as T;
}

/** Names of every example whose name starts with `prefix`. */
export function fixtureNames(prefix: string): string[] {
  return [...byName.keys()].filter((n) => n.startsWith(prefix)).sort();
}
