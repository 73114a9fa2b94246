import {describe, expect, it} from "vitest";
import {decodeClaimMessage, encodeClaimMessage, normalizeClaimAddress} from "../../../src/protocol/index.js";

const m = {networkId: 7072, address: "0xabc", amount: 10n ** 21n + 7n, expiryMs: 1_765_000_600_000};

describe("protocol/claim-message", () => {
  it("lays out tag, network, address, u256 amount and u64 expiry big-endian", () => {
    const bytes = encodeClaimMessage(m);
    const hex = Buffer.from(bytes).toString("hex");
    expect(Buffer.from(bytes.subarray(0, 21)).toString("ascii")).toBe("pars-rewards/v1/claim");
    expect(hex.slice(42)).toBe(
      "00001ba0" + "05" + Buffer.from("0xabc").toString("hex") +
        (10n ** 21n + 7n).toString(16).padStart(64, "0") + (1_765_000_600_000).toString(16).padStart(16, "0"),
    );
    expect(bytes.length).toBe(21 + 4 + 1 + 5 + 32 + 8);
    expect(decodeClaimMessage(bytes)).toEqual(m);
  });

  it("normalizes addresses to lowercase and refuses what cannot be one", () => {
    expect(normalizeClaimAddress("0xABC")).toBe("0xabc");
    for (const bad of ["", " 0xab", "0x\u00e9", "x".repeat(129)]) expect(normalizeClaimAddress(bad), JSON.stringify(bad)).toBeNull();
    expect(() => encodeClaimMessage({...m, address: "0xABC"})).toThrow(RangeError);
    expect(() => encodeClaimMessage({...m, amount: -1n})).toThrow(RangeError);
    expect(() => encodeClaimMessage({...m, amount: 1n << 256n})).toThrow(RangeError);
  });

  it("decodes nothing but an exact message", () => {
    const bytes = encodeClaimMessage(m);
    expect(decodeClaimMessage(bytes.subarray(0, bytes.length - 1))).toBeNull();
    expect(decodeClaimMessage(new Uint8Array([...bytes, 0]))).toBeNull();
    const wrongTag = Uint8Array.from(bytes);
    wrongTag[0] = 0x71;
    expect(decodeClaimMessage(wrongTag)).toBeNull();
    expect(decodeClaimMessage(new Uint8Array(0))).toBeNull();
  });
});
