/**
 * Onion requests on a 6-node devnet on loopback (issue #13 "Done when"). A client at 127.0.0.2
 * builds 3-hop paths from the published node records (GET /network/v1/nodes). Two swarms of
 * three: nodes 0-2 form swarm 0 (the test account's), 3-5 swarm 1. Roles are fixed so the "no
 * client address" check means something: entries are nodes 3 and 5, middles 2 and 4, finals 0
 * and 1; node 0 and node 1 never see the client directly.
 */
import {readdirSync, readFileSync, statSync} from "node:fs";
import {createServer, type Server, type Socket} from "node:net";
import {join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import type {NodeIdentity} from "../../src/crypto/identity.js";
import {openLayer, parseEntryBlob, type HopPublicKeys} from "../../src/onion/index.js";
import {RELAY_FROM_HEADER, RELAY_SIG_HEADER, RELAY_TIME_HEADER, RelayAuth, type OnionCountersSnapshot} from "../../src/onion-relay/index.js";
import {InlineSigner} from "../../src/signing/index.js";
import {systemClock} from "../../src/util/clock.js";
import {CLIENT_ADDRESS, OnionTestClient} from "../utils/onion-client.js";
import {sessionAccount, sessionHash, type SessionAccount} from "../utils/keys.js";
import {testPq} from "../utils/rpc-harness.js";
import {SwarmHarness, getJson, identityFor, pickLabels, rpc, waitFor, type TestNode} from "../utils/swarm-harness.js";

const RPC_BODY_LIMIT = 65_536;
const h = new SwarmHarness({
  mode: "pip0008",
  logLevel: "debug",
  flags: {
    "rateLimit.enabled": "true",
    "rateLimit.capacity": "40",
    "rateLimit.refillPerSecond": "0.01",
    "http.bodyLimitBytes": String(RPC_BODY_LIMIT),
  },
});
let client: OnionTestClient;
let acc: SessionAccount;
let n: TestNode[] = [];
const id = (i: number): string => n[i]!.node.nodeId;
/** Disjoint paths into swarm 0: entry → middle → final. */
const P1 = (): string[] => [id(3), id(4), id(0)];
const P2 = (): string[] => [id(5), id(2), id(1)];

// The fake next hop: a valid identity whose record is in the document but rejected (no stake),
// with its address pointing at a socket that counts connections.
let fake: NodeIdentity;
let trap: Server;
let trapConnections = 0;

beforeAll(async () => {
  const isSwarm = (s: bigint) => (x: bigint) => x === s;
  const labels = await pickLabels("onion", 2, [isSwarm(0n), isSwarm(0n), isSwarm(0n), isSwarm(1n), isSwarm(1n), isSwarm(1n)]);
  for (const label of labels) await h.startNode(label);
  n = h.nodes;
  trap = createServer((s: Socket) => {
    trapConnections++;
    s.destroy();
  });
  await new Promise<void>((resolve) => trap.listen(0, "127.0.0.1", resolve));
  fake = await identityFor("onion/not-a-member");
  const trapPort = (trap.address() as {port: number}).port;
  h.writeMembership([...(await h.nodeRecords()), await h.record("onion/not-a-member", trapPort, {operatorAmount: 1n})]);
  await waitFor("every node ready", () => n.every((t) => t.node.router.notReadyReasons().length === 0));
  client = await OnionTestClient.fromNetwork(n[0]!.url);
  // An account served by swarm 0 (nodes 0-2): the finals' swarm.
  for (;;) {
    acc = sessionAccount();
    if ((await rpc(n[0]!.pool, "get_swarm", {pubkey: acc.hex})).body.swarm === "0") break;
  }
}, 120_000);

afterAll(async () => {
  await client?.close();
  await new Promise((resolve) => trap?.close(resolve));
  await h.close();
});

const counters = (i: number): OnionCountersSnapshot => {
  const c = n[i]!.node.onionCounters();
  if (c === null) throw new Error(`${n[i]!.label} serves no onion requests`);
  return c;
};

function storeParams(text: string): Record<string, unknown> {
  return {pubkey: acc.hex, timestamp: Date.now(), ttl: 3_600_000, data: Buffer.from(text).toString("base64")};
}

const signed = (msg: string | Buffer): string => acc.ed.sign(msg).toString("base64");
const edHex = (): string => acc.ed.pub.toString("hex");

function retrieveParams(): Record<string, unknown> {
  const ts = Date.now();
  return {pubkey: acc.hex, pubkey_ed25519: edHex(), timestamp: ts, signature: signed(`retrieve${ts}`)};
}

/** The JSON body of the final hop's answer (Session double-encodes it as a string by default). */
function innerJson(body: unknown): Record<string, any> {
  return (typeof body === "string" ? JSON.parse(body) : body) as Record<string, any>;
}

async function retrieveHashes(path: string[]): Promise<string[]> {
  const res = await client.send(path, {method: "retrieve", params: retrieveParams()});
  expect(res.inner?.status, "retrieve through the path").toBe(200);
  return (innerJson(res.inner?.body).messages as Array<{hash: string}>).map((m) => m.hash);
}

const held = (account: string, hash: string): boolean => n.some((t) => t.node.store.getExpiries(account, [hash]).has(hash));

describe("onion requests on a 6-node devnet", () => {
  it("publishes every node's X25519 and ML-KEM keys in /network/v1/nodes", () => {
    expect([...client.nodes.keys()].sort()).toEqual(n.map((t) => t.node.nodeId).sort());
    for (const t of n) expect(client.hop(t.node.nodeId).x25519).toEqual(t.node.identity.x25519?.publicKey);
  });

  it("stores through one path and retrieves through a disjoint one", async () => {
    const text = "through the onion";
    const stored = await client.send(P1(), {method: "store", params: storeParams(text)});
    expect(stored.httpStatus).toBe(200);
    expect(stored.inner?.status).toBe(200);
    const hash = sessionHash(acc.hex, 0, Buffer.from(text));
    expect(innerJson(stored.inner?.body).hash).toBe(hash);
    expect(P1().filter((x) => P2().includes(x))).toEqual([]);
    expect(await retrieveHashes(P2())).toContain(hash);
    expect(counters(3)).toMatchObject({fromClients: 1, relayed: 1});
    expect(counters(4)).toMatchObject({fromClients: 0, relayed: 1});
    expect(counters(0)).toMatchObject({fromClients: 0, final: 1});
  });

  it("every other storage RPC method works through a path", async () => {
    const stored = await client.send(P2(), {method: "store", params: storeParams("for the table")});
    expect(stored.inner?.status).toBe(200);
    const hash = innerJson(stored.inner?.body).hash as string;
    const tok = Buffer.concat([Buffer.from([0x05, 0x01, 0, 0]), Buffer.alloc(32, 7)]);
    const later = Date.now() + 1_800_000;
    const cases: Array<[string, () => Record<string, unknown>]> = [
      ["info", () => ({})],
      ["get_swarm", () => ({pubkey: acc.hex})],
      ["get_expiries", () => {
        const ts = Date.now();
        return {pubkey: acc.hex, pubkey_ed25519: edHex(), messages: [hash], timestamp: ts, signature: signed(`get_expiries${ts}${hash}`)};
      }],
      ["expire", () => ({pubkey: acc.hex, pubkey_ed25519: edHex(), messages: [hash], expiry: later, signature: signed(`expire${later}${hash}`)})],
      ["expire_all", () => ({pubkey: acc.hex, pubkey_ed25519: edHex(), expiry: later, signature: signed(`expire_all${later}`)})],
      ["revoke_subaccount", () => {
        const ts = Date.now();
        return {pubkey: acc.hex, pubkey_ed25519: edHex(), revoke: tok.toString("base64"), timestamp: ts, signature: signed(Buffer.concat([Buffer.from(`revoke_subaccount${ts}`), tok]))};
      }],
      ["unrevoke_subaccount", () => {
        const ts = Date.now();
        return {pubkey: acc.hex, pubkey_ed25519: edHex(), unrevoke: [tok.toString("hex")], timestamp: ts, signature: signed(Buffer.concat([Buffer.from(`unrevoke_subaccount${ts}`), tok]))};
      }],
      ["batch", () => ({requests: [{method: "info", params: {}}, {method: "get_swarm", params: {pubkey: acc.hex}}]})],
      ["sequence", () => ({requests: [{method: "info", params: {}}, {method: "retrieve", params: retrieveParams()}]})],
      ["ifelse", () => ({if: {v_at_least: [0, 0, 1]}, then: {method: "info", params: {}}, else: {method: "get_swarm", params: {pubkey: acc.hex}}})],
      ["delete", () => ({pubkey: acc.hex, pubkey_ed25519: edHex(), messages: [hash], signature: signed(`delete${hash}`)})],
      ["delete_before", () => {
        const before = Date.now();
        return {pubkey: acc.hex, pubkey_ed25519: edHex(), before, signature: signed(`delete_before${before}`)};
      }],
      ["delete_all", () => {
        const ts = Date.now();
        return {pubkey: acc.hex, pubkey_ed25519: edHex(), timestamp: ts, signature: signed(`delete_all${ts}`)};
      }],
    ];
    for (const [i, [method, params]] of cases.entries()) {
      const res = await client.send(i % 2 === 0 ? P1() : P2(), {method, params: params()});
      expect(res.httpStatus, `${method}: HTTP status`).toBe(200);
      expect(res.inner?.status, `${method}: ${String(res.inner?.body).slice(0, 200)}`).toBe(200);
    }
    expect(held(acc.hex, hash), "deleted through the path").toBe(false);
  });

  it("json:true embeds the JSON answer instead of a string", async () => {
    const res = await client.send(P1(), {method: "info", params: {}}, {json: true});
    expect(typeof res.inner?.body).toBe("object");
  });

  describe("a layer tampered at any hop is refused at that hop, and nothing is stored", () => {
    const flip = (blob: Uint8Array): Uint8Array => {
      const out = Buffer.from(blob);
      out[4 + 20] = out[4 + 20]! ^ 0x01; // inside the ciphertext, past the u32 length
      return out;
    };
    const secretKeys = (i: number): {nodeId: string; x25519Secret: Uint8Array; mlKemSecret: Uint8Array} => {
      const ident = n[i]!.node.identity;
      return {nodeId: ident.nodeId, x25519Secret: ident.x25519!.secretKey, mlKemSecret: ident.mlKem.secretKey};
    };
    /** The blob hop `upto` (0-based) would forward: layers opened with the hops' own keys. */
    const peel = (blob: Uint8Array, path: number[], upto: number): Uint8Array => {
      let current = blob;
      for (let k = 0; k < upto; k++) {
        const opened = openLayer(secretKeys(path[k]!), parseEntryBlob(current));
        if (opened.kind !== "relay") throw new Error("expected a relay layer");
        current = opened.nextBlob;
      }
      return current;
    };
    /** Sends `blob` to path[k] as path[k-1] would (signed relay header). */
    const sendAsRelay = async (path: number[], k: number, blob: Uint8Array): Promise<{status: number; body: Buffer}> => {
      const pq = await testPq();
      const from = n[path[k - 1]!]!.node.identity;
      const auth = new RelayAuth({pq, clock: systemClock, ourNodeId: from.nodeId, signer: new InlineSigner(pq, from.mlDsa.secretKey), memberKey: () => null});
      return client.post(n[path[k]!]!.url, blob, await auth.headers(id(path[k]!), blob));
    };

    for (const hop of [0, 1, 2]) {
      it(`at hop ${hop + 1}`, async () => {
        const path = [3, 4, 0];
        const text = `tampered at hop ${hop + 1}`;
        const built = client.build(path.map(id), {method: "store", params: storeParams(text)});
        const before = path.map((i) => counters(i));
        const res = hop === 0 ? await client.post(n[3]!.url, flip(built.blob)) : await sendAsRelay(path, hop, flip(peel(built.blob, path, hop)));
        expect(res.status).toBe(400);
        expect(res.body.toString()).toBe("Invalid ciphertext");
        const after = path.map((i) => counters(i));
        expect(after[hop]!.failed.invalid_ciphertext ?? 0).toBe((before[hop]!.failed.invalid_ciphertext ?? 0) + 1);
        for (let k = hop + 1; k < path.length; k++) expect(after[k]!.entered, `hop ${k + 1} never reached`).toBe(before[k]!.entered);
        expect(held(acc.hex, sessionHash(acc.hex, 0, Buffer.from(text)))).toBe(false);
      });
    }
  });

  it("a path naming a non-member next hop gets 502 and no connection is made", async () => {
    const hop: HopPublicKeys = {nodeId: fake.nodeId, x25519: fake.x25519!.publicKey, mlKem: fake.mlKem.publicKey};
    const before = counters(2).failed.unknown_next_hop ?? 0;
    const res = await client.send([id(5), id(2), hop], {method: "store", params: storeParams("to nowhere")});
    expect(res.httpStatus).toBe(502);
    expect(res.raw.toString()).toBe(`Next node not found: ${fake.nodeId}`);
    expect(counters(2).failed.unknown_next_hop).toBe(before + 1);
    expect(trapConnections).toBe(0);
  });

  it("a replayed store blob re-runs the same request: the same message, not a second one", async () => {
    const text = "replayed";
    const built = client.build(P1(), {method: "store", params: storeParams(text)});
    const first = await client.post(n[3]!.url, built.blob);
    const again = await client.post(n[3]!.url, built.blob);
    expect([first.status, again.status]).toEqual([200, 200]);
    // Both answers are sealed to the original client's keys: only it can read them.
    const hash = sessionHash(acc.hex, 0, Buffer.from(text));
    expect(innerJson(built.decryptResponse(again.body.toString()).body).hash).toBe(hash);
    expect((await retrieveHashes(P2())).filter((x) => x === hash)).toHaveLength(1);
  });

  it("caps the blob at the RPC body limit plus the layers' overhead", async () => {
    const cap = RPC_BODY_LIMIT + 15 * 2048;
    expect((await client.post(n[5]!.url, Buffer.alloc(cap + 1))).status).toBe(413);
    const atCap = await client.post(n[5]!.url, Buffer.alloc(cap));
    expect(atCap.status).toBe(400);
    expect(atCap.body.toString()).toMatch(/^Error parsing onion request: /);
  });

  it("GET /health reports the onion counters", async () => {
    const health = await getJson(n[4]!.pool, "/health");
    expect(health.body.onion).toMatchObject({entered: expect.any(Number), relayed: expect.any(Number), final: 0, failed: expect.any(Object)});
    expect(health.body.onion.entered).toBeGreaterThan(0);
  });

  // The last test shows the client's address is real: the entry's buckets tell 127.0.0.2 from 127.0.0.3.
  it("the final and middle hops' logs and state hold no address of the client", () => {
    for (const i of [0, 1, 2, 4]) {
      const t = n[i]!;
      expect(t.logLines.length, `${t.label} logged at debug`).toBeGreaterThan(0);
      expect(t.logLines.filter((l) => l.includes(CLIENT_ADDRESS)), `${t.label} logs`).toEqual([]);
      for (const file of filesUnder(t.dir)) {
        expect(readFileSync(file).includes(CLIENT_ADDRESS), `${file} holds the client's address`).toBe(false);
      }
    }
  });

  it("clients are charged at the entry hop only; a forged relay header is refused", async () => {
    const forged = await client.post(n[0]!.url, Buffer.from("x"), {[RELAY_FROM_HEADER]: id(2), [RELAY_TIME_HEADER]: String(Date.now()), [RELAY_SIG_HEADER]: "AAAA"});
    expect(forged.status).toBe(403);
    const statuses: number[] = [];
    for (let i = 0; i < 45 && !statuses.includes(429); i++) {
      const res = await client.send(P2(), {method: "info", params: {}});
      statuses.push(res.httpStatus);
      if (res.httpStatus === 200) expect(res.inner?.status).toBe(200);
      else expect(res.raw.toString()).toBe("Too Many Requests\n");
    }
    expect(statuses.at(-1), "the client ran out of tokens at the entry hop").toBe(429);
    expect(counters(5).failed.rate_limited).toBe(1);
    // The relays behind it were never charged, and the entry's bucket is the client's alone:
    // another client address still gets through the same path.
    expect(counters(2).failed.rate_limited ?? 0).toBe(0);
    expect(counters(1).failed.rate_limited ?? 0).toBe(0);
    const other = new OnionTestClient(client.nodes, "127.0.0.3");
    try {
      expect((await other.send(P2(), {method: "info", params: {}})).inner?.status).toBe(200);
    } finally {
      await other.close();
    }
  });
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}
