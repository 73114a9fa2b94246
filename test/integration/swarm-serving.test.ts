/**
 * Serving by swarm with real nodes on loopback (in-process StorageNodes, OS-chosen ports, a static
 * membership file): 421 redirects, get_swarm agreement, record exclusion and membership growth.
 * Mode pip0008 (the default), with identities picked so both swarms of the first 6 nodes are used.
 */
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {sessionAccount, sessionHash, type SessionAccount} from "../utils/keys.js";
import {DEVNET_ID, PARS, SwarmHarness, getJson, identityFor, pickLabels, rpc, waitFor, type TestNode} from "../utils/swarm-harness.js";

const h = new SwarmHarness({mode: "pip0008"});
let invalid: unknown[] = [];

afterAll(() => h.close());

beforeAll(async () => {
  const isSwarm = (id: bigint) => (s: bigint) => s === id;
  const labels = await pickLabels("serving", 2, [isSwarm(0n), isSwarm(0n), isSwarm(0n), isSwarm(1n), isSwarm(1n), isSwarm(1n)]);
  for (const label of labels) await h.startNode(label);
  invalid = await invalidRecords();
});

/** Five records no node may accept: each breaks one rule. */
async function invalidRecords(): Promise<unknown[]> {
  const badSignature = {...(await h.record("ghost/sig", 40001)), port: 40002};
  const wrongNetwork = await h.record("ghost/net", 40003, {networkId: 7071});
  const ineligible = await h.record("ghost/stake", 40004, {operatorAmount: 100n * PARS});
  const other = await identityFor("ghost/id");
  const mismatch = {...(await h.record("ghost/mismatch", 40005)), nodeId: other.nodeId};
  const {signature: _s, ...malformed} = await h.record("ghost/malformed", 40006);
  return [badSignature, wrongNetwork, ineligible, mismatch, malformed];
}

const REJECTED_CODES = [
  "NODE_RECORD_ERROR_BAD_SIGNATURE",
  "NODE_RECORD_ERROR_WRONG_NETWORK",
  "NODE_RECORD_ERROR_STAKE_INELIGIBLE",
  "NODE_RECORD_ERROR_NODE_ID_MISMATCH",
  "NODE_RECORD_ERROR_MALFORMED",
];

async function nodesView(n: TestNode): Promise<any> {
  const res = await getJson(n.pool, "/network/v1/nodes");
  return res.status === 200 ? res.body : null;
}

async function allAgree(count: number, swarmCount: number): Promise<boolean> {
  const views = await Promise.all(h.nodes.map(nodesView));
  return views.every((v) => v !== null && v.nodes.length === count && v.swarm_count === swarmCount);
}

/** get_swarm from every node, minus `t`; asserts they are identical and returns the body. */
async function agreedSwarm(account: string): Promise<{snodes: Array<{node_id: string}>; swarm: string}> {
  const answers = await Promise.all(h.nodes.map((n) => rpc(n.pool, "get_swarm", {pubkey: account})));
  const bodies = answers.map(({status, body}): {snodes: Array<{node_id: string}>; swarm: string} => {
    expect(status).toBe(200);
    const {t: _t, ...rest} = body as {t: number; snodes: Array<{node_id: string}>; swarm: string};
    return rest;
  });
  for (const [i, body] of bodies.entries()) expect(body, `get_swarm(${account}) at node ${i}`).toEqual(bodies[0]);
  return bodies[0]!;
}

function storeParams(acc: SessionAccount, text: string): object {
  return {pubkey: acc.hex, timestamp: Date.now(), ttl: 3_600_000, data: Buffer.from(text).toString("base64")};
}

function retrieveParams(acc: SessionAccount): object {
  const ts = Date.now();
  return {pubkey: acc.hex, pubkey_ed25519: acc.ed.pub.toString("hex"), timestamp: ts, signature: acc.ed.sign(`retrieve${ts}`).toString("base64")};
}

function storedAt(n: TestNode, account: string): number {
  const result = n.node.store.retrieve({account, namespace: 0, afterHash: null, maxCount: 100, maxSize: 1e9, sizeOf: () => 1});
  return result.messages.length;
}

/** Stores for `acc` at every node: exactly the swarm's members accept, the others 421 with those members. */
async function checkServing(acc: SessionAccount, text: string): Promise<void> {
  const {snodes, swarm} = await agreedSwarm(acc.hex);
  const members = snodes.map((s) => s.node_id).sort();
  expect(members.length).toBeGreaterThan(0);
  for (const s of snodes) expect(s).toHaveProperty("pubkey_x25519", expect.stringMatching(/^[0-9a-f]{64}$/));
  for (const n of h.nodes) {
    const res = await rpc(n.pool, "store", storeParams(acc, text));
    const ours = members.includes(n.node.nodeId);
    expect(res.status, `store for ${acc.hex} at ${n.label} (member: ${ours})`).toBe(ours ? 200 : 421);
    if (ours) {
      // Replication: the entry node answers with every member's entry (docs/PROTOCOL.md (Replication) §2).
      expect(Object.keys(res.body.swarm).sort()).toEqual(members);
      continue;
    }
    expect(res.body.swarm).toBe(swarm);
    expect(res.body.snodes.map((s: {node_id: string}) => s.node_id).sort()).toEqual(members);
    expect(typeof res.body.t).toBe("number");
    expect(storedAt(n, acc.hex), `no copy of ${acc.hex} at ${n.label}`).toBe(0);
  }
  const hash = sessionHash(acc.hex, 0, Buffer.from(text));
  for (const n of h.nodes) {
    const res = await rpc(n.pool, "retrieve", retrieveParams(acc));
    if (members.includes(n.node.nodeId)) {
      expect(res.status).toBe(200);
      expect(res.body.messages.map((m: {hash: string}) => m.hash)).toContain(hash);
    } else {
      expect(res.status, `retrieve at ${n.label}`).toBe(421);
      expect(res.body.snodes.map((s: {node_id: string}) => s.node_id).sort()).toEqual(members);
    }
  }
}

describe("swarms on loopback (static membership, pip0008)", () => {
  it("answers 503 with Session's text until the first membership is loaded", async () => {
    const n = h.nodes[0]!;
    const res = await rpc(n.pool, "info", {});
    expect(res).toEqual({status: 503, body: "Service node is not ready: membership not loaded\n"});
    expect((await getJson(n.pool, "/network/v1/nodes")).status).toBe(503);
    expect((await getJson(n.pool, "/health")).body).toMatchObject({ready: false, membership: {loaded: false}});
  });

  it("loads the membership on every node and excludes invalid, foreign and ineligible records", async () => {
    h.writeMembership([...(await h.nodeRecords()), ...invalid]);
    // 11 records: counting the 5 bad ones would give 3 swarms; only the 6 valid ones count.
    await waitFor("6 nodes in 2 swarms everywhere", () => allAgree(6, 2));
    const ids = h.nodes.map((n) => n.node.nodeId).sort();
    for (const n of h.nodes) {
      const view = await nodesView(n);
      expect(view.nodes.map((x: {node_id: string}) => x.node_id)).toEqual(ids);
      expect(view.rejected.map((r: {index: number; code: string}) => [r.index, r.code])).toEqual(REJECTED_CODES.map((c, i) => [6 + i, c]));
      expect(view).toMatchObject({network_id: DEVNET_ID, mode: "pip0008", our_node_id: n.node.nodeId, our_swarm: expect.any(String)});
      expect(new Set(view.nodes.map((x: {swarm: string}) => x.swarm))).toEqual(new Set(["0", "1"]));
      // Each record publishes the X25519 onion key the node loaded from its key file.
      for (const x of view.nodes as Array<{node_id: string; pubkey_x25519: string}>) {
        const owner = h.nodes.find((m) => m.node.nodeId === x.node_id);
        expect(x.pubkey_x25519).toBe(Buffer.from(owner?.node.identity.x25519?.publicKey ?? []).toString("hex"));
        expect(x.pubkey_x25519).toMatch(/^[0-9a-f]{64}$/);
      }
      const logged = n.warnings.filter((w) => w.msg === "node record rejected").map((w) => w.code);
      expect(logged).toEqual(expect.arrayContaining(REJECTED_CODES));
    }
    await waitFor("every node ready", async () => (await Promise.all(h.nodes.map((n) => rpc(n.pool, "info", {})))).every((r) => r.status === 200));
  });

  it("get_swarm answers identically on every node for many accounts", async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) seen.add((await agreedSwarm(sessionAccount().hex)).swarm);
    expect(seen).toEqual(new Set(["0", "1"]));
  });

  it("serves each account only in its swarm; other nodes answer 421 with exactly its members", async () => {
    const bySwarm = new Map<string, SessionAccount>();
    while (bySwarm.size < 2) {
      const acc = sessionAccount();
      bySwarm.set((await agreedSwarm(acc.hex)).swarm, acc);
    }
    for (const [swarm, acc] of bySwarm) await checkServing(acc, `hello swarm ${swarm}`);
  });

  it("adding nodes changes the swarm count on every node identically", async () => {
    for (const label of await pickLabels("serving-more", 3, Array.from({length: 5}, () => () => true))) await h.startNode(label);
    h.writeMembership([...(await h.nodeRecords()), ...invalid]);
    await waitFor("11 nodes in 3 swarms on every node", () => allAgree(11, 3));
    const views = await Promise.all(h.nodes.map(nodesView));
    for (const v of views) {
      expect(v.nodes).toEqual(views[0].nodes);
      expect(v.empty_swarms).toEqual(views[0].empty_swarms);
    }
    for (let i = 0; i < 10; i++) await agreedSwarm(sessionAccount().hex);
    await checkServing(sessionAccount(), "after growth");
  });

  it("keeps the last good view when the file turns bad, and logs why", async () => {
    const {writeFileSync} = await import("node:fs");
    writeFileSync(h.membershipFile, "{not json");
    const n = h.nodes[0]!;
    await waitFor("the bad document to be noticed", () => n.warnings.some((w) => w.msg === "membership document rejected; keeping the previous view"));
    expect(await allAgree(11, 3)).toBe(true);
    expect((await rpc(n.pool, "info", {})).status).toBe(200);
  });

  it("a node whose record is signed for another network is left out and answers 503", async () => {
    const victim = h.nodes.at(-1)!;
    const records = (await h.nodeRecords()).filter((r) => r.nodeId !== victim.node.nodeId);
    h.writeMembership([...records, await h.record(victim.label, victim.port, {networkId: 7070})]);
    await waitFor("10 nodes everywhere", () => allAgree(10, 2));
    expect(await rpc(victim.pool, "info", {})).toEqual({status: 503, body: "Service node is not ready: not in any swarm\n"});
    const view = await nodesView(victim);
    expect(view.our_swarm).toBeNull();
    expect(view.rejected).toEqual([expect.objectContaining({node_id: victim.node.nodeId, code: "NODE_RECORD_ERROR_WRONG_NETWORK"})]);
  });
});
