import * as z from "zod/mini";
import { keyId, openSealed, type SealingKeys, sealWith } from "./crypto";

/**
 * KV `TOKENS` schema (read at the edge; written only by the license's License DO):
 *
 * | key                      | value                                   | metadata (plain, listable)          |
 * |--------------------------|-----------------------------------------|-------------------------------------|
 * | `license:<organization>` | AES-GCM sealed JSON {@link LicenseTokens} | `{ expiresAt, installedAt, needsReinstall, sealedWith }` |
 *
 * The sealed value is bound to its key (AES-GCM associated data), so a raw KV read shows no
 * token and a value copied to another license's key does not decrypt. `sealedWith` is the
 * sealing key's public id (`keyId`), so what is still under a previous key is counted from a
 * listing, without decrypting (docs/SECURITY.md "Rotating secrets without downtime").
 */

const tokensSchema = z.object({
  organizationId: z.string(),
  accountId: z.optional(z.string()),
  accessToken: z.string(),
  refreshToken: z.optional(z.string()),
  /** Epoch ms at which the access token expires. */
  expiresAt: z.number(),
  scopes: z.array(z.string()),
  /** Data-center prefix of the access token (`dal`, `fra`), sent as X-Region (docs/LIVECHAT.md §6.3). */
  region: z.optional(z.string()),
  installedAt: z.number(),
  updatedAt: z.number(),
});

/** Everything stored per license about its OAuth grant. */
export type LicenseTokens = z.infer<typeof tokensSchema>;

/** Plain (unencrypted) KV metadata used for listing licenses without decrypting them. */
export interface LicenseListing {
  organizationId: string;
  expiresAt: number;
  installedAt: number;
  needsReinstall: boolean;
  /** Sealed with a key other than the current TOKEN_ENCRYPTION_KEY (or by a version that did not say). */
  oldKey: boolean;
}

type ListingMetadata = Omit<LicenseListing, "organizationId" | "oldKey"> & { sealedWith?: string };

const PREFIX = "license:";

/** KV key of a license's sealed tokens. */
export function licenseKey(organizationId: string): string {
  return `${PREFIX}${organizationId}`;
}

/** Encrypted per-license token storage in KV. */
export class TokenStore {
  constructor(
    private readonly kv: KVNamespace,
    private readonly keys: SealingKeys,
  ) {}

  /** The license's tokens, or null when it is not installed. */
  async get(organizationId: string): Promise<LicenseTokens | null> {
    const sealed = await this.kv.get(licenseKey(organizationId));
    if (sealed === null) return null;
    return this.open(organizationId, sealed);
  }

  /** Replace the license's tokens (reinstalls and refreshes overwrite idempotently). */
  async put(tokens: LicenseTokens, needsReinstall = false): Promise<void> {
    const key = licenseKey(tokens.organizationId);
    const sealed = await sealWith(this.keys, JSON.stringify(tokens), key);
    const metadata: ListingMetadata = {
      expiresAt: tokens.expiresAt,
      installedAt: tokens.installedAt,
      needsReinstall,
      sealedWith: await keyId(this.keys.current),
    };
    await this.kv.put(key, sealed, { metadata });
  }

  /** Remove the license's tokens. */
  async delete(organizationId: string): Promise<void> {
    await this.kv.delete(licenseKey(organizationId));
  }

  /** One page of installed licenses, for the reconcile cron and the admin overview. */
  async list(options: { cursor?: string; limit?: number } = {}): Promise<{ licenses: LicenseListing[]; cursor?: string }> {
    const current = await keyId(this.keys.current);
    const page = await this.kv.list<ListingMetadata>({
      prefix: PREFIX,
      cursor: options.cursor,
      limit: options.limit ?? 1000,
    });
    const licenses = page.keys.map((k) => ({
      organizationId: k.name.slice(PREFIX.length),
      expiresAt: k.metadata?.expiresAt ?? 0,
      installedAt: k.metadata?.installedAt ?? 0,
      needsReinstall: k.metadata?.needsReinstall ?? false,
      oldKey: k.metadata?.sealedWith !== current,
    }));
    return { licenses, cursor: page.list_complete ? undefined : page.cursor };
  }

  /** Decrypt (with the current or the previous key) and validate a sealed record. */
  async open(organizationId: string, sealed: string): Promise<LicenseTokens> {
    const opened = await openSealed(this.keys, sealed, licenseKey(organizationId));
    return tokensSchema.parse(JSON.parse(opened.plaintext));
  }

  /**
   * How many stored licenses are sealed with a key other than the current one, over every page of
   * the listing (one KV list per 1,000 licenses): what a key rotation still has to re-seal.
   */
  async countOldKey(): Promise<number> {
    let count = 0;
    let cursor: string | undefined;
    do {
      const page = await this.list({ cursor });
      count += page.licenses.filter((l) => l.oldKey).length;
      cursor = page.cursor;
    } while (cursor);
    return count;
  }
}
