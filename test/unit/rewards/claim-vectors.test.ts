/**
 * Claim vectors from supranational blst (test/fixtures/rewards/gen-vectors.ts): the node's claim
 * encoder gives the same bytes as the generator's hand-written layout, the node's signer the same
 * signatures, and aggregation and verifyClaim agree with blst's aggregate.
 */
import {readFileSync} from "node:fs";
import {describe, expect, it} from "vitest";
import {verifyClaim} from "../../../src/client/index.js";
import {blsAggregatePublicKeys, blsAggregateSignatures} from "../../../src/crypto/index.js";
import {decodeClaimMessage, encodeClaimMessage} from "../../../src/protocol/index.js";
import {blsClaimSigner} from "../../../src/rewards/index.js";

interface Vectors {
  keys: Array<{secretKey: string; publicKey: string}>;
  vectors: Array<{
    claim: {networkId: number; address: string; amount: string; expiryMs: number};
    message: string;
    signatures: string[];
    aggregateSignature: string;
    aggregatePublicKey: string;
  }>;
}

const file = JSON.parse(readFileSync(new URL("../../fixtures/rewards/claim-vectors.json", import.meta.url), "utf8")) as Vectors;
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, "hex"));

describe("rewards: claim vectors (blst)", () => {
  const signers = file.keys.map((k) => blsClaimSigner(bytes(k.secretKey)));

  it("has the node's public keys for blst's secret keys", () => {
    expect(signers.map((s) => hex(s.publicKey))).toEqual(file.keys.map((k) => k.publicKey));
  });

  for (const [i, v] of file.vectors.entries()) {
    it(`vector ${i}: message bytes, signatures, aggregate, verifyClaim`, async () => {
      const claim = {...v.claim, amount: BigInt(v.claim.amount)};
      expect(hex(encodeClaimMessage(claim))).toBe(v.message);
      expect(decodeClaimMessage(bytes(v.message))).toEqual(claim);
      const sigs = await Promise.all(signers.map(async (s) => s.sign(bytes(v.message))));
      expect(sigs.map(hex)).toEqual(v.signatures);
      expect(hex(blsAggregateSignatures(sigs))).toBe(v.aggregateSignature);
      expect(hex(blsAggregatePublicKeys(signers.map((s) => s.publicKey)))).toBe(v.aggregatePublicKey);
      const publicKeys = file.keys.map((k) => bytes(k.publicKey));
      const signature = bytes(v.aggregateSignature);
      expect(verifyClaim({message: bytes(v.message), signature, publicKeys, nowMs: claim.expiryMs})).toEqual(claim);
      expect(() => verifyClaim({message: bytes(v.message), signature, publicKeys, nowMs: claim.expiryMs + 1})).toThrow(
        expect.objectContaining({code: "CLIENT_ERROR_CLAIM_INVALID"}),
      );
      // Two of the three keys: the three-key aggregate does not verify against them.
      expect(() => verifyClaim({message: bytes(v.message), signature, publicKeys: publicKeys.slice(0, 2), nowMs: 0})).toThrow(
        expect.objectContaining({type: {code: "CLIENT_ERROR_CLAIM_INVALID", reason: "bad-signature"}}),
      );
    });
  }
});
