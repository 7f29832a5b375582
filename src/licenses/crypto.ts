import { decodeBase64 } from "../config";

/**
 * AES-256-GCM sealing for tokens and secrets at rest (docs/ARCHITECTURE.md "Secrets stay secret").
 * A sealed value is `v1.<iv>.<ciphertext>` (base64url). The associated data binds each
 * ciphertext to its storage key, so a sealed blob copied under another key does not open.
 */

const keys = new Map<string, Promise<CryptoKey>>();

/** Import (once per isolate) the AES-GCM key from its base64 configuration value. */
export function importSealingKey(base64Key: string): Promise<CryptoKey> {
  let key = keys.get(base64Key);
  if (!key) {
    const raw = decodeBase64(base64Key);
    if (!raw || raw.length !== 32) throw new Error("TOKEN_ENCRYPTION_KEY must be 32 bytes, base64-encoded");
    key = crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt", "decrypt"]);
    keys.set(base64Key, key);
  }
  return key;
}

/**
 * Encrypt `plaintext` under `key`, bound to `context` (e.g. the KV key).
 *
 * @example
 * const sealed = await seal(key, JSON.stringify(record), "license:org-1");
 * const record = JSON.parse(await unseal(key, sealed, "license:org-1"));
 */
export async function seal(key: CryptoKey, plaintext: string, context: string): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const data = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: encoder.encode(context) },
    key,
    encoder.encode(plaintext),
  );
  return `v1.${toBase64Url(iv)}.${toBase64Url(new Uint8Array(data))}`;
}

/** Decrypt a value made by {@link seal}; throws when the key, context or ciphertext do not match. */
export async function unseal(key: CryptoKey, sealed: string, context: string): Promise<string> {
  const [version, iv, data] = sealed.split(".");
  if (version !== "v1" || !iv || !data) throw new Error("unsupported sealed value");
  const plain = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: fromBase64Url(iv), additionalData: encoder.encode(context) },
    key,
    fromBase64Url(data),
  );
  return new TextDecoder().decode(plain);
}

/**
 * The keys values are sealed with: `current` seals and opens; `previous` (during a rotation of
 * TOKEN_ENCRYPTION_KEY, docs/SECURITY.md) only opens, and what it opens is sealed again with `current`.
 */
export interface SealingKeys {
  current: string;
  previous?: string;
}

/** A value opened by {@link openSealed}; `stale` when it should be sealed again (old key or old context). */
export interface Opened {
  plaintext: string;
  stale: boolean;
}

/** The sealing keys a validated configuration names. */
export function sealingKeys(config: { tokenEncryptionKey: string; tokenEncryptionKeyPrevious?: string }): SealingKeys {
  return config.tokenEncryptionKeyPrevious
    ? { current: config.tokenEncryptionKey, previous: config.tokenEncryptionKeyPrevious }
    : { current: config.tokenEncryptionKey };
}

/** Seal with the current key (see {@link seal}). */
export async function sealWith(keys: SealingKeys, plaintext: string, context: string): Promise<string> {
  return seal(await importSealingKey(keys.current), plaintext, context);
}

/**
 * Open a sealed value with the current key, else the previous one, bound to `context`, else to one
 * of `legacyContexts` (a binding an older version used). Anything but the current key and `context`
 * is `stale`: the caller seals it again. Throws when nothing opens it.
 *
 * @example
 * const { plaintext, stale } = await openSealed(keys, record.sealedSecret, `bot-secret:${org}:${id}`, ["bot-secret"]);
 * if (stale) record.sealedSecret = await sealWith(keys, plaintext, `bot-secret:${org}:${id}`);
 */
export async function openSealed(keys: SealingKeys, sealed: string, context: string, legacyContexts: readonly string[] = []): Promise<Opened> {
  const candidates = keys.previous && keys.previous !== keys.current ? [keys.current, keys.previous] : [keys.current];
  let failure: unknown;
  for (const ctx of [context, ...legacyContexts]) {
    for (const base64Key of candidates) {
      try {
        const plaintext = await unseal(await importSealingKey(base64Key), sealed, ctx);
        return { plaintext, stale: ctx !== context || base64Key !== keys.current };
      } catch (err) {
        failure ??= err;
      }
    }
  }
  throw failure;
}

const keyIds = new Map<string, Promise<string>>();

/**
 * A short public name of a sealing key (8 characters, from a labelled SHA-256 of the key): stored
 * next to what it sealed, so an operator can count what is still under the previous key without
 * decrypting anything. It reveals nothing usable about the key.
 */
export function keyId(base64Key: string): Promise<string> {
  let id = keyIds.get(base64Key);
  if (!id) {
    const raw = decodeBase64(base64Key) ?? new Uint8Array(0);
    const labelled = new Uint8Array([...encoder.encode("livechat-edge key id\0"), ...raw]);
    id = crypto.subtle.digest("SHA-256", labelled).then((d) => toBase64Url(new Uint8Array(d).slice(0, 6)));
    keyIds.set(base64Key, id);
  }
  return id;
}

const encoder = new TextEncoder();

/** Bytes → unpadded base64url. */
export function toBase64Url(bytes: Uint8Array): string {
  let bin = "";
  for (const b of bytes) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(value: string): Uint8Array {
  const bytes = decodeBase64(value);
  if (!bytes) throw new Error("malformed base64url");
  return bytes;
}

/** `n` random bytes as base64url (43 characters for 32 bytes). */
export function randomToken(n = 32): string {
  return toBase64Url(crypto.getRandomValues(new Uint8Array(n)));
}

/** SHA-256 of `value`, base64url: the PKCE S256 code challenge (RFC 7636 §4.2). */
export async function sha256Base64Url(value: string): Promise<string> {
  return toBase64Url(new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(value))));
}
