import {describe, expect, it, vi} from "vitest";
import {blake2b256, initHashing, messageHash, sha256, toBase64NoPad} from "../../../src/crypto/hash.js";
import {hex, messageHashFixture, toHexString, type MessageHashVector} from "./fixtures.js";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const hashOf = (v: MessageHashVector): string =>
  messageHash(hex(v.account), v.namespace, Uint8Array.from(Buffer.from(v.data_base64, "base64")));

describe("hashing before initHashing()", () => {
  it("throws CRYPTO_ERROR_NOT_INITIALIZED with a hint", async () => {
    // A fresh copy of the module: unit files share a worker's modules, so another file may
    // already have initialised the imported one.
    vi.resetModules();
    const fresh = await import("../../../src/crypto/hash.js");
    expect(() => fresh.blake2b256(enc("abc"))).toThrow(expect.objectContaining({code: "CRYPTO_ERROR_NOT_INITIALIZED"}));
    expect(() => fresh.blake2b256(enc("abc"))).toThrow(/initHashing/);
    expect(() => fresh.messageHash(new Uint8Array(33), 0, new Uint8Array(0))).toThrow(/initHashing/);
  });

  it("initHashing() may be called concurrently and repeatedly", async () => {
    await Promise.all([initHashing(), initHashing(), initHashing()]);
    await initHashing();
    expect(blake2b256().length).toBe(32);
  });
});

describe("blake2b256", () => {
  it("matches BLAKE2b-256 known answers (Python hashlib.blake2b(digest_size=32))", () => {
    expect(toHexString(blake2b256())).toBe("0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
    expect(toHexString(blake2b256(enc("abc")))).toBe("bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
    expect(toHexString(blake2b256(enc("a".repeat(1000))))).toBe(
      "e00b0ddbf1e2cdaf5c898e1a5e8826ea3a2c339bcf2a478da2e5fca9ff126672",
    );
  });

  it("hashes the concatenation of its parts, Buffers included", () => {
    const whole = blake2b256(enc("hello world"));
    expect(blake2b256(enc("hello"), Buffer.from(" "), enc("world"))).toEqual(whole);
    expect(blake2b256(enc(""), enc("hello world"), enc(""))).toEqual(whole);
  });

  it("returns an independent array each call", () => {
    const a = blake2b256(enc("a"));
    const b = blake2b256(enc("b"));
    expect(a).not.toEqual(b);
    expect(a.buffer).not.toBe(b.buffer);
  });
});

describe("sha256 and toBase64NoPad", () => {
  it("sha256 is SHA-256 of the concatenated parts", () => {
    expect(sha256(enc("ab"), enc("c")).toString("hex")).toBe(
      "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
    );
  });

  it("strips exactly the base64 padding", () => {
    expect(toBase64NoPad(new Uint8Array(0))).toBe("");
    expect(toBase64NoPad(Uint8Array.of(0xff))).toBe("/w");
    expect(toBase64NoPad(Uint8Array.of(0xff, 0xfe))).toBe("//4");
    expect(toBase64NoPad(Uint8Array.of(0xfb, 0xff, 0xbf))).toBe("+/+/");
    const sub = Uint8Array.of(9, 0xff, 9).subarray(1, 2);
    expect(toBase64NoPad(sub)).toBe("/w");
  });
});

describe("messageHash (Session's computeMessageHash)", () => {
  it("reproduces Session's unit-test vector", () => {
    expect(hashOf(messageHashFixture.session)).toBe("4sMyAuaZlMwww3oFvfhazfw7ASx/7TDtO+TVc8aAjHs");
    expect(messageHashFixture.session.hash).toBe("4sMyAuaZlMwww3oFvfhazfw7ASx/7TDtO+TVc8aAjHs");
  });

  it.each(messageHashFixture.own.vectors.map((v) => [v.description ?? "", v] as const))(
    "matches the independently computed vector: %s",
    (_description, vector) => {
      const got = hashOf(vector);
      expect(got).toBe(vector.hash);
      expect(got).toHaveLength(43);
    },
  );

  it("hashes the namespace as decimal text and nothing for namespace 0", () => {
    const account = hex(messageHashFixture.session.account);
    const data = enc("x");
    expect(messageHash(account, 0, data)).toBe(blake2bB64(account, data));
    expect(messageHash(account, 42, data)).toBe(blake2bB64(account, enc("42"), data));
    expect(messageHash(account, -10, data)).toBe(blake2bB64(account, enc("-10"), data));
  });

  it("rejects accounts that are not 33 bytes and namespaces outside int16", () => {
    const account = new Uint8Array(33);
    const data = new Uint8Array(0);
    expect(() => messageHash(new Uint8Array(32), 0, data)).toThrow(expect.objectContaining({code: "INVALID_ARGUMENT"}));
    expect(() => messageHash(new Uint8Array(34), 0, data)).toThrow(expect.objectContaining({code: "INVALID_ARGUMENT"}));
    for (const ns of [32_768, -32_769, 1.5, Number.NaN]) {
      expect(() => messageHash(account, ns, data), `namespace ${ns}`).toThrow(
        expect.objectContaining({code: "INVALID_ARGUMENT"}),
      );
    }
  });
});

function blake2bB64(...parts: Uint8Array[]): string {
  return Buffer.from(blake2b256(...parts)).toString("base64").replace(/=+$/, "");
}
