import * as z from "zod/mini";
import { importSealingKey, randomToken, seal, sha256Base64Url, unseal } from "./crypto";

/**
 * One-shot OAuth `state` with PKCE S256 (docs/LIVECHAT.md §6.1 / OAUTH: `state` "strongly
 * recommended", `code_challenge` 43–128 chars, `code_challenge_method=S256`).
 * Stored in KV under `oauth-state:<state>` with a 10-minute TTL, sealed, and deleted on use.
 */

/** How long an authorization started by `/install` stays valid. */
export const STATE_TTL_SECONDS = 600;

const pendingSchema = z.object({ verifier: z.string(), redirectUri: z.string(), createdAt: z.number() });

/** What `/install` needs to redirect to LiveChat's authorize page. */
export interface StartedAuthorization {
  state: string;
  codeChallenge: string;
}

/** What is kept until LiveChat redirects back. */
export type PendingAuthorization = z.infer<typeof pendingSchema>;

const key = (state: string) => `oauth-state:${state}`;

/** Create and store a fresh state + PKCE verifier for `redirectUri`. */
export async function startAuthorization(
  kv: KVNamespace,
  encryptionKey: string,
  redirectUri: string,
): Promise<StartedAuthorization> {
  const state = randomToken(24);
  const verifier = randomToken(32); // 43 characters, within PKCE's 43–128
  const pending: PendingAuthorization = { verifier, redirectUri, createdAt: Date.now() };
  const sealed = await seal(await importSealingKey(encryptionKey), JSON.stringify(pending), key(state));
  await kv.put(key(state), sealed, { expirationTtl: STATE_TTL_SECONDS });
  return { state, codeChallenge: await sha256Base64Url(verifier) };
}

/**
 * Take the pending authorization for `state` and delete it, so a state works once.
 * Returns null for an unknown, expired or already used state.
 */
export async function consumeAuthorization(
  kv: KVNamespace,
  encryptionKey: string,
  state: string,
): Promise<PendingAuthorization | null> {
  if (!/^[A-Za-z0-9_-]{16,128}$/.test(state)) return null;
  const sealed = await kv.get(key(state));
  if (sealed === null) return null;
  await kv.delete(key(state));
  try {
    const pending = pendingSchema.parse(
      JSON.parse(await unseal(await importSealingKey(encryptionKey), sealed, key(state))),
    );
    // KV expiry is lazy at the edge; enforce the TTL ourselves too.
    return Date.now() - pending.createdAt > STATE_TTL_SECONDS * 1000 ? null : pending;
  } catch {
    return null;
  }
}
