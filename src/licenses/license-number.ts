/**
 * The numeric LiveChat license id of an organization, kept in KV as `license-number:<id>` →
 * organization id, so that a webhook whose envelope carries only `license_id` (v3.3-style bodies,
 * docs/LIVECHAT.md §1.2) reaches the organization's License and Chat DOs. Neither the token
 * answer nor `/v2/info` names the license id (§6.2); App Webhooks do (`licenseID`, §7), and the
 * License DO writes the mapping when one names it. Nothing secret; deleted by the uninstall.
 */
import { isLicenseNumber } from "../livechat/webhooks/schemas/common";

const PREFIX = "license-number:";
/** DO storage key of the license id the License DO last mapped (so an unchanged one is not written again). */
export const LICENSE_NUMBER_KEY = "license-number";

/** KV key of a license id's organization. */
export function licenseNumberKey(licenseId: number): string {
  return `${PREFIX}${licenseId}`;
}


/** The License DO's side: map its license id to its organization, forget it on uninstall. */
export class LicenseNumberMap {
  constructor(
    private readonly storage: DurableObjectStorage,
    private readonly kv: KVNamespace,
  ) {}

  /** `licenseId` is the license id of `organizationId`: written to KV when it is new or changed. */
  async note(licenseId: number | undefined, organizationId: string): Promise<void> {
    if (!isLicenseNumber(licenseId)) return;
    const previous = await this.storage.get<number>(LICENSE_NUMBER_KEY);
    if (previous === licenseId) return;
    await this.kv.put(licenseNumberKey(licenseId), organizationId);
    await this.storage.put(LICENSE_NUMBER_KEY, licenseId);
    if (previous !== undefined) await this.release(previous, organizationId);
  }

  /** Remove the mapping (uninstall: a license_id-only webhook then reaches no installed license). */
  async forget(organizationId: string): Promise<void> {
    const previous = await this.storage.get<number>(LICENSE_NUMBER_KEY);
    if (previous === undefined) return;
    await this.release(previous, organizationId);
    await this.storage.delete(LICENSE_NUMBER_KEY);
  }

  /** Delete the mapping of `licenseId` while it still names `organizationId`: another license may have claimed the number since. */
  private async release(licenseId: number, organizationId: string): Promise<void> {
    if ((await this.kv.get(licenseNumberKey(licenseId))) === organizationId) await this.kv.delete(licenseNumberKey(licenseId));
  }
}

/** How long a Worker isolate reuses a lookup, found or not (ms). */
export const LICENSE_NUMBER_CACHE_MS = 60_000;
/** Most lookups an isolate keeps: license_id-only bodies are rare, and a flood of unknown ids must not grow memory. */
const CACHE_ENTRIES = 1_000;

const cache = new Map<number, { organizationId: string | null; at: number }>();

/**
 * The organization of `licenseId`, or undefined when no installed license named it: one KV read,
 * then reused by the isolate for {@link LICENSE_NUMBER_CACHE_MS}. Only webhooks without an
 * `organization_id` ask (the ack of a current body reads nothing).
 */
export async function organizationOfLicense(kv: KVNamespace, licenseId: number, now = Date.now()): Promise<string | undefined> {
  const hit = cache.get(licenseId);
  if (hit && now - hit.at < LICENSE_NUMBER_CACHE_MS) return hit.organizationId ?? undefined;
  const organizationId = await kv.get(licenseNumberKey(licenseId));
  if (cache.size >= CACHE_ENTRIES) cache.delete(cache.keys().next().value as number);
  cache.set(licenseId, { organizationId, at: now });
  return organizationId ?? undefined;
}
