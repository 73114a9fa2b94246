/**
 * The client library against six real nodes on loopback (two swarms of three, balanced mode), one
 * of which alters its own receipts (a proxy in front of it; its record points at the proxy): the
 * client bootstraps from one seed, exchanges messages between a 05 and a 07 account, pages
 * retrieves, deletes, watches pushes across the loss of the node it is connected to, and catches
 * the altered receipt.
 */
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {
  ClientError,
  Ed25519Account,
  ParsClient,
  PqAccount,
  retrieveRequest,
  storeRequest,
  type ClientAccount,
  type PushedMessage,
} from "../../src/client/index.js";
import {testPq} from "../utils/rpc-harness.js";
import {SwarmHarness, rpc, waitFor, type TestNode} from "../utils/swarm-harness.js";
import {TamperProxy, alterOwnReceipt} from "../utils/tamper-proxy.js";

const h = new SwarmHarness({mode: "balanced", flags: {"proofs.enabled": "false", "replication.forwardTimeoutMs": "1500"}});
let proxy: TamperProxy;
let liar: TestNode;
let client: ParsClient;

beforeAll(async () => {
  for (let i = 0; i < 6; i++) await h.startNode(`client-lib/${i}`);
  liar = h.nodes[5]!;
  proxy = await TamperProxy.start(liar.url, alterOwnReceipt(liar.node.nodeId));
  const records = await Promise.all(h.nodes.map((n) => h.record(n.label, n === liar ? proxy.port : n.port)));
  h.writeMembership(records);
  await waitFor("every node ready", async () => (await Promise.all(h.nodes.map((n) => rpc(n.pool, "info", {})))).every((r) => r.status === 200));
  client = await ParsClient.init({seeds: [`pars://127.0.0.1:${h.nodes[0]!.port}`], direct: true}, {pq: await testPq()});
});

afterAll(async () => {
  await client?.close();
  await proxy?.close();
  await h.close();
});

/** Deterministic accounts whose swarm does (or does not) contain the lying node. */
async function accountWhere(kind: "05" | "07", withLiar: boolean, start: number): Promise<ClientAccount> {
  const pq = await testPq();
  for (let i = start; i < start + 64; i++) {
    const seed = new Uint8Array(32).fill(i);
    const a = kind === "05" ? new Ed25519Account(seed) : new PqAccount({mlDsa: seed, mlKem: new Uint8Array(64).fill(i)}, pq);
    const members = await client.swarmOf(a.id);
    if (members.some((m) => m.nodeId === liar.node.nodeId) === withLiar) return a;
  }
  throw new Error("no such account");
}

describe("ParsClient on a 6-node devnet", () => {
  it("bootstraps from one pars:// seed: the whole membership, the liar at its proxy", () => {
    expect(client.directory.nodes).toHaveLength(6);
    expect(client.directory.get(liar.node.nodeId)?.url).toBe(proxy.url);
    expect(new Set(client.directory.nodes.map((n) => n.swarm))).toEqual(new Set(["0", "1"]));
  });

  it("a 05 and a 07 account store to each other; each retrieves exactly the other's message; every member confirms", async () => {
    const alice = await accountWhere("05", false, 1);
    const bob = await accountWhere("07", false, 1);
    const toBob = await client.store({to: bob.id, data: Buffer.from("hello bob")}, alice);
    const toAlice = await client.store({to: alice.id, data: Buffer.from("hello alice")}, bob);
    for (const r of [toBob, toAlice]) {
      expect(r.confirmed).toHaveLength(3);
      expect(r.invalid).toEqual([]);
    }
    const atBob = await client.retrieveAll(bob);
    expect(atBob.map((m) => [m.hash, m.data.toString()])).toEqual([[toBob.hash, "hello bob"]]);
    const atAlice = await client.retrieveAll(alice);
    expect(atAlice.map((m) => [m.hash, m.data.toString()])).toEqual([[toAlice.hash, "hello alice"]]);
  });

  it("pages retrieves with last_hash, then deletes everything with a verified delete_all", async () => {
    const carol = await accountWhere("07", false, 100);
    const hashes: string[] = [];
    for (let i = 0; i < 5; i++) hashes.push((await client.store({to: carol.id, data: Buffer.from(`m${i}`), namespace: 2}, carol)).hash);
    const page = await client.retrieve(carol, {namespace: 2, maxCount: 2});
    expect(page.more).toBe(true);
    expect(page.messages).toHaveLength(2);
    expect((await client.retrieveAll(carol, {namespace: 2, maxCount: 2})).map((m) => m.hash).sort()).toEqual([...hashes].sort());
    const expiries = await client.getExpiries(carol, hashes.slice(0, 1));
    expect(Object.keys(expiries)).toEqual(hashes.slice(0, 1));
    const gone = await client.deleteAll(carol, "all");
    expect(gone.confirmed).toHaveLength(3);
    expect(await client.retrieveAll(carol, {namespace: 2})).toEqual([]);
  });

  it("every other storage method, each answer's receipts verified by every member", async () => {
    const erin = await accountWhere("05", false, 150);
    const now = Date.now();
    const [a, b, c] = await Promise.all(["a", "b", "c"].map(async (t) => (await client.store({to: erin.id, data: Buffer.from(t), namespace: 4}, erin)).hash));
    const three = (r: {confirmed: string[]; invalid: unknown[]}): void => {
      expect(r.invalid).toEqual([]);
      expect(r.confirmed).toHaveLength(3);
    };
    three(await client.expire(erin, {messages: [a!, b!], expiry: now + 600_000, mode: "shorten"}));
    three(await client.expireAll(erin, now + 300_000, 4));
    expect(Object.values(await client.getExpiries(erin, [a!, c!]))).toEqual([now + 300_000, now + 300_000]);
    three(await client.deleteBefore(erin, now + 30_000, "all"));
    expect(await client.retrieveAll(erin, {namespace: 4})).toEqual([]);
    const token = Buffer.alloc(36, 9);
    three(await client.revokeSubaccount(erin, [token]));
    three(await client.unrevokeSubaccount(erin, [token]));
    const results = await client.bulk("sequence", [
      storeRequest({to: erin.id, data: Buffer.from("in a sequence"), namespace: 4}, Date.now(), erin),
      retrieveRequest(erin, {namespace: 4}, Date.now()),
    ]);
    expect(results.map((r) => r.code)).toEqual([200, 200]);
    expect(results[0]?.outcome?.confirmed).toHaveLength(3);
    expect((results[1]?.body as {messages: unknown[]}).messages).toHaveLength(1);
    three(await client.delete(erin, [(results[0]?.body as {hash: string}).hash], true));
  });

  it("through 3-hop onion paths (the default): a 05/07 exchange with every receipt verified", async (ctx) => {
    const probe = await h.nodes[0]!.pool.request({path: "/onion_req/v2", method: "POST", body: "x"});
    await probe.body.dump();
    if (probe.statusCode === 404) return ctx.skip(); // nodes without the relay (issue #13): direct only
    const onion = await ParsClient.init({seeds: [h.nodes[0]!.url]}, {pq: await testPq()});
    try {
      expect(onion.onion).toBe(true);
      const frank = await accountWhere("07", false, 220);
      const gina = await accountWhere("05", false, 220);
      const sent = await onion.store({to: frank.id, data: Buffer.from("by onion")}, gina);
      expect(sent.confirmed).toHaveLength(3);
      expect((await onion.retrieveAll(frank)).map((m) => m.data.toString())).toEqual(["by onion"]);
      const back = await onion.store({to: gina.id, data: Buffer.from("and back")}, frank);
      expect(back.confirmed).toHaveLength(3);
      expect((await onion.retrieveAll(gina)).map((m) => m.data.toString())).toEqual(["and back"]);
    } finally {
      await onion.close();
    }
  });

  it("catches the node that alters its receipt (strict), and names it", async () => {
    const victim = await accountWhere("05", true, 1);
    let caught = null as ClientError | null;
    for (let i = 0; i < 40 && caught === null; i++) {
      try {
        const r = await client.store({to: victim.id, data: Buffer.from(`try ${i}`)}, victim);
        // Through an honest entry node the liar's entry comes over the peer channel, unaltered.
        expect(r.confirmed).toContain(liar.node.nodeId);
      } catch (err) {
        caught = err as ClientError;
      }
    }
    const type = caught?.type;
    expect(type?.code).toBe("CLIENT_ERROR_RECEIPT_INVALID");
    expect(type?.code === "CLIENT_ERROR_RECEIPT_INVALID" && type.invalid.map((x) => x.nodeId)).toEqual([liar.node.nodeId]);
    expect(proxy.altered).toBeGreaterThan(0);
  });

  it("watch: pushes arrive, and keep arriving after the node it watched through goes away", async () => {
    const dave = await accountWhere("07", false, 200);
    const got: PushedMessage[] = [];
    const nodes: string[] = [];
    const sub = client.subscribe(dave, {onMessage: (m) => got.push(m), onState: (s, n) => void (s === "subscribed" && n !== null && nodes.push(n))});
    try {
      await sub.ready;
      const first = await client.store({to: dave.id, data: Buffer.from("push one")});
      await waitFor("first push", () => got.some((m) => m.hash === first.hash));
      expect(got.find((m) => m.hash === first.hash)?.data?.toString()).toBe("push one");
      const watched = h.nodes.find((n) => n.node.nodeId === nodes[0])!;
      await h.stopNode(watched);
      await waitFor("resubscribed elsewhere", () => nodes.length >= 2);
      expect(nodes[1]).not.toBe(nodes[0]);
      const second = await client.store({to: dave.id, data: Buffer.from("push two")});
      await waitFor("second push", () => got.some((m) => m.hash === second.hash));
    } finally {
      sub.close();
    }
  });
});
