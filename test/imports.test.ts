import { describe, expect, it } from "vitest";

/**
 * No import circles in src/ (docs/INTERNALS.md "Layers": each folder uses only the ones below
 * it). Type-only imports count: a circle of types still ties two modules so that neither can
 * change alone. workerd has no file system, so Vite's glob import inlines the sources as text.
 */
const sources = import.meta.glob<string>("../src/**/*.ts", { query: "?raw", import: "default", eager: true });

/** `a/b/../c` → `a/c`. */
function normalize(path: string): string {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "..") out.pop();
    else if (part !== "." && part !== "") out.push(part);
  }
  return out.join("/");
}

/** Relative module specifiers of `source`: import/export … from, bare imports, import() types. */
function specifiers(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const found: string[] = [];
  for (const m of code.matchAll(/\bfrom\s+"(\.[^"]*)"|\bimport\s*\(\s*"(\.[^"]*)"\s*\)|^\s*import\s+"(\.[^"]*)"/gm)) {
    found.push(m[1] ?? m[2] ?? m[3]);
  }
  return found;
}

/** Each file's imports of other files in `files` (paths like `src/x/y.ts`). */
function importGraph(files: Record<string, string>): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const [file, source] of Object.entries(files)) {
    const dir = file.split("/").slice(0, -1).join("/");
    const targets = specifiers(source)
      .map((spec) => normalize(`${dir}/${spec}`).replace(/\.js$/, ""))
      .map((base) => [base, `${base}.ts`, `${base}/index.ts`].find((candidate) => candidate in files))
      .filter((target): target is string => target !== undefined);
    graph.set(file, [...new Set(targets)]);
  }
  return graph;
}

/** One circle through every group of files that import each other (Tarjan's strongly connected components). */
function importCircles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const visit = (file: string) => {
    index.set(file, index.size);
    low.set(file, index.get(file)!);
    stack.push(file);
    onStack.add(file);
    for (const next of graph.get(file) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(file, Math.min(low.get(file)!, index.get(next)!));
      }
    }
    if (low.get(file) !== index.get(file)) return;
    const group: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      group.push(member);
    } while (member !== file);
    if (group.length > 1 || graph.get(file)?.includes(file)) groups.push(group);
  };
  for (const file of [...graph.keys()].sort()) if (!index.has(file)) visit(file);
  return groups.map((group) => circleThrough(graph, new Set(group), [...group].sort()[0]));
}

/** A shortest path from `start` back to itself inside `group`, for a readable failure. */
function circleThrough(graph: Map<string, string[]>, group: Set<string>, start: string): string[] {
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const file = queue.shift()!;
    for (const next of graph.get(file) ?? []) {
      if (!group.has(next)) continue;
      if (next === start) {
        const path = [file];
        while (path[0] !== start) path.unshift(previous.get(path[0])!);
        return [...path, start];
      }
      if (!previous.has(next)) {
        previous.set(next, file);
        queue.push(next);
      }
    }
  }
  return [start];
}

describe("imports", () => {
  it("src/ has no import circles, type-only imports included", () => {
    const files = Object.fromEntries(Object.entries(sources).map(([path, text]) => [normalize(`test/${path}`), text]));
    const graph = importGraph(files);
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get("src/index.ts")?.length).toBeGreaterThan(0);
    expect(importCircles(graph).map((circle) => circle.join(" → "))).toEqual([]);
  });

  it("finds a circle through type-only imports, re-exports and index files", () => {
    const files = {
      "src/a/one.ts": `import type { Two } from "../b/two";\nexport const one = 1;`,
      "src/b/two.ts": `export type { Three } from "./three.js";\nexport type Two = 2;`,
      "src/b/three.ts": `import { one } from "../a";\nexport type Three = typeof one;`,
      "src/a/index.ts": `export * from "./one";`,
      "src/c.ts": `// import { one } from "./a";\n/* import "./b/two"; */\nimport { one } from "./a/one";`,
    };
    expect(importCircles(importGraph(files))).toEqual([["src/a/index.ts", "src/a/one.ts", "src/b/two.ts", "src/b/three.ts", "src/a/index.ts"]]);
  });
});
