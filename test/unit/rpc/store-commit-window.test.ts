import {afterEach, beforeEach, describe, expect, it, vi} from "vitest";
import type {RpcResponse} from "../../../src/protocol/response.js";
import {sessionAccount} from "../../utils/keys.js";
import {rpcHarness, type RpcHarness} from "../../utils/rpc-harness.js";

const DAY = 86_400_000;
const b64 = (s: string): string => Buffer.from(s).toString("base64");
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** This node's entry in a store answer. */
function entry(h: RpcHarness, res: RpcResponse): {signature: string; signature_proof: {n: number; i: number}} {
  expect(res.status).toBe(200);
  return (res.body as {swarm: Record<string, {signature: string; signature_proof: {n: number; i: number}}>}).swarm[h.identity.nodeId] as never;
}

// The harness signs with signing.maxBatchDelayMs 0: a commit's receipts are signed together once it settles.
describe("stores arriving one by one, storage.commitDelayMs with signing.maxBatchDelayMs 0", () => {
  let h: RpcHarness;
  afterEach(async () => {
    vi.useRealTimers();
    await h.close();
  });

  async function storeInTwoTurns(): Promise<{answers: RpcResponse[]; commits: number}> {
    const acc = sessionAccount();
    const params = {pubkey: acc.hex, namespace: -10, timestamp: h.clock.now(), ttl: DAY};
    const before = h.store.writeStats().commits;
    const first = h.call("store", {...params, data: b64("one")});
    await nextTurn();
    await nextTurn();
    const second = h.call("store", {...params, data: b64("two")});
    vi.advanceTimersByTime(50);
    const answers = await Promise.all([first, second]);
    return {answers, commits: h.store.writeStats().commits - before};
  }

  beforeEach(() => vi.useFakeTimers({toFake: ["setTimeout", "clearTimeout"]}));

  it("without a commit delay, each turn's store commits and is signed on its own", async () => {
    h = await rpcHarness();
    const {answers, commits} = await storeInTwoTurns();
    expect(commits).toBe(2);
    expect(answers.map((a) => entry(h, a).signature_proof.n)).toEqual([1, 1]);
  });

  it("with one, stores of separate turns within it share one commit and one batch signature", async () => {
    h = await rpcHarness({commitDelayMs: 50});
    const {answers, commits} = await storeInTwoTurns();
    expect(commits).toBe(1);
    const [a, b] = answers.map((x) => entry(h, x));
    expect([a?.signature_proof.n, b?.signature_proof.n]).toEqual([2, 2]);
    expect([a?.signature_proof.i, b?.signature_proof.i]).toEqual([0, 1]);
    expect(a?.signature).toBe(b?.signature);
  });
});
