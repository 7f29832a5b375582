import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { chatStub } from "../../src/chats/stub";
import { ConfigError } from "../../src/config";
import { AcceptPressure, PROCESS_DEADLINE } from "../../src/deliveries";
import { NamedAlarms } from "../../src/durable/alarms";
import { deliveryHost, WebhookRouter } from "../../src/framework";
import { licenseStub } from "../../src/licenses/stub";
import { createLogger } from "../../src/log";
import { incomingEvent, uniqueOrg } from "../webhooks/helpers";

afterEach(() => vi.restoreAllMocks());

describe("deliveryHost", () => {
  it("while the configuration is invalid, deliveries stay stored and waiting: the pass fails, backs off, is logged, and runs once it is fixed", async () => {
    const org = uniqueOrg("cfg");
    const errors: string[] = [];
    vi.spyOn(console, "error").mockImplementation((line: unknown) => void errors.push(String(line)));
    await runInDurableObject(chatStub(env, org, "CFG"), async (_i, state) => {
      const clock = { now: Date.now() };
      const log = createLogger({ component: "test" });
      const alarms = new NamedAlarms(state.storage, { now: () => clock.now, onError: (name, error) => log.error("deadline failed", { deadline: name, error }) });
      let valid = false;
      const config = () => {
        if (!valid) throw new ConfigError([{ name: "REPLY_TIMEOUT_SECONDS", problem: "REPLY_TIMEOUT_SECONDS must be an integer from 5 to 86400" }]);
        return { apiUrl: "https://api.livechat.test", apiVersion: "3.6" as const, botWebhookType: "bot" as const };
      };
      const { inbox } = deliveryHost(
        state.storage,
        alarms,
        { router: new WebhookRouter(), config, license: (organizationId) => licenseStub(env, organizationId), log },
        { now: () => clock.now, pressure: new AcceptPressure() },
      );
      const { secret_key: _secret, ...body } = incomingEvent(org, "CFG", "E1");
      await inbox.append("license", JSON.stringify(body));
      const [stored] = inbox.recent();

      await alarms.run();
      expect(inbox.get(stored.id)).toMatchObject({ status: "pending", attempts: 0 });
      expect(errors.some((e) => e.includes('"deadline failed"') && e.includes("REPLY_TIMEOUT_SECONDS"))).toBe(true);
      const retryAt = alarms.deadline(PROCESS_DEADLINE)!;
      expect(retryAt).toBeGreaterThan(clock.now);

      valid = true;
      clock.now = retryAt;
      await alarms.run();
      expect(inbox.get(stored.id)).toMatchObject({ status: "not_installed", attempts: 1 });
    });
  });
});
