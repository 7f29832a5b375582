import * as z from "zod/mini";

/** Accounts / OAuth bodies (docs/LIVECHAT.md §6.2; test/fixtures/livechat/accounts.*.json). */

/**
 * `POST /v2/token` response, same shape for both grants (docs/LIVECHAT.md §6.2). `refresh_token` is
 * optional so a response without one still parses (store the new one whenever present).
 */
export const tokenResponseSchema = z.looseObject({
  access_token: z.string(),
  refresh_token: z.optional(z.string()),
  /** Seconds; default 28800 (8 h). */
  expires_in: z.number(),
  organization_id: z.string(),
  account_id: z.string(),
  /** Comma-separated scopes, e.g. "chats--all:ro,chats--all:rw". */
  scope: z.string(),
  token_type: z.string(),
});
export type TokenResponse = z.infer<typeof tokenResponseSchema>;

/** `GET /v2/info` response: adds `client_id`; `expires_in` is the remaining lifetime (docs/LIVECHAT.md §6.2). */
export const tokenInfoSchema = z.looseObject({
  access_token: z.optional(z.string()),
  account_id: z.string(),
  client_id: z.string(),
  expires_in: z.number(),
  organization_id: z.string(),
  scope: z.string(),
  token_type: z.string(),
});
export type TokenInfo = z.infer<typeof tokenInfoSchema>;

// Request bodies: types only here (their schemas, for tests, are in ./accounts-requests.ts).
export type { AuthorizationCodeRequest, RefreshTokenRequest } from "./accounts-requests";
