import * as z from "zod/mini";

/**
 * Accounts / OAuth request bodies (docs/LIVECHAT.md §6.2): the types of what the client sends, and
 * schemas the tests hold the requests against. Apart from ./accounts.ts so that the Worker
 * bundle, which only needs the types, does not carry them.
 */

/** Authorization-code grant body; JSON as GAPI declares and the Go SDK posts (docs/LIVECHAT.md §6.2). */
export const authorizationCodeRequestSchema = z.object({
  grant_type: z.literal("authorization_code"),
  code: z.string(),
  client_id: z.string(),
  client_secret: z.string(),
  redirect_uri: z.string(),
  code_verifier: z.optional(z.string()),
});
export type AuthorizationCodeRequest = z.infer<typeof authorizationCodeRequestSchema>;

/** Refresh grant body (docs/LIVECHAT.md §6.2 "Using the refresh token"). */
export const refreshTokenRequestSchema = z.object({
  grant_type: z.literal("refresh_token"),
  refresh_token: z.string(),
  client_id: z.string(),
  client_secret: z.string(),
});
export type RefreshTokenRequest = z.infer<typeof refreshTokenRequestSchema>;
