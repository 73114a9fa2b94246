/**
 * Reward accounting and claims on a devnet of three real nodes on loopback (issue #18 "Done when"):
 * 2-second reward epochs with a 1-second settle window, genesis a few seconds after the nodes
 * start (so all of them account from epoch 0), an inflation pool of ~3 PARS per epoch. Three nodes
 * are the fewest for which "≥ 2/3 of the stake" is a real quorum (two of three) that a stopped node
 * cannot block. Storage proofs are off: eligibility here is the epoch report (a stopped node
 * publishes none); failed challenges are covered by test/unit/rewards.
 */
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {HttpClient, aggregateClaim, verifyClaim, type ClaimNode} from "../../src/client/index.js";
import {SwarmHarness, PARS, getJson, rpc, waitFor, type TestNode} from "../utils/swarm-harness.js";

const EPOCH_MS = 2_000;
const GENESIS_MS = Math.ceil((Date.now() + 8_000) / EPOCH_MS) * EPOCH_MS;
const THRESHOLD = 20n * PARS;
const h = new SwarmHarness({
  mode: "balanced",
  flags: {
    "proofs.enabled": "false",
    "rewards.epochMs": String(EPOCH_MS),
    "rewards.genesisMs": String(GENESIS_MS),
    "rewards.settleMs": "1000",
    // ~3 PARS of inflation per 2 s epoch (8 % a year), ~1 PARS per node.
    "rewards.totalSupply": (591_300_000n * PARS).toString(),
    "rewards.claimThreshold": THRESHOLD.toString(),
  },
});
const labels = ["rewards/0", "rewards/1", "rewards/2"];
const operator = (n: TestNode): string => `0x${n.node.nodeId.slice(0, 40)}`;
const epochAt = (ms: number): number => Math.floor((ms - GENESIS_MS) / EPOCH_MS);

interface Balances {
  last_final_epoch: number | null;
  balances: Array<{address: string; earned: string}>;
}
interface EpochResult {
  epoch: number;
  nodes: Array<{node_id: string; eligible: boolean; reason: string | null}>;
  addresses: Array<{address: string; amount: string}>;
}

async function balances(n: TestNode): Promise<Balances> {
  const res = await getJson(n.pool, "/rewards/v1/balances");
  expect(res.status).toBe(200);
  return res.body as Balances;
}

async function epochs(n: TestNode): Promise<Map<number, EpochResult>> {
  const res = await getJson(n.pool, "/rewards/v1/epochs?limit=1000");
  expect(res.status).toBe(200);
  return new Map((res.body.epochs as EpochResult[]).map((e) => [e.epoch, {epoch: e.epoch, nodes: e.nodes, addresses: e.addresses}]));
}

/** Balances of every node read while all have the same newest final epoch (≥ `atLeast`). */
async function agreedBalances(nodes: readonly TestNode[], atLeast: number): Promise<Balances[]> {
  let seen: Balances[] = [];
  await waitFor(`every node final at the same epoch ≥ ${atLeast}`, async () => {
    seen = await Promise.all(nodes.map(balances));
    const last = seen[0]?.last_final_epoch ?? null;
    return last !== null && last >= atLeast && seen.every((b) => b.last_final_epoch === last);
  }, 30_000);
  return seen;
}

afterAll(() => h.close());

beforeAll(async () => {
  for (const label of labels) await h.startNode(label);
  h.writeMembership(await h.nodeRecords());
  await waitFor("every node ready", async () => (await Promise.all(h.nodes.map((n) => rpc(n.pool, "info", {})))).every((r) => r.status === 200));
  expect(Date.now()).toBeLessThan(GENESIS_MS);
}, 60_000);

describe("rewards on a devnet", () => {
  it("every node reports the same balances after an epoch", async () => {
    const seen = await agreedBalances(h.nodes, 1);
    expect(seen[0]!.balances.length).toBe(3);
    for (const b of seen) expect(b.balances, "same balances on every node").toEqual(seen[0]!.balances);
    for (const n of h.nodes) expect(BigInt(seen[0]!.balances.find((x) => x.address === operator(n))!.earned) > 0n).toBe(true);
  }, 60_000);

  it("a node stopped for three epochs earns nothing for them, and every node agrees", async () => {
    const stopped = h.nodes[2]!;
    const {label, port} = stopped;
    await h.stopNode(stopped);
    const stoppedAt = Date.now();
    // The first epoch entirely after the stop, and three more full ones.
    const firstMissed = epochAt(stoppedAt) + 1;
    await waitFor("three whole epochs to pass", () => epochAt(Date.now()) >= firstMissed + 3, 20_000);
    const back = await h.startNode(label, {port});
    const restartedAt = Date.now();
    const lastMissed = epochAt(restartedAt) - 1;
    expect(lastMissed - firstMissed + 1).toBeGreaterThanOrEqual(3);
    await waitFor("the restarted node ready", async () => (await rpc(back.pool, "info", {})).status === 200);
    const seen = await agreedBalances(h.nodes, epochAt(restartedAt) + 1);
    for (const b of seen) expect(b.balances, "same balances on every node").toEqual(seen[0]!.balances);

    const results = await Promise.all(h.nodes.map(epochs));
    for (let e = firstMissed; e <= lastMissed; e++) {
      const mine = results[2]!.get(e);
      expect(mine?.nodes.find((x) => x.node_id === back.node.nodeId), `epoch ${e}`).toMatchObject({eligible: false, reason: "no-report"});
      expect(mine?.addresses.find((x) => x.address === operator(back)), `epoch ${e}`).toBeUndefined();
      for (const r of results) expect(r.get(e), `epoch ${e} the same on every node`).toEqual(mine);
    }
    // After it is back it earns again.
    const later = results[0]!.get(epochAt(restartedAt) + 1);
    expect(later?.nodes.find((x) => x.node_id === back.node.nodeId)?.eligible).toBe(true);
  }, 90_000);

  it("a claim for an operator address gathers ≥ 2/3 of the stake, verifies, expires; over the threshold it is refused", async () => {
    const [a, b] = h.nodes;
    // Precondition for the threshold check: A's balance fits in the threshold, A's and B's together do not.
    await waitFor("A and B to have earned more than the threshold together", async () => {
      const {balances: list} = await balances(a!);
      const sum = list.filter((x) => x.address === operator(a!) || x.address === operator(b!)).reduce((s, x) => s + BigInt(x.earned), 0n);
      return sum > THRESHOLD;
    }, 60_000);
    const http = new HttpClient({timeoutMs: 5_000});
    const nodes: ClaimNode[] = h.nodes.map((n) => ({nodeId: n.node.nodeId, url: n.url, stake: 15_000n * PARS, blsPublicKey: n.node.bls.publicKey}));
    const claim = await aggregateClaim({address: operator(a!).toUpperCase(), nodes, http, networkId: 7072});
    expect(claim.signers.length).toBeGreaterThanOrEqual(2);
    expect(3n * claim.signedStake >= 2n * claim.totalStake).toBe(true);
    expect(claim.claim.address).toBe(operator(a!));
    expect(claim.claim.amount <= THRESHOLD).toBe(true);
    const now = Date.now();
    expect(verifyClaim({message: claim.message, signature: claim.signature, publicKeys: claim.publicKeys, nowMs: now, networkId: 7072})).toEqual(claim.claim);
    expect(claim.claim.expiryMs > now + 8 * 60_000 && claim.claim.expiryMs <= now + 10 * 60_000).toBe(true);
    // Expired: the same aggregate a millisecond after its expiry.
    expect(() => verifyClaim({message: claim.message, signature: claim.signature, publicKeys: claim.publicKeys, nowMs: claim.claim.expiryMs + 1})).toThrow(
      expect.objectContaining({code: "CLIENT_ERROR_CLAIM_INVALID", type: {code: "CLIENT_ERROR_CLAIM_INVALID", reason: "expired"}}),
    );
    // Tampered amount: does not verify.
    const forged = Uint8Array.from(claim.message);
    forged[forged.length - 9] = (forged[forged.length - 9] ?? 0) ^ 1;
    expect(() => verifyClaim({message: forged, signature: claim.signature, publicKeys: claim.publicKeys, nowMs: now})).toThrow(
      expect.objectContaining({code: "CLIENT_ERROR_CLAIM_INVALID"}),
    );

    // B's claim would take this cycle's signed total past the threshold: every node refuses it.
    for (const n of h.nodes) {
      const res = await n.pool.request({path: "/rewards/v1/claim", method: "POST", body: JSON.stringify({address: operator(b!)})});
      const body = (await res.body.json()) as {error: string};
      expect(res.statusCode, n.label).toBe(429);
      expect(body.error).toBe("REWARDS_ERROR_CLAIM_THRESHOLD");
      expect(Number(res.headers["retry-after"])).toBeGreaterThan(0);
    }
    await expect(aggregateClaim({address: operator(b!), nodes, http})).rejects.toMatchObject({code: "CLIENT_ERROR_CLAIM_QUORUM"});
    // Unknown address and bad input: clear errors, nothing signed.
    const unknown = await h.nodes[0]!.pool.request({path: "/rewards/v1/claim", method: "POST", body: JSON.stringify({address: "0xnobody"})});
    expect(unknown.statusCode).toBe(404);
    expect(((await unknown.body.json()) as {error: string}).error).toBe("REWARDS_ERROR_UNKNOWN_ADDRESS");
    const bad = await h.nodes[0]!.pool.request({path: "/rewards/v1/claim", method: "POST", body: "{"});
    expect(bad.statusCode).toBe(400);
    await bad.body.dump();
    // Each signer records the amount it signed. A node that finalised one more epoch before it was
    // asked signed a larger amount that found no quorum, so only the signers' records are compared.
    for (const id of claim.signers) {
      const signer = h.nodes.find((n) => n.node.nodeId === id)!;
      expect((await getJson(signer.pool, `/rewards/v1/balances/${operator(a!)}`)).body.last_claim, signer.label).toBe(claim.claim.amount.toString());
    }
    await http.close();
  }, 90_000);
});
