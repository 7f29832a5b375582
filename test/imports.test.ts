import { describe, expect, it } from "vitest";

/**
 * The layers of src/ (docs/INTERNALS.md "Layers": each folder uses only the ones below it) and no
 * import circles. Type-only imports count: a circle of types still ties two modules so that
 * neither can change alone. workerd has no file system, so Vite's glob import inlines the sources
 * and the document as text.
 */
const sources = import.meta.glob<string>(["../src/**/*.ts", "../src/**/*.tsx"], { query: "?raw", import: "default", eager: true });
const internals = Object.values(import.meta.glob<string>("../docs/INTERNALS.md", { query: "?raw", import: "default", eager: true }))[0];

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
      .map((base) => [base, `${base}.ts`, `${base}.tsx`, `${base}/index.ts`].find((candidate) => candidate in files))
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

/**
 * The layer list of docs/INTERNALS.md "Layers", top first: the entries of its first code block
 * indented two spaces under `src/` (`index.ts`, `routes/`, …). Deeper lines describe parts of a
 * folder and are not layers.
 */
function layersOf(doc: string): string[] {
  const section = doc.split(/^## Layers$/m)[1] ?? "";
  const block = section.split("```")[1] ?? "";
  return [...block.matchAll(/^  (\S+)/gm)].map((m) => m[1]);
}

/** The layer entry a file belongs to: `src/x.ts` → `x.ts`, `src/x/y/z.ts` → `x/`. */
function layerOf(file: string): string {
  const parts = file.split("/").slice(1);
  return parts.length === 1 ? parts[0] : `${parts[0]}/`;
}

/** Imports that go to a layer not below the importer's, as "a → b (why)"; files outside every layer too. */
function layerViolations(graph: Map<string, string[]>, layers: string[]): string[] {
  const rank = (file: string) => layers.indexOf(layerOf(file));
  const found: string[] = [];
  for (const [file, targets] of [...graph].sort(([a], [b]) => a.localeCompare(b))) {
    if (rank(file) < 0) {
      found.push(`${file}: ${layerOf(file)} is not in the layer list`);
      continue;
    }
    for (const target of targets) {
      if (layerOf(target) === layerOf(file) || rank(target) < 0) continue;
      if (rank(target) < rank(file)) found.push(`${file} → ${target} (${layerOf(target)} is above ${layerOf(file)})`);
    }
  }
  return found;
}

describe("imports", () => {
  it("each folder of src/ imports only the ones below it in docs/INTERNALS.md's layer list, type-only imports included", () => {
    // Declaration files (env.d.ts) describe the runtime, not a layer.
    const files = Object.fromEntries(
      Object.entries(sources)
        .filter(([path]) => !path.endsWith(".d.ts"))
        .map(([path, text]) => [normalize(`test/${path}`), text]),
    );
    const layers = layersOf(internals);
    expect(layers.length).toBeGreaterThan(10);
    expect(layers).toContain("framework/");
    expect(layerViolations(importGraph(files), layers)).toEqual([]);
  });

  it("finds an import of a layer above, and a file outside every layer", () => {
    const doc = "# x\n\n## Layers\n\n```\nsrc/\n  app.ts   top\n  a/       middle\n    deep/  part of a\n  b/       bottom\nsim/\n```\n";
    expect(layersOf(doc)).toEqual(["app.ts", "a/", "b/"]);
    const files = {
      "src/app.ts": `import { one } from "./a/one";`,
      "src/a/one.ts": `import type { Two } from "../b/two";\nexport const one = 1;`,
      "src/a/deep/x.ts": `import { one } from "../one";`,
      "src/b/two.ts": `import { one } from "../a/one";\nexport type Two = 2;`,
      "src/c/three.ts": `export const three = 3;`,
    };
    expect(layerViolations(importGraph(files), layersOf(doc))).toEqual(["src/b/two.ts → src/a/one.ts (a/ is above b/)", "src/c/three.ts: c/ is not in the layer list"]);
  });

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
