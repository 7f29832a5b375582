/**
 * Where the setup CLI reads configuration: the process environment first, then `.dev.vars`,
 * then `wrangler.toml` `[vars]` (the Worker's own sources, docs/ARCHITECTURE.md "Configuration").
 * Pure text parsing; the Node launcher (`scripts/setup.mjs`) reads the files.
 */

/** One layer of configuration values and its name, used when telling where a value came from. */
export interface ConfigLayer {
  name: string;
  values: Readonly<Record<string, string | undefined>>;
}

/** A value found in a layer. */
export interface FoundValue {
  value: string;
  from: string;
}

/**
 * Parse `.dev.vars` (dotenv-style `KEY=value` lines, `#` comments, optional quotes), as
 * `scripts/local-env.mjs` writes it.
 *
 * @example
 * parseDevVars('# local\nLIVECHAT_CLIENT_ID=abc\nPUBLIC_URL="http://127.0.0.1:8787"\n');
 * // { LIVECHAT_CLIENT_ID: "abc", PUBLIC_URL: "http://127.0.0.1:8787" }
 */
export function parseDevVars(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (m) out[m[1]] = unquote(m[2].trim());
  }
  return out;
}

/**
 * The string and number values of the top-level `[vars]` table of a `wrangler.toml` (basic and
 * literal strings, numbers, booleans; inline comments). Environment tables (`[env.x.vars]`)
 * are not read.
 *
 * @example
 * parseWranglerVars('[vars]\nLIVECHAT_API_VERSION = "3.6" # pinned\n[[kv_namespaces]]\n');
 * // { LIVECHAT_API_VERSION: "3.6" }
 */
export function parseWranglerVars(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  let inVars = false;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    if (line.startsWith("[")) {
      inVars = /^\[\s*vars\s*\]\s*(#.*)?$/.test(line);
      continue;
    }
    if (!inVars) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*|"[^"]+")\s*=\s*(.+)$/.exec(line);
    if (!m) continue;
    const value = tomlScalar(m[2]);
    if (value !== undefined) out[m[1].replace(/^"|"$/g, "")] = value;
  }
  return out;
}

/**
 * The first non-empty value of `name` across `layers`, with the layer it came from.
 *
 * @example
 * lookup([{ name: "env", values: process.env }, { name: ".dev.vars", values: devVars }], "PUBLIC_URL");
 */
export function lookup(layers: readonly ConfigLayer[], name: string): FoundValue | undefined {
  for (const layer of layers) {
    const value = layer.values[name]?.trim();
    if (value) return { value, from: layer.name };
  }
  return undefined;
}

function unquote(value: string): string {
  const m = /^"(.*)"$/.exec(value) ?? /^'(.*)'$/.exec(value);
  return m ? m[1] : value;
}

function tomlScalar(text: string): string | undefined {
  const basic = /^"((?:[^"\\]|\\.)*)"\s*(#.*)?$/.exec(text);
  if (basic) return basic[1].replace(/\\(["\\])/g, "$1");
  const literal = /^'([^']*)'\s*(#.*)?$/.exec(text);
  if (literal) return literal[1];
  const bare = /^([0-9][0-9_.eE+-]*|true|false)\s*(#.*)?$/.exec(text);
  if (bare) return bare[1];
  return undefined;
}
