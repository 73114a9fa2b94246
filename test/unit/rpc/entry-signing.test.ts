/**
 * An entry node's own store receipt is signed once the fan-out's entries are in (its answer waits
 * for them anyway), together with the receipts of the other stores answered at the same time: one
 * batch signature per fan-out cohort. A node alone in its swarm signs at its commit, as before.
 */
import {afterEach, describe, expect, it} from "vitest";
import type {PeerEntry} from "../../../src/protocol/response.js";
import type {SwarmRouter} from "../../../src/swarm/swarm-router.js";
import {sessionAccount} from "../../utils/keys.js";
import {rpcHarness, type RpcHarness} from "../../utils/rpc-harness.js";

const DAY = 86_400_000;
const PEER = "ab".repeat(32);

let h: RpcHarness;
afterEach(() => h.close());

const acc = sessionAccount();
const storeParams = (i: number, ts: number): Record<string, unknown> => ({
  pubkey: acc.hex,
  timestamp: ts,
  ttl: DAY,
  data: Buffer.from(`message ${i}`).toString("base64"),
});

/** A swarm of us and one peer whose entries come in when `answer()` is called. */
function heldSwarm(): {router: SwarmRouter; answer: () => void} {
  let answer: () => void = () => {};
  const answered = new Promise<void>((r) => (answer = r));
  const entry: PeerEntry = {failed: true, timeout: true};
  return {
    answer,
    router: {
      notReadyReasons: () => [],
      isOurs: () => true,
      swarmFor: () => ({snodes: [], swarm: "0"}),
      forward: () => answered.then(() => ({[PEER]: entry})),
    },
  };
}

/** Resolves once `n` stores have committed in the harness's message store. */
function countCommits(h: RpcHarness, n: number): Promise<void> {
  const store = h.ctx.store;
  const original = store.store.bind(store);
  let done = 0;
  let all: () => void = () => {};
  const committed = new Promise<void>((r) => (all = r));
  store.store = async (...args) => {
    const result = await original(...args);
    if (++done === n) all();
    return result;
  };
  return committed;
}

/** A few loop iterations: time for anything already due (a commit's continuations, a signature) to run. */
async function iterations(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

describe("the entry node's own receipt", () => {
  it("is signed after the peers' entries are in, the cohort's receipts in one batch", async () => {
    const swarm = heldSwarm();
    h = await rpcHarness({router: swarm.router});
    const committed = countCommits(h, 3);
    const answers = [1, 2, 3].map((i) => h.json("store", storeParams(i, h.clock.now())));
    await committed;
    await iterations(5);
    // Stored, but nothing signed while the fan-out is out.
    expect(h.ctx.signer.stats.batches).toBe(0);
    swarm.answer();
    const res = await Promise.all(answers);
    for (const r of res) {
      expect(r.status).toBe(200);
      expect(r.body.swarm[h.identity.nodeId].signature_proof.n).toBe(3);
      expect(r.body.swarm[PEER]).toEqual({failed: true, timeout: true});
    }
    expect(h.ctx.signer.stats).toEqual({batches: 1, receipts: 3});
  });

  it("is signed at its commit on a node alone in its swarm", async () => {
    h = await rpcHarness();
    const res = await h.json("store", storeParams(1, h.clock.now()));
    expect(res.status).toBe(200);
    expect(h.ctx.signer.stats).toEqual({batches: 1, receipts: 1});
  });
});
