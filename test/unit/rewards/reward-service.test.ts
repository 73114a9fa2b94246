/**
 * Three reward services on real (in-memory) stores, fetching each other's reports through a stub
 * peer call, driven by a manual clock: the same balances on every node, a node that was down for
 * three epochs earns nothing for them, forged or foreign reports are ignored, and claims.
 */
import {afterEach, describe, expect, it} from "vitest";
import {blsVerify, nobleBackend, pqKeysHash, initHashing} from "../../../src/crypto/index.js";
import {decodeClaimMessage} from "../../../src/protocol/index.js";
import {
  ClaimService,
  RewardService,
  blsClaimSigner,
  type RewardMemberRecord,
} from "../../../src/rewards/index.js";
import {InlineSigner} from "../../../src/signer/index.js";
import {RewardTables, type SqliteMessageStore} from "../../../src/storage/index.js";
import {ManualClock} from "../../../src/util/clock.js";
import {openTestStore} from "../../utils/store.js";

const EPOCH = 10_000;
const SETTLE = 4_000;
const GENESIS = 1_765_000_000_000;
const P = 10n ** 18n;

interface TestNode {
  id: string;
  store: SqliteMessageStore;
  tables: RewardTables;
  service: RewardService;
  claims: ClaimService;
  up: boolean;
  fees: bigint;
}

const stores: SqliteMessageStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

async function network(n: number, clock: ManualClock, claimThreshold = 10n ** 30n): Promise<TestNode[]> {
  await initHashing();
  const keys = Array.from({length: n}, (_, i) => {
    const dsa = nobleBackend.mlDsa65.keygen(new Uint8Array(32).fill(i + 1));
    const kem = nobleBackend.mlKem768.keygen(new Uint8Array(64).fill(i + 1));
    return {dsa, id: Buffer.from(pqKeysHash(kem.publicKey, dsa.publicKey)).toString("hex")};
  });
  const records: RewardMemberRecord[] = keys.map((k, i) => ({
    nodeId: k.id,
    mlDsaPublicKey: k.dsa.publicKey,
    stake: {operator: {address: `0xop${i}`, amount: 15_000n * P}, contributors: []},
  }));
  const nodes: TestNode[] = [];
  for (const [i, k] of keys.entries()) {
    const store = await openTestStore({}, {clock});
    stores.push(store);
    const tables = new RewardTables(store.db);
    const opts = {
      networkId: 7072,
      schedule: {epochMs: EPOCH, genesisMs: GENESIS},
      settleMs: SETTLE,
      totalSupply: 1_000_000_000n * P,
      claimLimits: {threshold: claimThreshold, cycleMs: 43_200_000},
      requestTimeoutMs: 1_000,
    };
    const node: TestNode = {id: k.id, store, tables, up: true, fees: 0n} as TestNode;
    node.service = new RewardService(opts, {
      clock,
      pq: nobleBackend,
      nodeId: k.id,
      tables,
      signer: new InlineSigner(nobleBackend, k.dsa.secretKey),
      members: () => records,
      feesOf: () => ({total: node.fees, swarmMembers: keys.map((x) => x.id)}),
      fetchReports: (peer, epoch) => {
        const target = nodes.find((x) => x.id === peer);
        if (target === undefined || !target.up) return Promise.reject(new Error("connect refused"));
        return Promise.resolve({reports: target.service.reportsOf(epoch)});
      },
      firstEpoch: {get: () => (store.getState("rewards_first_epoch") as number | null), set: (e) => store.setState("rewards_first_epoch", e)},
    });
    const blsKey = new Uint8Array(32);
    blsKey[31] = i + 1;
    node.claims = new ClaimService(opts, {clock, nodeId: k.id, tables, signer: blsClaimSigner(blsKey)});
    nodes.push(node);
  }
  return nodes;
}

async function passAll(nodes: readonly TestNode[]): Promise<void> {
  for (const node of nodes) if (node.up) await node.service.pass();
}

/** Runs passes every second of simulated time until `untilMs`. */
async function runUntil(nodes: readonly TestNode[], clock: ManualClock, untilMs: number): Promise<void> {
  while (clock.now() < untilMs) {
    clock.advance(1_000);
    await passAll(nodes);
  }
}

const balancesOf = (node: TestNode): unknown => (node.service.balances() as {balances: unknown}).balances;

describe("rewards/RewardService", () => {
  it("every node computes the same balances; a node down for three epochs earns nothing for them", async () => {
    const clock = new ManualClock(GENESIS - 500);
    const nodes = await network(3, clock);
    await passAll(nodes);
    nodes[0]!.fees = 1_000_000n;
    // Epoch 0 and 1 with everyone up.
    await runUntil(nodes, clock, GENESIS + 2 * EPOCH + SETTLE + 1_000);
    expect(nodes.map((n) => n.tables.lastFinalEpoch())).toEqual([1, 1, 1]);
    expect(balancesOf(nodes[1]!)).toEqual(balancesOf(nodes[0]!));
    expect(balancesOf(nodes[2]!)).toEqual(balancesOf(nodes[0]!));
    const before = nodes[2]!.tables.balance("0xop2")?.earned ?? 0n;
    expect(before > 0n).toBe(true);

    // Node 2 is down for epochs 2, 3, 4 and back in epoch 5.
    nodes[2]!.up = false;
    await runUntil(nodes, clock, GENESIS + 5 * EPOCH + 1_000);
    nodes[2]!.up = true;
    await runUntil(nodes, clock, GENESIS + 6 * EPOCH + SETTLE + 1_000);
    expect(nodes.map((n) => n.tables.lastFinalEpoch())).toEqual([5, 5, 5]);
    for (const e of [2, 3, 4]) {
      const result = JSON.parse(nodes[2]!.tables.epoch(e)!.result) as {nodes: Array<{node_id: string; eligible: boolean; reason: string}>};
      expect(result.nodes.find((x) => x.node_id === nodes[2]!.id), `epoch ${e}`).toMatchObject({eligible: false, reason: "no-report"});
      expect(nodes[0]!.tables.epoch(e)!.result, `epoch ${e}`).toBe(nodes[2]!.tables.epoch(e)!.result);
    }
    const epoch5 = JSON.parse(nodes[0]!.tables.epoch(5)!.result) as {nodes: Array<{eligible: boolean}>};
    expect(epoch5.nodes.every((x) => x.eligible)).toBe(true);
    expect(balancesOf(nodes[1]!)).toEqual(balancesOf(nodes[0]!));
    expect(balancesOf(nodes[2]!)).toEqual(balancesOf(nodes[0]!));
    // Node 2 earned in epochs 0, 1 and 5 only: the same as node 1 over those, less than node 0 (fees).
    const earned = (n: TestNode, a: string): bigint => n.tables.balance(a)?.earned ?? 0n;
    expect(earned(nodes[0]!, "0xop2") < earned(nodes[0]!, "0xop1")).toBe(true);
  });

  it("ignores reports that are forged, of another network, or by a non-member", async () => {
    const clock = new ManualClock(GENESIS + 1);
    const nodes = await network(2, clock);
    await runUntil(nodes, clock, GENESIS + EPOCH + 1_000);
    const own = nodes[1]!.service.reportsOf(0).find((r) => r.node_id === nodes[1]!.id)!;
    const forged = {...own, fees: {...own.fees, total: "999999"}};
    const foreign = {...own, network_id: 7070};
    const [a] = nodes;
    // The genuine report was fetched; drop every report held and let peer 1 serve only tampered copies.
    expect(a!.service.reportsOf(0).map((r) => r.node_id).sort()).toEqual([a!.id, nodes[1]!.id].sort());
    a!.tables.pruneReports(1);
    (nodes[1]!.service as unknown as {reportsOf: () => unknown[]}).reportsOf = () => [forged, foreign, {bogus: true}];
    await a!.service.pass();
    expect(a!.service.reportsOf(0).map((r) => r.node_id)).toEqual([a!.id]);
    // The genuine one is taken again.
    (nodes[1]!.service as unknown as {reportsOf: () => unknown[]}).reportsOf = () => [own];
    await a!.service.pass();
    expect(a!.service.reportsOf(0).find((r) => r.node_id === nodes[1]!.id)).toEqual(own);
  });
});

describe("rewards/ClaimService", () => {
  it("signs the documented message over the cumulative balance, refuses unknown, zero and over-threshold claims", async () => {
    const clock = new ManualClock(GENESIS - 500);
    const nodes = await network(3, clock, 10n ** 30n);
    await runUntil(nodes, clock, GENESIS + EPOCH + SETTLE + 1_000);
    const [a] = nodes;
    const claim = await a!.claims.claim("0xOP1");
    const decoded = decodeClaimMessage(claim.message);
    const earned = a!.tables.balance("0xop1")!.earned;
    expect(decoded).toEqual({networkId: 7072, address: "0xop1", amount: earned, expiryMs: claim.expiryMs});
    expect(claim.expiryMs % 60_000).toBe(0);
    expect(claim.expiryMs > clock.now() + 9 * 60_000 && claim.expiryMs <= clock.now() + 10 * 60_000).toBe(true);
    expect(blsVerify(claim.publicKey, claim.message, claim.signature)).toBe(true);

    await expect(a!.claims.claim("0xnobody")).rejects.toMatchObject({code: "REWARDS_ERROR_UNKNOWN_ADDRESS"});
    await expect(a!.claims.claim("")).rejects.toMatchObject({code: "REWARDS_ERROR_BAD_REQUEST"});
    await expect(a!.claims.claim(42)).rejects.toMatchObject({code: "REWARDS_ERROR_BAD_REQUEST"});
    a!.tables.finalizeEpoch({epoch: 99, startMs: 0, endMs: 1, result: "{}", finalizedAt: 0}, [{address: "0xzero", amount: 0n}]);
    await expect(a!.claims.claim("0xzero")).rejects.toMatchObject({code: "REWARDS_ERROR_NOTHING_TO_CLAIM"});
  });

  it("counts only the increase over the previous claim against the cycle's threshold", async () => {
    const clock = new ManualClock(GENESIS - 500);
    const nodes = await network(3, clock, 1n);
    await runUntil(nodes, clock, GENESIS + EPOCH + SETTLE + 1_000);
    const [a] = nodes;
    // Each operator earned far more than the 1-unit threshold: refused, and the retry time is the cycle's end.
    const err = await a!.claims.claim("0xop0").catch((e: unknown) => e);
    expect(err).toMatchObject({code: "REWARDS_ERROR_CLAIM_THRESHOLD"});
    const cycleEnd = (Math.floor(clock.now() / 43_200_000) + 1) * 43_200_000;
    expect((err as {type: {retryAtMs: number}}).type.retryAtMs).toBe(cycleEnd);
  });
});

describe("rewards/ClaimService under concurrent requests", () => {
  it("does not let two claims that arrive together both pass the threshold", async () => {
    const clock = new ManualClock(GENESIS - 500);
    const nodes = await network(3, clock);
    await runUntil(nodes, clock, GENESIS + EPOCH + SETTLE + 1_000);
    const [a] = nodes;
    const one = a!.tables.balance("0xop0")!.earned;
    const two = a!.tables.balance("0xop1")!.earned;
    // A threshold that fits either claim alone, not both.
    const claims = new ClaimService(
      {networkId: 7072, claimLimits: {threshold: one + two - 1n, cycleMs: 43_200_000}},
      {clock, nodeId: a!.id, tables: a!.tables, signer: {publicKey: new Uint8Array(48), sign: () => Promise.resolve(new Uint8Array(96))}},
    );
    const results = await Promise.allSettled([claims.claim("0xop0"), claims.claim("0xop1")]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
  });
});

describe("rewards/RewardService after a restart", () => {
  it("publishes no report for an epoch that ended while it was down, even when back within the settle window", async () => {
    const clock = new ManualClock(GENESIS - 500);
    const nodes = await network(2, clock);
    await runUntil(nodes, clock, GENESIS + EPOCH - 1_000);
    const [a, b] = nodes;
    // B goes down before epoch 0 ends and comes back (a new service on the same tables) 200 ms after.
    b!.up = false;
    clock.set(GENESIS + EPOCH + 200);
    const restarted = new RewardService(b!.service.opts, {
      ...(b!.service as unknown as {modules: ConstructorParameters<typeof RewardService>[1]}).modules,
      clock,
    });
    b!.service = restarted;
    b!.up = true;
    await runUntil(nodes, clock, GENESIS + EPOCH + SETTLE + 1_000);
    expect(a!.service.reportsOf(0).map((r) => r.node_id)).toEqual([a!.id]);
    const result = JSON.parse(b!.tables.epoch(0)!.result) as {nodes: Array<{node_id: string; reason: string | null}>};
    expect(result.nodes.find((n) => n.node_id === b!.id)?.reason).toBe("no-report");
    expect(b!.tables.epoch(0)!.result).toBe(a!.tables.epoch(0)!.result);
  });
});
