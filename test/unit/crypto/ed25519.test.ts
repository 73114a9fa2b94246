import {createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify} from "node:crypto";
import {ed25519} from "@noble/curves/ed25519.js";
import {describe, expect, it} from "vitest";
import {
  ed25519MatchesX25519,
  ed25519PkToX25519,
  hasSmallOrderEncoding,
  isCanonicalEncoding,
  verifyEd25519,
} from "../../../src/crypto/ed25519.js";
import {ed25519Fixture, hex, toHexString} from "./fixtures.js";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const PKCS8_ED25519 = Buffer.from("302e020100300506032b657004220420", "hex");
const PKCS8_X25519 = Buffer.from("302e020100300506032b656e04220420", "hex");

function rawPublic(key: ReturnType<typeof createPublicKey>): Uint8Array {
  return Uint8Array.from(key.export({format: "der", type: "spki"}).subarray(12));
}

describe("verifyEd25519", () => {
  it.each(ed25519Fixture.rfc8032.vectors.map((v, i) => [i + 1, v] as const))("accepts RFC 8032 TEST %i", (_n, v) => {
    expect(verifyEd25519(hex(v.publicKey), hex(v.message), hex(v.signature))).toBe(true);
  });

  it("accepts the fixture signature and Buffers as inputs", () => {
    const v = ed25519Fixture.verify;
    expect(verifyEd25519(hex(v.publicKey), enc(v.message), hex(v.signature))).toBe(true);
    expect(verifyEd25519(Buffer.from(v.publicKey, "hex"), Buffer.from(v.message), Buffer.from(v.signature, "hex"))).toBe(true);
  });

  it("rejects a changed message, signature bit or key", () => {
    const v = ed25519Fixture.verify;
    const sig = hex(v.signature);
    expect(verifyEd25519(hex(v.publicKey), enc(v.message + "!"), sig)).toBe(false);
    for (const i of [0, 31, 32, 63]) {
      const bad = sig.slice();
      bad[i] = (bad[i] ?? 0) ^ 0x01;
      expect(verifyEd25519(hex(v.publicKey), enc(v.message), bad), `bit flip in signature byte ${i}`).toBe(false);
    }
    const otherKey = ed25519Fixture.rfc8032.vectors[0]!.publicKey;
    expect(verifyEd25519(hex(otherKey), enc(v.message), sig)).toBe(false);
  });

  it("returns false (never throws) on garbage", () => {
    const v = ed25519Fixture.verify;
    const pk = hex(v.publicKey);
    const sig = hex(v.signature);
    const msg = enc(v.message);
    const garbage: [unknown, unknown, unknown][] = [
      [pk.subarray(0, 31), msg, sig],
      [new Uint8Array(33), msg, sig],
      [pk, msg, sig.subarray(0, 63)],
      [pk, msg, new Uint8Array(65)],
      [pk, "not bytes", sig],
      [null, msg, sig],
      [pk, msg, undefined],
      ["ab".repeat(32), msg, sig],
      [new Uint8Array(32).fill(0xff), msg, sig],
      [hex("02" + "00".repeat(31)), msg, sig],
      [pk, msg, new Uint8Array(64).fill(0xff)],
    ];
    for (const [i, args] of garbage.entries()) {
      expect(() => verifyEd25519(...(args as [Uint8Array, Uint8Array, Uint8Array])), `case ${i}`).not.toThrow();
      expect(verifyEd25519(...(args as [Uint8Array, Uint8Array, Uint8Array])), `case ${i}`).toBe(false);
    }
  });

  it("rejects the small-order forgery that OpenSSL alone accepts (libsodium parity)", () => {
    // Identity point as key, R = identity and S = 0: [S]B = R + [k]A holds for every message.
    const identity = hex("01" + "00".repeat(31));
    const forged = new Uint8Array(64);
    forged[0] = 1;
    expect(verifyEd25519(identity, enc("any message"), forged)).toBe(false);
    expect(verifyEd25519(identity, enc("another one"), forged)).toBe(false);
  });

  it("rejects a valid-equation signature whose R is the identity (OpenSSL accepts it, libsodium not)", () => {
    // With R = identity, S = k·a mod ℓ satisfies [S]B = R + [k]A for a genuine key A = aB.
    const {scalar, pointBytes: publicKey} = ed25519.utils.getExtendedPublicKey(new Uint8Array(32).fill(7));
    const r = hex("01" + "00".repeat(31));
    const message = enc("hello");
    const order = ed25519.Point.Fn.ORDER;
    const k = BigInt("0x" + Buffer.from(createHash("sha512").update(r).update(publicKey).update(message).digest()).reverse().toString("hex")) % order;
    const s = Buffer.from(((k * scalar) % order).toString(16).padStart(64, "0"), "hex").reverse();
    const signature = Uint8Array.from(Buffer.concat([r, s]));
    const keyObject = createPublicKey({key: Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), publicKey]), format: "der", type: "spki"});
    expect(verify(null, message, keyObject, signature)).toBe(true); // OpenSSL alone would accept
    expect(verifyEd25519(publicKey, message, signature)).toBe(false);
  });

  it("agrees with node:crypto signing for fresh keys (exercises the KeyObject cache)", () => {
    for (let i = 0; i < 20; i++) {
      const {privateKey, publicKey} = generateKeyPairSync("ed25519");
      const msg = enc(`message ${i}`);
      const sig = Uint8Array.from(sign(null, msg, privateKey));
      const pk = rawPublic(publicKey);
      expect(verifyEd25519(pk, msg, sig), `key ${i}`).toBe(true);
      expect(verifyEd25519(pk, msg, sig), `key ${i} (cached)`).toBe(true);
      expect(verifyEd25519(pk, enc(`message ${i + 1}`), sig), `key ${i} other message`).toBe(false);
    }
  });
});

describe("small-order blocklist and canonical check", () => {
  it("blocks exactly the 8-torsion points (any sign bit) and y = p, p + 1", () => {
    const t8 = ed25519.Point.fromBytes(hex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"));
    let q = ed25519.Point.ZERO;
    for (let i = 0; i < 8; i++) {
      const encoded = q.toBytes();
      expect(hasSmallOrderEncoding(encoded), `torsion point ${i}`).toBe(true);
      encoded[31] = (encoded[31] ?? 0) ^ 0x80;
      expect(hasSmallOrderEncoding(encoded), `torsion point ${i}, sign bit flipped`).toBe(true);
      q = q.add(t8);
    }
    expect(hasSmallOrderEncoding(hex("ed" + "ff".repeat(30) + "7f"))).toBe(true);
    expect(hasSmallOrderEncoding(hex("ee" + "ff".repeat(30) + "7f"))).toBe(true);
    expect(hasSmallOrderEncoding(hex(ed25519Fixture.verify.publicKey))).toBe(false);
  });

  it("treats y >= p as non-canonical", () => {
    expect(isCanonicalEncoding(hex("ec" + "ff".repeat(30) + "7f"))).toBe(true);
    expect(isCanonicalEncoding(hex("ed" + "ff".repeat(30) + "7f"))).toBe(false);
    expect(isCanonicalEncoding(hex("ed" + "ff".repeat(30) + "ff"))).toBe(false);
    expect(isCanonicalEncoding(hex("ed" + "ff".repeat(29) + "fe7f"))).toBe(true);
  });
});

describe("ed25519PkToX25519 (crypto_sign_ed25519_pk_to_curve25519)", () => {
  it.each(ed25519Fixture.toX25519.vectors.map((v) => [v.ed25519PublicKey.slice(0, 8), v] as const))(
    "converts %s… like libsodium / OpenSSL X25519",
    (_label, v) => {
      expect(toHexString(ed25519PkToX25519(hex(v.ed25519PublicKey))!)).toBe(v.x25519PublicKey);
      expect(ed25519MatchesX25519(hex(v.ed25519PublicKey), hex(v.x25519PublicKey))).toBe(true);
    },
  );

  it.each(ed25519Fixture.toX25519.rejected.map((v) => [v.why, v] as const))("returns null: %s", (_why, v) => {
    expect(ed25519PkToX25519(hex(v.ed25519PublicKey))).toBeNull();
    expect(ed25519MatchesX25519(hex(v.ed25519PublicKey), new Uint8Array(32))).toBe(false);
  });

  it("ed25519MatchesX25519 still refuses an invalid key whose bare u-coordinate matches", () => {
    // noble's toMontgomery applies the map without the subgroup check libsodium performs.
    for (const why of ["order-8", "prime-order subgroup", "order-2"]) {
      const rejected = ed25519Fixture.toX25519.rejected.find((r) => r.why.includes(why))!;
      const u = ed25519.utils.toMontgomery(hex(rejected.ed25519PublicKey));
      expect(ed25519MatchesX25519(hex(rejected.ed25519PublicKey), u), rejected.why).toBe(false);
    }
  });

  it("returns null for wrong lengths and non-bytes, and a fresh copy otherwise", () => {
    expect(ed25519PkToX25519(new Uint8Array(31))).toBeNull();
    expect(ed25519PkToX25519("00" as unknown as Uint8Array)).toBeNull();
    const v = ed25519Fixture.toX25519.vectors[0]!;
    const first = ed25519PkToX25519(hex(v.ed25519PublicKey))!;
    first.fill(0);
    expect(toHexString(ed25519PkToX25519(hex(v.ed25519PublicKey))!)).toBe(v.x25519PublicKey);
  });

  it("matches node:crypto X25519 keys derived from the same seed (random seeds)", () => {
    for (let i = 0; i < 10; i++) {
      const seed = createHash("sha256").update(`random-ish ${i} ${Math.random()}`).digest();
      const edPk = rawPublic(createPublicKey(createPrivateKey({key: Buffer.concat([PKCS8_ED25519, seed]), format: "der", type: "pkcs8"})));
      const xSk = createHash("sha512").update(seed).digest().subarray(0, 32);
      const xPk = rawPublic(createPublicKey(createPrivateKey({key: Buffer.concat([PKCS8_X25519, xSk]), format: "der", type: "pkcs8"})));
      expect(ed25519MatchesX25519(edPk, xPk), `seed ${seed.toString("hex")}`).toBe(true);
      const wrong = xPk.slice();
      wrong[5] = (wrong[5] ?? 0) ^ 1;
      expect(ed25519MatchesX25519(edPk, wrong)).toBe(false);
    }
  });
});
