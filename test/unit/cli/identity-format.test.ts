import {createHash} from "node:crypto";
import {describe, expect, it} from "vitest";
import {describeIdentity} from "../../../src/cli/identity-format.js";

describe("describeIdentity", () => {
  const identity = {
    nodeId: "07abc",
    mlDsa: {publicKey: new Uint8Array([1, 2])},
    mlKem: {publicKey: new Uint8Array([3])},
  };

  it("prints SHA-256 fingerprints by default", () => {
    const sha = (b: number[]): string => createHash("sha256").update(Uint8Array.from(b)).digest("hex");
    expect(describeIdentity(identity, "/k", false)).toEqual([
      "node ID: 07abc",
      `ML-DSA-65 public key SHA-256: ${sha([1, 2])}`,
      `ML-KEM-768 public key SHA-256: ${sha([3])}`,
      "key file: /k",
    ]);
  });

  it("prints whole keys with --full", () => {
    expect(describeIdentity(identity, "/k", true)).toEqual([
      "node ID: 07abc",
      "ML-DSA-65 public key: 0102",
      "ML-KEM-768 public key: 03",
      "key file: /k",
    ]);
  });
});
