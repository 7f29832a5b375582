import { describe, expect, it } from "vitest";
import { importSealingKey, keyId, openSealed, randomToken, seal, sealingKeys, sealWith, sha256Base64Url, unseal } from "../../src/licenses/crypto";

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

describe("sealing with a key rotation (current + previous)", () => {
  it("opens with the current key (fresh) or the previous one (stale), and refuses any other", async () => {
    const old = await sealWith({ current: OTHER }, "tok", "license:a");
    const fresh = await sealWith({ current: KEY }, "tok", "license:a");
    const rotating = { current: KEY, previous: OTHER };
    expect(await openSealed(rotating, fresh, "license:a")).toEqual({ plaintext: "tok", stale: false });
    expect(await openSealed(rotating, old, "license:a")).toEqual({ plaintext: "tok", stale: true });
    await expect(openSealed({ current: KEY }, old, "license:a")).rejects.toThrow();
    await expect(openSealed(rotating, old, "license:b")).rejects.toThrow(); // still bound to its context
  });

  it("opens a value bound to an older context as stale, and only the contexts it is given", async () => {
    const legacy = await sealWith({ current: KEY }, "s3cret", "bot-secret");
    const keys = { current: KEY };
    expect(await openSealed(keys, legacy, '["bot-secret","org-1","bot-1"]', ["bot-secret"])).toEqual({ plaintext: "s3cret", stale: true });
    await expect(openSealed(keys, legacy, '["bot-secret","org-1","bot-1"]')).rejects.toThrow();
  });

  it("names keys by a short public id: stable, distinct, not the key", async () => {
    expect(await keyId(KEY)).toBe(await keyId(KEY));
    expect(await keyId(KEY)).not.toBe(await keyId(OTHER));
    expect(await keyId(KEY)).toMatch(/^[\w-]{8}$/);
    expect(KEY).not.toContain(await keyId(KEY));
  });

  it("takes the keys from the configuration; an unset previous key is none", () => {
    expect(sealingKeys({ tokenEncryptionKey: KEY, tokenEncryptionKeyPrevious: undefined })).toEqual({ current: KEY });
    expect(sealingKeys({ tokenEncryptionKey: KEY, tokenEncryptionKeyPrevious: OTHER })).toEqual({ current: KEY, previous: OTHER });
  });
});
