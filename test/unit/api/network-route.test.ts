import Fastify from "fastify";
import {describe, expect, it} from "vitest";
import {registerNetworkRoutes, type NetworkMembership} from "../../../src/api/http/routes/network.js";
import {blsProofOfPossession, blsPublicKey, generateBlsSecretKey} from "../../../src/crypto/index.js";
import {MembershipService} from "../../../src/swarm/membership-service.js";
import {EventEmitter} from "node:events";
import {ManualClock} from "../../../src/util/clock.js";
import {nobleBackend, signedRecord} from "../swarm/helpers.js";
import {silentLogger as silent} from "../../utils/logger.js";

const records = Array.from({length: 6}, (_, i) => signedRecord(i));

function service(): MembershipService {
  const source = Object.assign(new EventEmitter(), {description: "test", start() {}, close: () => Promise.resolve()});
  return new MembershipService(
    {networkId: 7070, mode: "balanced", ourNodeId: records[0]!.nodeId},
    {source: source as never, pq: nobleBackend, clock: new ManualClock(1_767_225_600_000), logger: silent},
  );
}

function app(membership: NetworkMembership, allow = true) {
  const a = Fastify();
  let now = 1_000;
  registerNetworkRoutes(a, {membership, now: () => now++, allow: () => allow});
  return a;
}

describe("GET /network/v1/nodes", () => {
  it("is 503 before the first membership and 429 when rate limited", async () => {
    const m = service();
    expect((await app(m).inject("/network/v1/nodes")).body).toBe("Service node is not ready: membership not loaded\n");
    m.apply({text: JSON.stringify({version: 1, network_id: 7070, nodes: records}), origin: "t"});
    expect((await app(m, false).inject("/network/v1/nodes")).statusCode).toBe(429);
  });

  it("lists every node with its swarm, the rejected records and our swarm, with a fresh t", async () => {
    const m = service();
    const forged = {...records[5]!, port: 9};
    m.apply({text: JSON.stringify({version: 1, network_id: 7070, nodes: [...records.slice(0, 5), forged]}), origin: "t"});
    const a = app(m);
    const first = (await a.inject("/network/v1/nodes")).json();
    const second = (await a.inject("/network/v1/nodes")).json();
    expect(second.t).toBe(first.t + 1);
    expect({...second, t: first.t}).toEqual(first);
    expect(first).toMatchObject({network_id: 7070, mode: "balanced", swarm_count: 1, empty_swarms: [], our_node_id: records[0]!.nodeId, our_swarm: "0"});
    expect(first.nodes.map((n: {node_id: string}) => n.node_id)).toEqual(records.slice(0, 5).map((r) => r.nodeId).sort());
    expect(first.nodes[0]).toMatchObject({swarm: "0", host: expect.any(String), port: 22021, version: [0, 1, 0], total_stake: "15000000000000000000000"});
    expect(first.rejected).toEqual([{index: 5, node_id: forged.nodeId, code: "NODE_RECORD_ERROR_BAD_SIGNATURE", reason: expect.any(String)}]);
  });
});

describe("GET /network/v1/nodes/compact", () => {
  it("lists only what clients use, identical on every node of the membership, and answers 304 to its ETag", async () => {
    const m = service();
    expect((await app(m).inject("/network/v1/nodes/compact")).statusCode).toBe(503);
    m.apply({text: JSON.stringify({version: 1, network_id: 7070, nodes: records.slice(0, 5)}), origin: "t"});
    const a = app(m);
    const res = await a.inject("/network/v1/nodes/compact");
    expect(res.statusCode).toBe(200);
    const etag = res.headers.etag as string;
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{43}"$/);
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(["mode", "network_id", "nodes", "swarm_count"]);
    expect(Object.keys(body.nodes[0]).sort()).toEqual(["host", "node_id", "port", "pubkey_mldsa", "pubkey_mlkem", "swarm"]);
    expect(body.nodes.map((n: {node_id: string}) => n.node_id)).toEqual(records.slice(0, 5).map((r) => r.nodeId).sort());
    const full = await a.inject("/network/v1/nodes");
    expect(res.body.length).toBeLessThan(full.body.length);
    // No per-request or per-node field: a second request (and another node) serves the same bytes.
    expect((await a.inject("/network/v1/nodes/compact")).body).toBe(res.body);

    for (const header of [etag, `W/${etag}`, `"other", ${etag}`, "*"]) {
      const again = await a.inject({url: "/network/v1/nodes/compact", headers: {"if-none-match": header}});
      expect(again.statusCode, header).toBe(304);
      expect(again.body, header).toBe("");
      expect(again.headers.etag, header).toBe(etag);
    }
    expect((await a.inject({url: "/network/v1/nodes/compact", headers: {"if-none-match": '"stale"'}})).statusCode).toBe(200);

    m.apply({text: JSON.stringify({version: 1, network_id: 7070, nodes: records}), origin: "t"});
    const changed = await a.inject({url: "/network/v1/nodes/compact", headers: {"if-none-match": etag}});
    expect(changed.statusCode).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
    expect(changed.json().nodes).toHaveLength(6);
  });

  it("carries a node's X25519 onion key when its record has one (hex), and only then", async () => {
    const m = service();
    const x25519PublicKey = new Uint8Array(32).fill(0x42);
    const withKey = signedRecord(1, {x25519PublicKey});
    m.apply({text: JSON.stringify({version: 1, network_id: 7070, nodes: [records[0], withKey, ...records.slice(2, 5)]}), origin: "t"});
    const nodes = (await app(m).inject("/network/v1/nodes/compact")).json().nodes as Array<Record<string, unknown>>;
    expect(nodes.find((n) => n.node_id === withKey.nodeId)?.pubkey_x25519).toBe("42".repeat(32));
    expect(nodes.filter((n) => "pubkey_x25519" in n)).toHaveLength(1);
  });

  it("carries a TLS node's pin as tls.spki_sha256 (the client's https check needs it), and only for TLS nodes", async () => {
    const m = service();
    const tlsSpkiSha256 = new Uint8Array(32).fill(0xab);
    const tlsNode = signedRecord(2, {tlsSpkiSha256, x25519PublicKey: new Uint8Array(32).fill(0x42)});
    m.apply({text: JSON.stringify({version: 1, network_id: 7070, nodes: [records[0], records[1], tlsNode, ...records.slice(3, 5)]}), origin: "t"});
    const nodes = (await app(m).inject("/network/v1/nodes/compact")).json().nodes as Array<Record<string, unknown>>;
    expect(nodes.find((n) => n.node_id === tlsNode.nodeId)?.tls).toEqual({spki_sha256: "ab".repeat(32)});
    expect(nodes.filter((n) => "tls" in n)).toHaveLength(1);
  });

  it("the full list carries a node's BLS key and proof of possession (hex) when its record has them, and only then", async () => {
    const m = service();
    const sk = generateBlsSecretKey(new Uint8Array(32).fill(7));
    const blsNode = signedRecord(3, {x25519PublicKey: new Uint8Array(32).fill(0x42), blsPublicKey: blsPublicKey(sk), blsProofOfPossession: blsProofOfPossession(sk)});
    m.apply({text: JSON.stringify({version: 1, network_id: 7070, nodes: [records[0], records[1], records[2], blsNode, records[4]]}), origin: "t"});
    const nodes = (await app(m).inject("/network/v1/nodes")).json().nodes as Array<Record<string, unknown>>;
    expect(nodes.find((n) => n.node_id === blsNode.nodeId)?.bls).toEqual({
      public_key: Buffer.from(blsPublicKey(sk)).toString("hex"),
      proof_of_possession: Buffer.from(blsProofOfPossession(sk)).toString("hex"),
    });
    expect(nodes.filter((n) => "bls" in n)).toHaveLength(1);
  });

  it("is rate limited like the full list", async () => {
    const m = service();
    m.apply({text: JSON.stringify({version: 1, network_id: 7070, nodes: records}), origin: "t"});
    expect((await app(m, false).inject("/network/v1/nodes/compact")).statusCode).toBe(429);
  });
});
