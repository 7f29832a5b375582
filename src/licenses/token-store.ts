import * as z from "zod/mini";
import { keyId, openSealed, type SealingKeys } from "./crypto";

/**
 * KV `TOKENS` holds the index of installed licenses and nothing secret (docs/DATA.md "KV"): the
 * cron and the admin list walk it; the grant itself lives sealed in the License DO only
 * (`open()` unseals it there). Written only by the license's License DO:
 *
 * | key                      | value | metadata (plain, listable)                                   |
 * |--------------------------|-------|--------------------------------------------------------------|
 * | `license:<organization>` | `""`  | `{ expiresAt, installedAt, needsReinstall, sealedWith, uninstallPending? }` |
 *
 * `sealedWith` is the public id (`keyId`) of the key the License DO's grant is sealed with, so what
 * is still under a previous key is counted from a listing, without decrypting (docs/SECURITY.md
 * "Rotating secrets without downtime"). `uninstallPending` is set on a license marked for reinstall
 * while an uninstall hint awaits LiveChat's word, so the cron still visits it (src/licenses/fleet.ts). An older version stored a sealed copy of the tokens as the
 * value: the next write (install, refresh, uninstall) replaces or deletes it.
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
  /** Marked for reinstall while an uninstall hint is neither confirmed nor refuted (src/licenses/uninstall-check.ts). */
  uninstallPending: boolean;
}

type ListingMetadata = Omit<LicenseListing, "organizationId" | "oldKey" | "uninstallPending"> & { sealedWith?: string; uninstallPending?: boolean };

const PREFIX = "license:";

/** KV key of a license's sealed tokens. */
export function licenseKey(organizationId: string): string {
  return `${PREFIX}${organizationId}`;
}

/** The KV index of installed licenses, and the sealing format of a grant. */
export class TokenStore {
  constructor(
    private readonly kv: KVNamespace,
    private readonly keys: SealingKeys,
  ) {}

  /** List the license as installed, with what the cron and the admin list read (reinstalls and refreshes overwrite). */
  async put(tokens: LicenseTokens, needsReinstall = false, uninstallPending = false): Promise<void> {
    const key = licenseKey(tokens.organizationId);
    const metadata: ListingMetadata = {
      expiresAt: tokens.expiresAt,
      installedAt: tokens.installedAt,
      needsReinstall,
      sealedWith: await keyId(this.keys.current),
      uninstallPending,
    };
    await this.kv.put(key, "", { metadata });
  }

  /** Remove the license from the index (uninstall). */
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
      uninstallPending: !!k.metadata?.uninstallPending,
    }));
    return { licenses, cursor: page.list_complete ? undefined : page.cursor };
  }

  /** Decrypt (with the current or the previous key) and validate a grant sealed for `organizationId` (as the License DO stores it). */
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
