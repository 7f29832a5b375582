// OAuth scope checks with LiveChat's implication rules (docs/LIVECHAT.md §6.4 / SCOPES "General rules"):
// `rw` implies `ro`; `access` implies `my`; `all` implies `access` (and `groups`).

const LEVELS = { my: 1, groups: 2, access: 2, all: 3 };
const MODES = { ro: 1, rw: 2 };

/**
 * @param {string} scope e.g. "chats--all:rw", "webhooks.state:ro"
 */
function parse(scope) {
  const m = /^([a-z0-9_.-]+?)(?:--([a-z]+))?:([a-z]+)$/.exec(scope.trim());
  if (!m) return undefined;
  return { resource: m[1], level: m[2], mode: m[3] };
}

/**
 * Whether one granted scope covers one required scope.
 * @param {string} granted
 * @param {string} required
 */
function covers(granted, required) {
  if (granted === required) return true;
  const g = parse(granted);
  const r = parse(required);
  if (!g || !r || g.resource !== r.resource) return false;
  if (Boolean(g.level) !== Boolean(r.level)) return false;
  if (g.level && r.level && (LEVELS[g.level] ?? 0) < (LEVELS[r.level] ?? 99)) return false;
  if (g.mode === r.mode) return true;
  return (MODES[g.mode] ?? 0) > (MODES[r.mode] ?? 99);
}

/**
 * True when the granted scopes (comma-separated) cover at least one of `anyOf`.
 * @param {string} grantedList
 * @param {string[]} anyOf
 */
export function hasAnyScope(grantedList, anyOf) {
  const granted = grantedList.split(",").filter(Boolean);
  return anyOf.some((required) => granted.some((g) => covers(g, required)));
}
