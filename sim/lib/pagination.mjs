// Agent Chat API pagination (docs/LIVECHAT.md §4.1 / A36 "Pagination"): `page_id` replaces
// `filters`, `limit` and `sort_order`, which are remembered from the first request.
import { invalid } from "./errors.mjs";

/**
 * @typedef {object} Page
 * @property {number} offset
 * @property {number} limit
 * @property {"asc" | "desc"} sort
 * @property {Record<string, any>} filters
 */

/**
 * The page a request asks for.
 * @param {Record<string, any>} body
 * @param {{ defaultLimit: number, maxLimit: number }} limits
 * @returns {Page}
 */
export function readPage(body, { defaultLimit, maxLimit }) {
  if (body.page_id !== undefined) {
    if (body.filters !== undefined || body.limit !== undefined || body.sort_order !== undefined) {
      throw invalid("`filters`, `limit` and `sort_order` can't be provided along with `page_id`");
    }
    try {
      const page = JSON.parse(Buffer.from(String(body.page_id), "base64").toString("utf8"));
      if (!Number.isInteger(page.offset) || !Number.isInteger(page.limit)) throw new Error("bad page");
      return page;
    } catch {
      throw invalid("Invalid `page_id`");
    }
  }
  const limit = body.limit ?? defaultLimit;
  if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit) throw invalid(`\`limit\` must be between 1 and ${maxLimit}`);
  const sort = body.sort_order ?? "desc";
  if (sort !== "asc" && sort !== "desc") throw invalid("`sort_order` must be `asc` or `desc`");
  const filters = body.filters ?? {};
  if (typeof filters !== "object" || Array.isArray(filters)) throw invalid("`filters` must be an object");
  return { offset: 0, limit, sort, filters };
}

/**
 * Slice `items` and name the neighbouring pages.
 * @template T
 * @param {T[]} items already filtered and sorted
 * @param {Page} page
 */
export function paginate(items, page) {
  const slice = items.slice(page.offset, page.offset + page.limit);
  const id = (offset) => Buffer.from(JSON.stringify({ ...page, offset })).toString("base64");
  return {
    slice,
    ...(page.offset + page.limit < items.length ? { next_page_id: id(page.offset + page.limit) } : {}),
    ...(page.offset > 0 ? { previous_page_id: id(Math.max(0, page.offset - page.limit)) } : {}),
  };
}
