import {readFileSync} from "node:fs";
import {describe, expect, it} from "vitest";
import {
  NO_SWARM_ID,
  nodeSwarm,
  normaliseAccountId,
  sha256Prefix64,
  swarmCount,
  swarmIdFromWire,
  swarmIdToWire,
  userSwarm,
} from "../../../src/swarm/mapping.js";

interface Vectors {
  swarmCount: Array<{n: number; count: number}>;
  nodeSwarm: Array<{key: string; prefix64: string; swarms: Record<string, string>}>;
  userSwarm: Array<{accountId: string; prefix64: string; swarms: Record<string, string>}>;
  swarmIdWire: Array<{id: string; wire: string}>;
}

const vectors = JSON.parse(
  readFileSync(new URL("../../fixtures/swarm/vectors.json", import.meta.url), "utf8"),
) as Vectors;

/** The fixture's fixed keys, rebuilt from their names. */
const FIXED_KEYS: Record<string, (i: number) => number> = {
  "i*7 mod 256": (i) => (i * 7) % 256,
  "(i*7+1) mod 256": (i) => (i * 7 + 1) % 256,
  "(i*13+5) mod 256": (i) => (i * 13 + 5) % 256,
};

describe("swarmCount (PIP-0008 §3.3)", () => {
  it("matches the hashlib vectors", () => {
    for (const {n, count} of vectors.swarmCount) expect(swarmCount(n), `n=${n}`).toBe(count);
  });

  it("is 1 below 3 nodes and ceil(n/5) from 3", () => {
    for (let n = 0; n < 3; n++) expect(swarmCount(n), `n=${n}`).toBe(1);
    for (let n = 3; n <= 2000; n++) expect(swarmCount(n), `n=${n}`).toBe(Math.ceil(n / 5));
  });

  it("rejects negative and fractional counts", () => {
    expect(() => swarmCount(-1)).toThrow(expect.objectContaining({code: "INVALID_ARGUMENT"}));
    expect(() => swarmCount(2.5)).toThrow(expect.objectContaining({code: "INVALID_ARGUMENT"}));
  });
});

describe("nodeSwarm (PIP-0008 §3.1)", () => {
  it("matches the hashlib vectors for fixed 1952-byte keys", () => {
    expect(vectors.nodeSwarm).toHaveLength(3);
    for (const {key, prefix64, swarms} of vectors.nodeSwarm) {
      const byte = FIXED_KEYS[key];
      if (byte === undefined) throw new Error(`unknown fixture key ${key}`);
      const pk = Uint8Array.from({length: 1952}, (_, i) => byte(i));
      expect(sha256Prefix64(pk), key).toBe(BigInt(prefix64));
      for (const [count, swarm] of Object.entries(swarms)) {
        expect(nodeSwarm(pk, Number(count)), `${key} count=${count}`).toBe(BigInt(swarm));
      }
    }
  });

  it("rejects a zero or negative swarm count", () => {
    expect(() => nodeSwarm(new Uint8Array(1952), 0)).toThrow(expect.objectContaining({code: "INVALID_ARGUMENT"}));
    expect(() => nodeSwarm(new Uint8Array(1952), -3)).toThrow(expect.objectContaining({code: "INVALID_ARGUMENT"}));
  });
});

describe("userSwarm (PIP-0008 §3.1)", () => {
  it("matches the hashlib vectors (the prefix is part of the hashed string)", () => {
    for (const {accountId, prefix64, swarms} of vectors.userSwarm) {
      expect(sha256Prefix64(new TextEncoder().encode(accountId.toLowerCase())), accountId).toBe(BigInt(prefix64));
      for (const [count, swarm] of Object.entries(swarms)) {
        expect(userSwarm(accountId, Number(count)), `${accountId} count=${count}`).toBe(BigInt(swarm));
      }
    }
  });

  it("maps an uppercase account ID like its lowercase form", () => {
    const lower = vectors.userSwarm.find((v) => v.accountId === v.accountId.toLowerCase() && v.accountId.startsWith("05"));
    const upper = vectors.userSwarm.find((v) => v.accountId !== v.accountId.toLowerCase());
    expect(upper?.accountId.toLowerCase()).toBe(lower?.accountId);
    for (const count of [1, 2, 5, 200, 7919]) {
      expect(userSwarm(upper?.accountId ?? "", count), `count=${count}`).toBe(userSwarm(lower?.accountId ?? "", count));
    }
  });

  it("treats 05 and 07 prefixes of the same 32 bytes as different accounts", () => {
    const body = "ab".repeat(32);
    expect(sha256Prefix64(new TextEncoder().encode(`05${body}`))).not.toBe(
      sha256Prefix64(new TextEncoder().encode(`07${body}`)),
    );
  });

  it("rejects anything but 66 hex characters", () => {
    for (const bad of ["", "05", "05".padEnd(64, "0"), "05".padEnd(68, "0"), `0x${"0".repeat(64)}`, `05${"g".repeat(64)}`]) {
      expect(() => userSwarm(bad, 5), JSON.stringify(bad)).toThrow(expect.objectContaining({code: "INVALID_ARGUMENT"}));
    }
    expect(normaliseAccountId(`05${"AB".repeat(32)}`)).toBe(`05${"ab".repeat(32)}`);
  });
});

describe("swarm ID wire format", () => {
  it("is lowercase hex without 0x or padding, like Session", () => {
    for (const {id, wire} of vectors.swarmIdWire) {
      expect(swarmIdToWire(BigInt(id)), id).toBe(wire);
      expect(swarmIdFromWire(wire), wire).toBe(BigInt(id));
    }
    expect(swarmIdToWire(NO_SWARM_ID)).toBe("ffffffffffffffff");
  });

  it("rejects non-canonical or out-of-range text", () => {
    for (const bad of ["", "00", "01", "0x1", "1A", "-1", "1".repeat(17), " 1"]) {
      expect(swarmIdFromWire(bad), JSON.stringify(bad)).toBeNull();
    }
    expect(() => swarmIdToWire(-1n)).toThrow(expect.objectContaining({code: "INVALID_ARGUMENT"}));
    expect(() => swarmIdToWire(2n ** 64n)).toThrow(expect.objectContaining({code: "INVALID_ARGUMENT"}));
  });
});
