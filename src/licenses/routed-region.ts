import { asRegion } from "../livechat/region";

/** Storage key of the region LiveChat named for the license (docs/DATA.md "License DO"). */
export const ROUTED_REGION_KEY = "grant-region";

/** The region LiveChat re-routed the license to, and the token prefix it corrected. */
interface Routed {
  region: string;
  /** The grant's region (token prefix) when LiveChat named `region`; undefined when the token had none. */
  tokenRegion?: string;
  at: number;
}

/**
 * The data center LiveChat named for a license in a `misdirected_request` answer, kept in the
 * License DO so that every later client, in this DO or a Chat DO, sends it as `X-Region` first
 * (docs/LIVECHAT.md §6.3 [recommendation]: store the region with each license). It stands while
 * the grant's token prefix is the one it corrected: a token minted in another data center since
 * is newer word than the re-route.
 */
export class RoutedRegion {
  /** Undefined until read; null when none is stored. */
  private cached: Routed | null | undefined;

  constructor(private readonly storage: DurableObjectStorage) {}

  /** The region to send for a grant whose token prefix is `tokenRegion`. */
  async resolve(tokenRegion: string | undefined): Promise<string | undefined> {
    const routed = await this.read();
    return routed && routed.tokenRegion === tokenRegion ? routed.region : tokenRegion;
  }

  /** LiveChat named `region` for a grant whose token prefix is `tokenRegion`; stored when it differs from the prefix, else forgotten. */
  async learn(region: string, tokenRegion: string | undefined, now = Date.now()): Promise<void> {
    const valid = asRegion(region);
    if (!valid) return;
    const current = await this.read();
    if (valid === tokenRegion) {
      if (current) await this.forget();
      return;
    }
    if (current?.region === valid && current.tokenRegion === tokenRegion) return;
    const routed: Routed = { region: valid, ...(tokenRegion !== undefined ? { tokenRegion } : {}), at: now };
    await this.storage.put(ROUTED_REGION_KEY, routed);
    this.cached = routed;
  }

  /** Drop the stored region (uninstall). */
  async forget(): Promise<void> {
    this.cached = null;
    await this.storage.delete(ROUTED_REGION_KEY);
  }

  private async read(): Promise<Routed | null> {
    if (this.cached === undefined) this.cached = (await this.storage.get<Routed>(ROUTED_REGION_KEY)) ?? null;
    return this.cached;
  }
}
