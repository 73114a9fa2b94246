import {describe, expect, it} from "vitest";
import {InvalidArgumentError} from "../../../src/util/index.js";
import {x25519KeyPair, x25519PublicKey, x25519SharedSecret} from "../../../src/crypto/index.js";

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "hex"));
const toHex = (b: Uint8Array | null): string => (b === null ? "null" : Buffer.from(b).toString("hex"));

// RFC 7748 §6.1.
const alice = {
  sk: "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a",
  pk: "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
};
const bob = {
  sk: "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb",
  pk: "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
};
const shared = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

describe("x25519", () => {
  it("matches RFC 7748 §6.1", () => {
    expect(toHex(x25519PublicKey(hex(alice.sk)))).toBe(alice.pk);
    expect(toHex(x25519KeyPair(hex(bob.sk)).publicKey)).toBe(bob.pk);
    expect(toHex(x25519SharedSecret(hex(alice.sk), hex(bob.pk)))).toBe(shared);
    expect(toHex(x25519SharedSecret(hex(bob.sk), hex(alice.pk)))).toBe(shared);
  });

  it("returns null for peer keys that give no secret, throws only for a bad own key", () => {
    const sk = hex(alice.sk);
    expect(x25519SharedSecret(sk, new Uint8Array(32))).toBeNull(); // all-zero result
    expect(x25519SharedSecret(sk, hex("01" + "00".repeat(31)))).toBeNull();
    expect(x25519SharedSecret(sk, new Uint8Array(31))).toBeNull();
    expect(() => x25519PublicKey(new Uint8Array(31))).toThrow(InvalidArgumentError);
    const fresh = x25519KeyPair();
    expect(fresh.secretKey).toHaveLength(32);
    // A fresh pair comes from OpenSSL's generator: its raw secret must re-derive the same public key.
    expect(toHex(x25519PublicKey(Uint8Array.from(fresh.secretKey)))).toBe(toHex(fresh.publicKey));
    expect(toHex(x25519SharedSecret(fresh.secretKey, hex(bob.pk)))).toBe(toHex(x25519SharedSecret(hex(bob.sk), fresh.publicKey)));
  });
});
