import type { Config } from "../config";
import { AgentChatApi } from "./agent-chat";
import type { Credentials } from "./auth";
import { ConfigurationApi } from "./configuration";

/** LiveChat Web API clients, built on first use. */
export interface LiveChatApis {
  /** Agent Chat API as the license (its OAuth grant). */
  readonly agent: AgentChatApi;
  /** Configuration API as the license. */
  readonly configuration: ConfigurationApi;
  /** Agent Chat API as the license's bot (its own token; add it to a chat before sending there). */
  readonly bot: AgentChatApi;
}

/** Where a license's clients get their credentials: the License DO (directly or over RPC). */
export interface CredentialsSource {
  /** The license's OAuth access token; a fresh one when LiveChat `rejected` the one given. */
  credentials(rejected?: Credentials): Promise<Credentials>;
  /** The license bot's own token; a fresh one when `rejected`. */
  botCredentials(rejected?: Credentials): Promise<Credentials>;
  /** Keep the region LiveChat named in a `misdirected_request` (docs/LIVECHAT.md §6.3): later credentials carry it. */
  recordRegion(region: string): Promise<void>;
}

/**
 * LiveChat clients for a license, created lazily so a handler that never calls LiveChat never
 * needs credentials. Credentials come from the License DO on each call (it refreshes them).
 */
export function liveChatApis(
  config: Pick<Config, "apiUrl" | "apiVersion">,
  license: CredentialsSource,
): LiveChatApis {
  // A re-route is kept with the license; a failure to keep it only costs the next client the same re-route.
  const onRegion = (region: string) => void license.recordRegion(region).catch(() => {});
  const options = { apiUrl: config.apiUrl, version: config.apiVersion, credentials: (rejected?: Credentials) => license.credentials(rejected), onRegion };
  let agent: AgentChatApi | undefined;
  let configuration: ConfigurationApi | undefined;
  let bot: AgentChatApi | undefined;
  return {
    get bot() {
      return (bot ??= new AgentChatApi({ ...options, credentials: (rejected?: Credentials) => license.botCredentials(rejected) }));
    },
    get agent() {
      return (agent ??= new AgentChatApi(options));
    },
    get configuration() {
      return (configuration ??= new ConfigurationApi(options));
    },
  };
}
