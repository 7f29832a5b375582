import * as z from "zod/mini";
import { importSealingKey, seal, unseal } from "./crypto";

/**
 * KV `TOKENS` schema (read at the edge; written only by the license's License DO):
 *
 * | key                      | value                                   | metadata (plain, listable)          |
 * |--------------------------|-----------------------------------------|-------------------------------------|
 * | `license:<organization>` | AES-GCM sealed JSON {@link LicenseTokens} | `{ expiresAt, installedAt, needsReinstall }` |
 *
 * The sealed value is bound to its key (AES-GCM associated data), so a raw KV read shows no
 * token and a value copied to another license's key does not decrypt.
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
}

const PREFIX = "license:";

/** KV key of a license's sealed tokens. */
export function licenseKey(organizationId: string): string {
  return `${PREFIX}${organizationId}`;
}

/** Encrypted per-license token storage in KV. */
export class TokenStore {
  constructor(
    private readonly kv: KVNamespace,
    private readonly encryptionKey: string,
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
    const sealed = await seal(await importSealingKey(this.encryptionKey), JSON.stringify(tokens), key);
    const metadata: Omit<LicenseListing, "organizationId"> = {
      expiresAt: tokens.expiresAt,
      installedAt: tokens.installedAt,
      needsReinstall,
    };
    await this.kv.put(key, sealed, { metadata });
  }

  /** Remove the license's tokens. */
  async delete(organizationId: string): Promise<void> {
    await this.kv.delete(licenseKey(organizationId));
  }

  /** One page of installed licenses, for the reconcile cron and the admin overview. */
  async list(options: { cursor?: string; limit?: number } = {}): Promise<{ licenses: LicenseListing[]; cursor?: string }> {
    const page = await this.kv.list<Omit<LicenseListing, "organizationId">>({
      prefix: PREFIX,
      cursor: options.cursor,
      limit: options.limit ?? 1000,
    });
    const licenses = page.keys.map((k) => ({
      organizationId: k.name.slice(PREFIX.length),
      expiresAt: k.metadata?.expiresAt ?? 0,
      installedAt: k.metadata?.installedAt ?? 0,
      needsReinstall: k.metadata?.needsReinstall ?? false,
    }));
    return { licenses, cursor: page.list_complete ? undefined : page.cursor };
  }

  /** Decrypt and validate a sealed record. */
  async open(organizationId: string, sealed: string): Promise<LicenseTokens> {
    const plain = await unseal(await importSealingKey(this.encryptionKey), sealed, licenseKey(organizationId));
    return tokensSchema.parse(JSON.parse(plain));
  }
}
