import { describe, expect, it } from "vitest";
import { importSealingKey, randomToken, seal, sha256Base64Url, unseal } from "../../src/licenses/crypto";

const KEY = "AwoRGB8mLTQ7QklQV15lbHN6gYiPlp2kq7K5wMfO1dw=";
const OTHER = btoa(String.fromCharCode(...new Uint8Array(32).fill(9)));

describe("AES-GCM sealing", () => {
  it("round-trips and never contains the plaintext", async () => {
    const key = await importSealingKey(KEY);
    const sealed = await seal(key, "dal:secret-token", "license:a");
    expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain("secret-token");
    expect(await unseal(key, sealed, "license:a")).toBe("dal:secret-token");
  });

  it("uses a fresh IV per seal", async () => {
    const key = await importSealingKey(KEY);
    expect(await seal(key, "x", "c")).not.toBe(await seal(key, "x", "c"));
  });

  it("refuses another context, another key and tampered ciphertext", async () => {
    const key = await importSealingKey(KEY);
    const sealed = await seal(key, "payload", "license:a");
    await expect(unseal(key, sealed, "license:b")).rejects.toThrow();
    await expect(unseal(await importSealingKey(OTHER), sealed, "license:a")).rejects.toThrow();
    const [v, iv, data] = sealed.split(".");
    const flipped = data.slice(0, -2) + (data.at(-2) === "A" ? "B" : "A") + data.at(-1);
    await expect(unseal(key, `${v}.${iv}.${flipped}`, "license:a")).rejects.toThrow();
  });

  it("rejects a key that is not 32 bytes", () => {
    expect(() => importSealingKey(btoa("short"))).toThrow(/32 bytes/);
  });

  it("makes PKCE S256 challenges per RFC 7636 appendix B", async () => {
    expect(await sha256Base64Url("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")).toBe(
      "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
    );
    expect(randomToken(32)).toHaveLength(43);
  });
});
