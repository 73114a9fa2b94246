/**
 * Replication with real nodes on loopback: two swarms of three (pip0008, identities picked per
 * swarm), a static membership. Fan-out and signed entries, deletes that stay deleted, a node
 * joining a swarm, and the channel refusing unregistered keys, forged handshakes, replayed and
 * tampered frames (docs/PROTOCOL.md (Replication)).
 */
import {request} from "undici";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {generateIdentity} from "../../src/crypto/identity.js";
import {ChannelManager, type HandshakeSigner} from "../../src/peer/channel/index.js";
import {PEER_PATHS} from "../../src/peer/envelope.js";
import {encodePeerMessage} from "../../src/replication/wire.js";
import {verifySignedReceipt} from "../../src/signing/response-signer.js";
import {storeReceipt, type StoreReceiptFee} from "../../src/signing/receipts.js";
import {systemClock} from "../../src/util/clock.js";
import {sessionAccount, sessionHash, type SessionAccount} from "../utils/keys.js";
import {testPq} from "../utils/rpc-harness.js";
import {SwarmHarness, antiEntropyRound, handshakeAdmitted, identityFor, pickLabels, rpc, seedBytes, waitFor, type TestNode} from "../utils/swarm-harness.js";
import {TestClient, seconds, sub05} from "./ws/harness.js";

const FAST = {
  "replication.antiEntropyIntervalMs": "1000",
  "replication.retryInitialMs": "100",
  "replication.retryMaxMs": "1000",
};
const h = new SwarmHarness({mode: "pip0008", flags: FAST});
/** Accounts stored to, per swarm ID (wire form). */
const accounts = new Map<string, SessionAccount[]>();
const stored: Array<{account: string; hash: string; swarm: string}> = [];

afterAll(() => h.close());

beforeAll(async () => {
  const isSwarm = (id: bigint) => (s: bigint) => s === id;
  const labels = await pickLabels("repl", 2, [isSwarm(0n), isSwarm(0n), isSwarm(0n), isSwarm(1n), isSwarm(1n), isSwarm(1n)]);
  for (const label of labels) await h.startNode(label);
  h.writeMembership(await h.nodeRecords());
  await waitFor("every node ready", async () => (await Promise.all(h.nodes.map((n) => rpc(n.pool, "info", {})))).every((r) => r.status === 200));
  while ((accounts.get("0")?.length ?? 0) < 2 || (accounts.get("1")?.length ?? 0) < 2) {
    const acc = sessionAccount();
    const swarm = (await rpc(h.nodes[0]!.pool, "get_swarm", {pubkey: acc.hex})).body.swarm as string;
    accounts.set(swarm, [...(accounts.get(swarm) ?? []), acc]);
  }
});

const swarmOf = (n: TestNode): string => String(n.node.membership?.snapshot?.ourSwarm);
const membersOf = (swarm: string): TestNode[] => h.nodes.filter((n) => swarmOf(n) === swarm);
const holds = (n: TestNode, account: string, hash: string): boolean => n.node.store.getExpiries(account, [hash]).has(hash);

function storeParams(acc: SessionAccount, text: string): Record<string, unknown> {
  return {pubkey: acc.hex, timestamp: Date.now(), ttl: 3_600_000, data: Buffer.from(text).toString("base64")};
}

type StoreEntry = {signature: string; signature_proof: never; expiry: number; already?: true; fee?: StoreReceiptFee; failed?: true};

/** Verifies a member's store entry: its hash, expiry, status and fee are all under its signature. */
async function checkEntry(nodeId: string, entry: StoreEntry, hash: string): Promise<boolean> {
  const key = h.nodes.map((n) => n.node.identity).find((i) => i.nodeId === nodeId)?.mlDsa.publicKey;
  const receipt = storeReceipt({hash, expiry: entry.expiry, already: entry.already === true, fee: entry.fee});
  return key !== undefined && verifySignedReceipt(await testPq(), nodeId, key, receipt, entry);
}

describe("replication between two swarms of three", () => {
  it("a store at any member is held by every member of its swarm and by no other node", async () => {
    for (const [i, n] of h.nodes.entries()) {
      const acc = accounts.get(swarmOf(n))![i % 2]!;
      const text = `from ${n.label} #${i}`;
      const res = await rpc(n.pool, "store", storeParams(acc, text));
      expect(res.status, `store at ${n.label}`).toBe(200);
      const hash = sessionHash(acc.hex, 0, Buffer.from(text));
      const members = membersOf(swarmOf(n));
      expect(Object.keys(res.body.swarm).sort()).toEqual(members.map((m) => m.node.nodeId).sort());
      for (const [nodeId, entry] of Object.entries(res.body.swarm as Record<string, StoreEntry>)) {
        expect(entry.failed, `entry of ${nodeId}: ${JSON.stringify(entry)}`).toBeUndefined();
        expect(await checkEntry(nodeId, entry, hash), `signature of ${nodeId} over ${hash}`).toBe(true);
      }
      stored.push({account: acc.hex, hash, swarm: swarmOf(n)});
    }
    for (const s of stored) {
      for (const n of h.nodes) expect(holds(n, s.account, s.hash), `${s.hash} at ${n.label}`).toBe(swarmOf(n) === s.swarm);
    }
  });

  it("a store at one member reaches WebSocket subscribers at the others, like a local store", async () => {
    const [entry, other] = membersOf("1") as [TestNode, TestNode];
    const acc = accounts.get("1")![1]!;
    const client = await TestClient.connect(`${other.url.replace("http", "ws")}/ws`);
    try {
      expect((await client.subscribe(sub05(acc, [0], true, seconds(Date.now())))).success).toBe(true);
      expect((await rpc(entry.pool, "store", storeParams(acc, "pushed across the swarm"))).status).toBe(200);
      const push = await client.waitFor((f: {type?: string}) => f.type === "message");
      expect(push).toMatchObject({account: acc.hex, hash: sessionHash(acc.hex, 0, Buffer.from("pushed across the swarm")), data: Buffer.from("pushed across the swarm").toString("base64")});
    } finally {
      client.close();
    }
  });

  it("expiry changes fan out to every member", async () => {
    const s = stored.find((x) => x.swarm === "1")!;
    const acc = accounts.get("1")!.find((x) => x.hex === s.account)!;
    const expiry = Date.now() + 600_000;
    const sig = acc.ed.sign(`expireshorten${expiry}${s.hash}`).toString("base64");
    const params = {pubkey: acc.hex, pubkey_ed25519: acc.ed.pub.toString("hex"), messages: [s.hash], expiry, shorten: true, signature: sig};
    const res = await rpc(membersOf("1")[2]!.pool, "expire", params);
    expect(res.status).toBe(200);
    for (const n of membersOf("1")) expect(n.node.store.getExpiries(s.account, [s.hash]).get(s.hash), n.label).toBe(expiry);
  });

  it("a member that missed a delete deletes it by anti-entropy alone, and it never comes back", async () => {
    const [a, b, c] = membersOf("0") as [TestNode, TestNode, TestNode];
    const acc = accounts.get("0")![0]!;
    const params = storeParams(acc, "to be deleted");
    const hash = sessionHash(acc.hex, 0, Buffer.from("to be deleted"));
    expect((await rpc(a.pool, "store", params)).status).toBe(200);
    const cPort = c.port;
    await h.stopNode(c);
    const sig = acc.ed.sign(`delete${hash}`).toString("base64");
    const del = await rpc(b.pool, "delete", {pubkey: acc.hex, pubkey_ed25519: acc.ed.pub.toString("hex"), messages: [hash], signature: sig});
    expect(del.status).toBe(200);
    // A stopped member refuses connections: said as such, not as a timeout (issue #11 item 6).
    expect(del.body.swarm[c.node.nodeId]).toEqual({failed: true, unreachable: true, reason: "connect ECONNREFUSED"});
    expect([a, b].map((n) => holds(n, acc.hex, hash))).toEqual([false, false]);
    // Without its persisted retry, only the tombstones exchanged by anti-entropy can tell C.
    expect(b.node.replication?.stats().pendingRetries[c.node.nodeId]).toBe(1);
    b.node.store.db.sqlite.prepare("DELETE FROM replication_retries").run();
    const back = await h.startNode(c.label, {port: cPort});
    expect(holds(back, acc.hex, hash), "the restarted node still has its old copy").toBe(true);
    await waitFor("the restarted member to apply the delete", () => !holds(back, acc.hex, hash), 15_000);
    await antiEntropyRound(membersOf("0"));
    for (const n of membersOf("0")) expect(holds(n, acc.hex, hash), `deleted message at ${n.label}`).toBe(false);
  });

  it("a node added to a swarm receives that swarm's messages and no other", async () => {
    const [label] = await pickLabels("repl-new", 2, [(s) => s === 1n]);
    const fresh = await h.startNode(label!);
    h.writeMembership(await h.nodeRecords());
    await waitFor("the new node in swarm 1", () => swarmOf(fresh) === "1");
    const mine = stored.filter((s) => s.swarm === "1");
    await waitFor("the new node to hold swarm 1's messages", () => mine.every((s) => holds(fresh, s.account, s.hash)), 20_000);
    for (const s of stored.filter((x) => x.swarm === "0")) expect(holds(fresh, s.account, s.hash)).toBe(false);
  });
});

describe("the peer channel on loopback", () => {
  const post = async (n: TestNode, path: string, body: Uint8Array): Promise<{status: number; body: Buffer}> => {
    const res = await request(`${n.url}${path}`, {method: "POST", body, headers: {"content-type": "application/octet-stream"}});
    return {status: res.statusCode, body: Buffer.from(await res.body.arrayBuffer())};
  };
  const codeOf = (r: {body: Buffer}): unknown => (JSON.parse(r.body.toString()) as {code: unknown}).code;

  /** A ChannelManager acting as `identity` against node `target` over HTTP. */
  async function client(target: TestNode, identity: Awaited<ReturnType<typeof identityFor>>, signer?: HandshakeSigner) {
    const refused: Array<{status: number; code: unknown}> = [];
    const manager = new ChannelManager({}, {
      pq: await testPq(),
      identity,
      ...(signer === undefined ? {} : {signer}),
      lookupPeer: () => ({mlDsaPublicKey: target.node.identity.mlDsa.publicKey, mlKemPublicKey: target.node.identity.mlKem.publicKey}),
      sendHandshake: async (_peer, init) => {
        const res = await post(target, PEER_PATHS.handshake, init);
        if (res.status !== 200) refused.push({status: res.status, code: codeOf(res)});
        if (res.status !== 200) throw new Error(`handshake refused: ${res.status}`);
        return res.body;
      },
      clock: systemClock,
    });
    return {manager, refused};
  }

  const rejected = (n: TestNode, code: string): number => n.node.replication?.stats().channels.rejected[code as never] ?? 0;

  it("refuses a handshake from a key that is not in the membership", async () => {
    const target = h.nodes[0]!;
    const ghost = generateIdentity(await testPq(), {mlDsa: seedBytes("ghost/dsa", 32), mlKem: seedBytes("ghost/kem", 64)});
    const {manager, refused} = await client(target, ghost);
    await expect(manager.getOrOpen(target.node.nodeId)).rejects.toMatchObject({code: "CHANNEL_ERROR_TRANSPORT"});
    expect(refused).toEqual([{status: 400, code: "CHANNEL_ERROR_UNKNOWN_PEER"}]);
    expect(rejected(target, "CHANNEL_ERROR_UNKNOWN_PEER")).toBeGreaterThan(0);
  });

  it("refuses a handshake whose signature does not verify", async () => {
    const target = h.nodes[0]!;
    const member = h.nodes[1]!;
    const forger: HandshakeSigner = {sign: () => Promise.resolve(new Uint8Array(3309).fill(7))};
    const {manager, refused} = await client(target, member.node.identity, forger);
    await expect(manager.getOrOpen(target.node.nodeId)).rejects.toMatchObject({code: "CHANNEL_ERROR_TRANSPORT"});
    expect(refused).toEqual([{status: 403, code: "CHANNEL_ERROR_BAD_SIGNATURE"}]);
    expect(rejected(target, "CHANNEL_ERROR_BAD_SIGNATURE")).toBeGreaterThan(0);
  });

  it("answers a genuine frame once, refuses its replay and a tampered copy", async () => {
    const target = h.nodes[0]!;
    const member = h.nodes.find((n) => n !== target && swarmOf(n) === swarmOf(target))!;
    await handshakeAdmitted(target, member.node.nodeId);
    const {manager} = await client(target, member.node.identity);
    const frame = await manager.seal(target.node.nodeId, encodePeerMessage({type: "digest", swarm: swarmOf(target)}));
    const ok = await post(target, PEER_PATHS.frame, frame);
    expect(ok.status).toBe(200);
    expect(new TextDecoder().decode(manager.open(ok.body).plaintext)).toContain('"type":"digest_ok"');
    const replay = await post(target, PEER_PATHS.frame, frame);
    expect({status: replay.status, code: codeOf(replay)}).toEqual({status: 400, code: "CHANNEL_ERROR_REPLAY"});
    const tampered = await manager.seal(target.node.nodeId, encodePeerMessage({type: "digest", swarm: swarmOf(target)}));
    const at = tampered.length - 20;
    tampered[at] = (tampered[at] ?? 0) ^ 1;
    const bad = await post(target, PEER_PATHS.frame, tampered);
    expect({status: bad.status, code: codeOf(bad)}).toEqual({status: 403, code: "CHANNEL_ERROR_AUTH"});
    const unknown = await post(target, PEER_PATHS.frame, Buffer.concat([Buffer.from([1, 0x10]), Buffer.alloc(40)]));
    expect({status: unknown.status, code: codeOf(unknown)}).toEqual({status: 409, code: "CHANNEL_ERROR_UNKNOWN_CHANNEL"});
  });
});
