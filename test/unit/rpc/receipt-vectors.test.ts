import {afterEach, describe, expect, it} from "vitest";
import vectors from "../../fixtures/signing/receipt-vectors.json" with {type: "json"};
import type {StoreQuote} from "../../../src/economics/index.js";
import {verifySignedReceipt} from "../../../src/signing/response-signer.js";
import {rpcHarness, type RpcHarness} from "../../utils/rpc-harness.js";

type QuoteJson = (typeof vectors.feeQuotes)["new"];

/** The fee stub the vectors assume: a fixed quote for a new mailbox, another message, a re-store. */
function stubFees(): {quote(bytes: number, newMailbox: boolean): StoreQuote; charge(): void} {
  const big = (q: QuoteJson): StoreQuote => ({
    kilobytes: 1n,
    baseFee: BigInt(q.base_fee),
    multiplier: BigInt(q.multiplier),
    storageFee: BigInt(q.storage_fee),
    sessionCreateFee: BigInt(q.session_create_fee),
    total: BigInt(q.total),
  });
  const q = vectors.feeQuotes;
  return {quote: (bytes, newMailbox) => big(bytes === 0 ? q.zero : newMailbox ? q.newMailbox : q.new), charge: () => {}};
}

let h: RpcHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

describe("receipt strings match the independent vectors (Client RPC §3)", () => {
  it.each(vectors.scenarios.map((s) => [s.fees ? "with fees" : "without fees", s] as const))("%s", async (_name, scenario) => {
    const harness = await rpcHarness({nowMs: vectors.now});
    h = harness;
    if (scenario.fees) harness.ctx.fees = stubFees();
    for (const step of scenario.steps) {
      const res = await harness.json(step.method, step.params);
      expect(res.status, `${step.name}: ${JSON.stringify(res.body)}`).toBe(200);
      const entry = res.body.swarm[harness.identity.nodeId];
      const receipt = "receipt_hex" in step ? Buffer.from(step.receipt_hex as string, "hex") : Buffer.from(step.receipt);
      const ok = verifySignedReceipt(harness.ctx.pq, harness.identity.nodeId, harness.identity.mlDsa.publicKey, receipt, entry);
      expect(ok, `${step.name}: receipt ${receipt.toString("latin1")}`).toBe(true);
      if ("entry" in step) expect(entry, step.name).toMatchObject(step.entry as object);
    }
  });
});
