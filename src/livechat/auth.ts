import { asRegion, regionFromToken } from "./region";

/**
 * How a call authenticates (docs/LIVECHAT.md §3.1, §4.1): an OAuth access token or bot JWT as
 * `Bearer`, or a Personal Access Token as `Basic base64(account_id:PAT)`. `region` overrides
 * the token's prefix; bot JWTs have none, so pass the license's region (docs/LIVECHAT.md §6.3).
 */
export type Credentials =
  | { kind: "bearer"; token: string; region?: string }
  | { kind: "basic"; accountId: string; token: string };

/**
 * Fixed credentials, or a function returning fresh ones (e.g. a token manager), called once per
 * API call. When LiveChat answers `authentication` to a call, the function is called once more
 * with the rejected credentials, so it can refresh them, and the call is retried once.
 */
export type CredentialSource = Credentials | ((rejected?: Credentials) => Promise<Credentials>);

/** The credentials a source currently yields. */
export async function resolveCredentials(source: CredentialSource): Promise<Credentials> {
  return typeof source === "function" ? source() : source;
}

/**
 * The `Authorization` header value: `Bearer <token>` or `Basic base64(<account_id>:<PAT>)`
 * (docs/LIVECHAT.md §3.1: "PATs use the Basic authentication scheme … not Bearer").
 */
export function authorizationHeader(credentials: Credentials): string {
  if (credentials.kind === "bearer") return `Bearer ${credentials.token}`;
  return `Basic ${base64Utf8(`${credentials.accountId}:${credentials.token}`)}`;
}

/** The region to send as `X-Region`: the explicit one, else the token's prefix (docs/LIVECHAT.md §6.3). */
export function regionOf(credentials: Credentials): string | undefined {
  const explicit = credentials.kind === "bearer" ? asRegion(credentials.region) : undefined;
  return explicit ?? regionFromToken(credentials.token);
}

/** Every string derived from `credentials` that must never reach a log line or error. */
export function secretsOf(credentials: Credentials): string[] {
  const header = authorizationHeader(credentials);
  return [credentials.token, header, header.slice(header.indexOf(" ") + 1)];
}

function base64Utf8(text: string): string {
  let bin = "";
  for (const byte of new TextEncoder().encode(text)) bin += String.fromCharCode(byte);
  return btoa(bin);
}
