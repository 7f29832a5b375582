import type { JSX as HonoJSX } from "hono/jsx/jsx-runtime";
import { raw, type HtmlEscapedString } from "hono/utils/html";

/**
 * The dashboard's JSX runtime (tsconfig `jsxImportSource: "#jsx"`, package.json `imports`): the
 * string rendering of hono/jsx, markup for markup, without its client-side parts (hooks, context,
 * head hoisting, streaming), which a server-rendered page with no script never uses and which
 * cost about 4.5 KiB of the gzip budget. Elements render when they are created; components are
 * synchronous. Types are hono's.
 */
export type { JSX } from "hono/jsx/jsx-runtime";

type Props = Record<string, unknown>;
type Component = (props: Props) => unknown;

const VOID = new Set("area base br col embed hr img input keygen link meta param source track wbr".split(" "));
/** Written as `name=""` when true and left out when false (hono/jsx's list). */
const BOOLEAN = new Set(
  ("allowfullscreen async autofocus autoplay checked controls default defer disabled download formnovalidate hidden " +
    "inert ismap itemscope loop multiple muted nomodule novalidate open playsinline readonly required reversed selected " +
    "shadowrootclonable shadowrootdelegatesfocus shadowrootserializable").split(" "),
);
const KEY_NAMES: Record<string, string> = {
  className: "class",
  htmlFor: "for",
  crossOrigin: "crossorigin",
  httpEquiv: "http-equiv",
  itemProp: "itemprop",
  fetchPriority: "fetchpriority",
  noModule: "nomodule",
  formAction: "formaction",
};
const ENTITIES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
const INVALID_NAME = /[\s"'<>/=`\\\x00-\x1f\x7f-\x9f]/;

const escape = (text: string) => text.replace(/[&<>'"]/g, (ch) => ENTITIES[ch]);
const isEscaped = (value: unknown): value is HtmlEscapedString => value instanceof String && (value as HtmlEscapedString).isEscaped === true;

/** Children as markup: text escaped, rendered markup and numbers as they are, `null`/booleans nothing. */
function children(value: unknown): string {
  if (typeof value === "string") return escape(value);
  if (typeof value === "number" || isEscaped(value)) return String(value);
  if (Array.isArray(value)) return value.map(children).join("");
  if (value instanceof Promise) throw new Error("Asynchronous JSX is not supported");
  return "";
}

/** One attribute, with its leading space; empty when it is not written. */
function attribute(key: string, value: unknown, tag: string): string {
  if (key === "ref" || value === null || value === undefined) return "";
  if (typeof value === "boolean" && BOOLEAN.has(key)) return value ? ` ${key}=""` : "";
  if (typeof value === "function") {
    if (!key.startsWith("on")) throw new Error(`Invalid prop '${key}' of type 'function' supplied to '${tag}'.`);
    return "";
  }
  return ` ${key}="${typeof value === "number" || isEscaped(value) ? value : escape(String(value))}"`;
}

/** Renders an element (or calls a component) at once. */
export function jsx(tag: string | Component, props: Props): HtmlEscapedString {
  const list = props.children;
  if (typeof tag === "function") {
    // A component sees a lone child as itself, as with hono/jsx.
    return raw(children(tag(Array.isArray(list) && list.length === 1 ? { ...props, children: list[0] } : props)));
  }
  if (INVALID_NAME.test(tag) || /^[!?]/.test(tag)) throw new Error(`Invalid JSX tag name: ${tag}`);
  let html = `<${tag}`;
  let inner: string | undefined;
  for (let [key, value] of Object.entries(props)) {
    key = KEY_NAMES[key] ?? key;
    if (key === "children" || !key || INVALID_NAME.test(key)) continue;
    if (key === "dangerouslySetInnerHTML" && typeof value === "object" && value !== null && "__html" in value) inner = String(value.__html);
    else html += attribute(key, value, tag);
  }
  if (inner === undefined) {
    if (VOID.has(tag) && (!("children" in props) || (Array.isArray(list) && list.length === 0))) return raw(`${html}/>`);
    inner = children(list);
  }
  return raw(`${html}>${inner}</${tag}>`);
}

/** `<>…</>`: the children alone. */
export function Fragment(props: { children?: unknown }): HtmlEscapedString {
  return raw(children(props.children));
}

/**
 * The factory compiled JSX calls (tsconfig `jsx: "react"`, `jsxFactory: "createElement"`): `createElement(tag, props, ...children)`
 * renders as `jsx(tag, { ...props, children })`, a lone child as itself. Shorter compiled calls than the
 * automatic runtime's `jsx(tag, { children })`: the dashboard is a few hundred elements.
 */
export function createElement(tag: string | Component, props: Props | null, ...kids: unknown[]): HtmlEscapedString {
  return jsx(tag, kids.length === 0 ? (props ?? {}) : { ...props, children: kids.length === 1 ? kids[0] : kids });
}

/** The element types of compiled JSX (TypeScript looks for `createElement.JSX`). */
export declare namespace createElement {
  namespace JSX {
    type Element = HonoJSX.Element;
    type ElementType = HonoJSX.ElementType;
    interface ElementChildrenAttribute extends HonoJSX.ElementChildrenAttribute {}
    interface IntrinsicElements extends HonoJSX.IntrinsicElements {}
    interface IntrinsicAttributes extends HonoJSX.IntrinsicAttributes {}
  }
}

export { jsx as jsxs, jsx as jsxDEV };
