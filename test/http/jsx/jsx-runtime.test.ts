import { jsx as honoJsx, Fragment as HonoFragment } from "hono/jsx/jsx-runtime";
import { describe, expect, it } from "vitest";
import { createElement, Fragment, jsx } from "#jsx/jsx-runtime";

type Tag = string | ((props: Record<string, unknown>) => unknown);
type Tree = { tag: Tag | "fragment"; props: Record<string, unknown>; children?: (Tree | unknown)[] };

/** Builds the same tree with either runtime, as compiled JSX calls it. */
function build(tree: Tree, runtime: "hono" | "ours"): unknown {
  const [make, frag] = runtime === "hono" ? [honoJsx as (t: unknown, p: unknown) => unknown, HonoFragment] : [jsx as (t: unknown, p: unknown) => unknown, Fragment];
  const kids = tree.children?.map((c) => (c && typeof c === "object" && "tag" in c ? build(c as Tree, runtime) : c));
  const props = kids === undefined ? tree.props : { ...tree.props, children: kids.length === 1 ? kids[0] : kids };
  return make(tree.tag === "fragment" ? frag : tree.tag, props);
}

const render = async (tree: Tree, runtime: "hono" | "ours") => String(await build(tree, runtime));

const Card = (props: Record<string, unknown>) => build({ tag: "section", props: { class: "card" }, children: [props.children as unknown] }, "ours");
const HonoCard = (props: Record<string, unknown>) => build({ tag: "section", props: { class: "card" }, children: [props.children as unknown] }, "hono");

const cases: [string, Tree][] = [
  ["text and attributes are escaped", { tag: "a", props: { href: `/x?a=1&b="2"'` }, children: [`<b> & 'q' "d"`] }],
  ["numbers are written as they are", { tag: "td", props: { class: "num", colspan: 2 }, children: [42, " ms"] }],
  ["null, undefined and booleans render nothing", { tag: "p", props: {}, children: [null, undefined, false, true, "x"] }],
  ["boolean attributes: empty when true, absent when false", { tag: "input", props: { required: true, autofocus: true, disabled: false, name: "t" } }],
  ["other booleans are written as words", { tag: "div", props: { "data-open": true, "aria-hidden": false } }],
  ["null and undefined attributes are left out", { tag: "option", props: { value: "a", selected: undefined, label: null } }],
  ["void elements close themselves", { tag: "meta", props: { charset: "utf-8" } }],
  ["an element with no children closes", { tag: "th", props: {} }],
  ["React names are mapped", { tag: "label", props: { htmlFor: "f", className: "c" }, children: ["L"] }],
  ["invalid attribute names are dropped", { tag: "b", props: { "x y": "1", ok: "2" }, children: ["t"] }],
  ["inner HTML is written unescaped", { tag: "style", props: { nonce: "n", dangerouslySetInnerHTML: { __html: "a>b{c:'d'}" } } }],
  ["nested arrays of children", { tag: "ul", props: {}, children: [[{ tag: "li", props: {}, children: ["1"] }, [{ tag: "li", props: {}, children: ["2"] }]]] }],
  ["fragments", { tag: "dl", props: {}, children: [{ tag: "fragment", props: {}, children: [{ tag: "dt", props: {}, children: ["a"] }, "b"] }] }],
  ["svg keeps its attribute names", { tag: "svg", props: { viewBox: "0 0 1 1" }, children: [{ tag: "title", props: {}, children: ["t"] }] }],
  ["head metadata stays in place", { tag: "head", props: {}, children: [{ tag: "meta", props: { name: "a", content: "b" } }, { tag: "title", props: {}, children: ["T"] }] }],
];

describe("the dashboard's JSX runtime renders what hono/jsx renders", () => {
  it.each(cases)("%s", async (_name, tree) => {
    expect(await render(tree, "ours")).toBe(await render(tree, "hono"));
  });

  it("components get their props, a lone child as itself", async () => {
    const ours = String(jsx(Card, { children: [jsx("b", { children: "x" })] }));
    const hono = String(await honoJsx(HonoCard, { children: [honoJsx("b", { children: "x" })] }));
    expect(ours).toBe('<section class="card"><b>x</b></section>');
    expect(ours).toBe(hono);
  });

  it("createElement (the factory compiled JSX calls) passes children as jsx() gets them", () => {
    const Card = (props: { children?: unknown }) => createElement("section", { class: "card" }, props.children);
    expect(String(createElement("th", null))).toBe(String(jsx("th", {})));
    expect(String(createElement("input", { name: "t", required: true }))).toBe('<input name="t" required=""/>');
    expect(String(createElement("td", { class: "num" }, 42, " ms"))).toBe(String(jsx("td", { class: "num", children: [42, " ms"] })));
    expect(String(createElement("ul", null, ["a", "b"].map((x) => createElement("li", null, x))))).toBe("<ul><li>a</li><li>b</li></ul>");
    expect(String(createElement(Card, null, createElement("b", null, "x")))).toBe('<section class="card"><b>x</b></section>');
    expect(String(createElement(Fragment, null, createElement("dt", null, "a"), "b"))).toBe("<dt>a</dt>b");
  });

  it("a function prop other than an event handler is refused", () => {
    expect(() => jsx("a", { href: () => "x" })).toThrow(/Invalid prop 'href'/);
  });
});
