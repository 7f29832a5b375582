import * as z from "zod/mini";
import { secretMatches } from "../livechat/webhooks/verify";
import { openSealed, randomToken, type SealingKeys, sealWith, sha256Base64Url } from "./crypto";

/**
 * One-shot OAuth `state` with PKCE S256 (docs/LIVECHAT.md §6.1 / OAUTH: `state` "strongly
 * recommended", `code_challenge` 43–128 chars, `code_challenge_method=S256`), kept in the browser
 * that started the flow, not in storage: a sealed `__Host-` cookie (AES-256-GCM under
 * TOKEN_ENCRYPTION_KEY, so encrypted and authenticated, bound to its purpose by its associated data)
 * holding the state, the PKCE verifier and the redirect URI. It opens with
 * TOKEN_ENCRYPTION_KEY_PREVIOUS too, so a flow started just before a key rotation completes. An anonymous `GET /install` thus
 * writes nothing anywhere, and a callback is honoured only in the browser that started it.
 */

/** How long an authorization started by `/install` stays valid (the cookie's lifetime too). */
export const STATE_TTL_SECONDS = 600;

/** The cookie's name without its prefix, as src/http/cookies.ts takes it (sent as `__Host-oauth`). */
export const STATE_COOKIE = "oauth";

/** Associated data of the sealed cookie: a value sealed for anything else does not open as one. */
const SEAL_CONTEXT = "livechat-edge oauth-state v2";

/** Longest cookie value accepted (a sealed value is ~250 characters). */
const MAX_COOKIE_LENGTH = 1024;

const pendingSchema = z.object({ state: z.string(), verifier: z.string(), redirectUri: z.string(), createdAt: z.number() });

/** What `/install` needs to redirect to LiveChat's authorize page, and the cookie to set. */
export interface StartedAuthorization {
  state: string;
  codeChallenge: string;
  /** The sealed value of the state cookie. */
  cookie: string;
}

/** What the browser keeps until LiveChat redirects back. */
export type PendingAuthorization = z.infer<typeof pendingSchema>;

/** A fresh state + PKCE verifier for `redirectUri`, sealed into a cookie value. */
export async function startAuthorization(keys: SealingKeys, redirectUri: string, now = Date.now()): Promise<StartedAuthorization> {
  const state = randomToken(24);
  const verifier = randomToken(32); // 43 characters, within PKCE's 43–128
  const pending: PendingAuthorization = { state, verifier, redirectUri, createdAt: now };
  const cookie = await sealWith(keys, JSON.stringify(pending), SEAL_CONTEXT);
  return { state, codeChallenge: await sha256Base64Url(verifier), cookie };
}

/**
 * The pending authorization the browser's cookie holds, when it is the one `state` names, for the
 * same `redirectUri`, and younger than {@link STATE_TTL_SECONDS}; null otherwise (no cookie,
 * another browser's flow, tampered, expired, another redirect URI, or sealed with a key that is
 * neither the current nor the previous one).
 */
export async function consumeAuthorization(
  keys: SealingKeys,
  cookie: string | undefined,
  state: string,
  redirectUri: string,
  now = Date.now(),
): Promise<PendingAuthorization | null> {
  if (!cookie || cookie.length > MAX_COOKIE_LENGTH || !/^[A-Za-z0-9_-]{16,128}$/.test(state)) return null;
  let pending: PendingAuthorization;
  try {
    pending = pendingSchema.parse(JSON.parse((await openSealed(keys, cookie, SEAL_CONTEXT)).plaintext));
  } catch {
    return null;
  }
  if (!secretMatches(state, [pending.state])) return null;
  if (pending.redirectUri !== redirectUri) return null;
  const age = now - pending.createdAt;
  return age >= 0 && age <= STATE_TTL_SECONDS * 1000 ? pending : null;
}
