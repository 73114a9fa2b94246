import {describe, expect, it} from "vitest";
import vectors from "../../fixtures/signing/receipt-vectors.json" with {type: "json"};
import {generateIdentity} from "../../../src/crypto/identity.js";
import {buildTree, leafHash} from "../../../src/receipts/receipt-tree.js";
import {batchHeader} from "../../../src/protocol/index.js";
import {verifySignedReceipt} from "../../../src/receipts/response-signer.js";
import {testPq} from "../../utils/rpc-harness.js";

const batch = vectors.batch;
const hex = (s: string): Buffer => Buffer.from(s, "hex");

describe("response batch vectors (pyca/cryptography, FIPS 204 context pars-storage/v1/response-batch)", () => {
  it("derives the same node key and ID from the seeds, and the same tree and header", async () => {
    const identity = generateIdentity(await testPq(), {mlDsa: hex(batch.mldsaSeed), mlKem: hex(batch.mlkemSeed)});
    expect(Buffer.from(identity.mlDsa.publicKey).toString("hex")).toBe(batch.pubkeyMldsa);
    expect(identity.nodeId).toBe(batch.nodeId);
    const {root, paths} = buildTree(batch.entries.map((e) => leafHash(Buffer.from(e.receipt))));
    expect(root.toString("hex")).toBe(batch.root);
    expect(paths.map((p) => p.map((x) => x.toString("base64")))).toEqual(batch.entries.map((e) => e.signature_proof.path));
    expect(batchHeader(batch.nodeId, batch.t, batch.entries.length, root).toString("hex")).toBe(batch.header);
  });

  it("accepts every entry signed by the independent implementation and rejects a changed receipt", async () => {
    const pq = await testPq();
    for (const e of batch.entries) {
      const ok = verifySignedReceipt(pq, batch.nodeId, hex(batch.pubkeyMldsa), Buffer.from(e.receipt), e);
      expect(ok, e.receipt).toBe(true);
      // One more space-separated field, or the fee of another quote, must not verify.
      expect(verifySignedReceipt(pq, batch.nodeId, hex(batch.pubkeyMldsa), Buffer.from(`${e.receipt} `), e)).toBe(false);
    }
    const sig = Buffer.from(batch.entries[0]!.signature, "base64");
    expect(pq.mlDsa65.verify(hex(batch.pubkeyMldsa), hex(batch.header), sig, new TextEncoder().encode(batch.context))).toBe(true);
    expect(pq.mlDsa65.verify(hex(batch.pubkeyMldsa), hex(batch.header), sig, new Uint8Array(0))).toBe(false);
  });
});
