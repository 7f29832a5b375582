import type * as z from "zod/mini";
import { type Credentials, regionOf, resolveCredentials, type CredentialSource } from "./auth";
import { LiveChatError } from "./errors";
import { HttpClient, type HttpResponse, parseBody } from "./http";

/** Constructor options shared by {@link ConfigurationApi} and {@link AgentChatApi}. */
export interface WebApiOptions {
  /** Base URL without version, e.g. "https://api.livechatinc.com" (config `apiUrl`). */
  apiUrl: string;
  /** API version, e.g. "3.6" (config `apiVersion`). */
  version: string;
  credentials: CredentialSource;
  http?: HttpClient;
  /**
   * Called with the region LiveChat named in a `misdirected_request`, after which this client
   * keeps using it; store it with the license (docs/LIVECHAT.md §6.3 [recommendation]).
   */
  onRegion?: (region: string) => void;
}

/**
 * Shared plumbing of the LiveChat Web APIs: `POST {apiUrl}/v{version}/{api}/action/{action}`
 * with a JSON body (docs/LIVECHAT.md §3.1, §4.1), credentials resolved once per call, `X-Region`
 * from the credentials or from an earlier `misdirected_request`.
 */
export abstract class WebApiClient {
  private readonly base: string;
  private readonly credentials: CredentialSource;
  private readonly http: HttpClient;
  private readonly onRegion?: (region: string) => void;
  private correctedRegion?: string;

  protected constructor(
    private readonly api: "configuration" | "agent",
    options: WebApiOptions,
  ) {
    const version = options.version.trim().replace(/^v/i, "");
    this.base = `${options.apiUrl.replace(/\/+$/, "")}/v${version}/${api}/action/`;
    this.credentials = options.credentials;
    this.http = options.http ?? new HttpClient();
    this.onRegion = options.onRegion;
  }

  /** The region learned from a `misdirected_request`, if LiveChat re-routed a call of this client. */
  get region(): string | undefined {
    return this.correctedRegion;
  }

  /** Call `action` and validate the response with `schema`. */
  protected async call<S extends z.ZodMiniType>(
    action: string,
    body: unknown,
    schema: S,
    options: { idempotent?: boolean } = {},
  ): Promise<z.infer<S>> {
    const response = await this.authenticated(action, body, options);
    return parseBody(schema, response, `${this.api}/${action}`);
  }

  /** Call an action documented to answer with an empty body (any body is ignored). */
  protected async callVoid(action: string, body: unknown): Promise<void> {
    await this.authenticated(action, body, {});
  }

  /**
   * Send an authenticated call. When LiveChat rejects the credentials (`authentication`, e.g. a
   * token revoked or expired before its stored expiry) and they come from a function, ask it once
   * for new ones and retry once (docs/LIVECHAT.md §3.6 "authentication: invalid/expired token").
   */
  private async authenticated(action: string, body: unknown, options: { idempotent?: boolean }): Promise<HttpResponse> {
    const request = await this.prepare(action, body, true);
    try {
      return await this.http.request({ ...request, ...options });
    } catch (err) {
      if (!(err instanceof LiveChatError && err.type === "authentication") || typeof this.credentials !== "function") throw err;
      const renewed = await this.credentials(request.credentials);
      return this.http.request({ ...(await this.prepare(action, body, true, renewed)), ...options });
    }
  }

  /** Call an action that needs no authentication (e.g. `list_webhook_names`, docs/LIVECHAT.md §3.2). */
  protected async callAnonymous<S extends z.ZodMiniType>(action: string, body: unknown, schema: S): Promise<z.infer<S>> {
    return this.http.requestParsed(await this.prepare(action, body, false), schema);
  }

  private async prepare(action: string, body: unknown, authenticated: boolean, given?: Credentials) {
    const credentials = given ?? (authenticated ? await resolveCredentials(this.credentials) : undefined);
    return {
      method: "POST" as const,
      url: this.base + action,
      name: `${this.api}/${action}`,
      credentials,
      region: this.correctedRegion ?? (credentials ? regionOf(credentials) : undefined),
      body: body ?? {},
      onRegion: (region: string) => {
        this.correctedRegion = region;
        this.onRegion?.(region);
      },
    };
  }
}
