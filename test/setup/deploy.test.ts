import { describe, expect, it } from "vitest";
import { configuredUrl, consoleUrls, deployedUrl, deployProblems } from "../../src/setup/deploy";

// The whole command (scripts/deploy.mjs against a stubbed wrangler) is tested in test/scripts/deploy.test.mjs.
describe("deploy checks", () => {
  const complete = ["LIVECHAT_CLIENT_SECRET", "LIVECHAT_WEBHOOK_SECRET", "TOKEN_ENCRYPTION_KEY", "ADMIN_TOKEN"];

  it("a complete configuration has no problems; each missing required name is one problem, optional ones none", () => {
    expect(deployProblems({ wranglerToml: '[vars]\nLIVECHAT_CLIENT_ID = "c"\n', secrets: complete })).toEqual([]);
    const problems = deployProblems({ wranglerToml: "[vars]\n", secrets: ["ADMIN_TOKEN"] });
    expect(problems.map((p) => p.name)).toEqual(["LIVECHAT_CLIENT_ID", "LIVECHAT_CLIENT_SECRET", "LIVECHAT_WEBHOOK_SECRET", "TOKEN_ENCRYPTION_KEY"]);
  });

  it("an empty var is no value; a var of another table does not count", () => {
    const toml = '[vars]\nLIVECHAT_CLIENT_ID = ""\n[env.staging.vars]\nLIVECHAT_CLIENT_ID = "c"\n';
    expect(deployProblems({ wranglerToml: toml, secrets: complete }).map((p) => p.name)).toEqual(["LIVECHAT_CLIENT_ID"]);
  });

  it("reads the Worker's URL from wrangler deploy's output, after `Deployed`", () => {
    const output = "Total Upload: 1 KiB\nsee https://developers.cloudflare.com/x\nUploaded w (1 sec)\nDeployed w triggers (1 sec)\n  https://w.acct.workers.dev/\n  schedule: */5 * * * *\n";
    expect(deployedUrl(output)).toBe("https://w.acct.workers.dev");
    expect(deployedUrl("Deployed w triggers (1 sec)\n  schedule: */5 * * * *\n")).toBeUndefined();
    expect(configuredUrl('[vars]\nPUBLIC_URL = "https://edge.example.com/"\n')).toBe("https://edge.example.com");
    expect(consoleUrls("https://edge.example.com/")).toEqual({
      directInstall: "https://edge.example.com/install",
      redirectUri: "https://edge.example.com/install",
      appWebhooks: "https://edge.example.com/webhooks/app",
    });
  });
});
