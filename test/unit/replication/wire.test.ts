import {describe, expect, it} from "vitest";
import {
  DIGEST_BUCKETS,
  DIGEST_BUCKET_BYTES,
  MAX_LIST_MESSAGES,
  decodePeerReply,
  decodePeerRequest,
  encodePeerMessage,
  expectReply,
  type PeerReply,
  type PeerRequest,
} from "../../../src/replication/wire.js";

const HASH = "4sMyAuaZlMwww3oFvfhazfw7ASx/7TDtO+TVc8aAjHs";
const ACCOUNT = `05${"ab".repeat(32)}`;
const message = {account: ACCOUNT, hash: HASH, namespace: -10, timestamp: 1_700_000_000_000, expiry: 1_700_000_360_000, data: Buffer.from("hello")};
const tombstone = {hash: HASH, account: ACCOUNT, cap: 0, until: 1_700_000_360_000};
const json = (o: object): Uint8Array => new TextEncoder().encode(JSON.stringify(o));

describe("peer messages v1", () => {
  it("round-trips every request type", () => {
    const requests: PeerRequest[] = [
      {type: "rpc", method: "store", params: {pubkey: ACCOUNT, data: "aGk="}},
      {type: "push", messages: [message], tombstones: [tombstone]},
      {type: "digest", swarm: "1a"},
      {type: "hashes", swarm: "0", buckets: [0, 4095]},
      {type: "fetch", swarm: "ffffffffffffffff", hashes: [HASH]},
    ];
    for (const r of requests) expect(decodePeerRequest(encodePeerMessage(r)), r.type).toEqual(r);
  });

  it("round-trips every reply type", () => {
    const digest = new Uint8Array(DIGEST_BUCKETS * DIGEST_BUCKET_BYTES).map((_, i) => i % 251);
    const replies: PeerReply[] = [
      {type: "rpc_ok", status: 200, body: {hash: HASH, signature: "c2ln"}},
      {type: "rpc_ok", status: 421, body: "wrong swarm"},
      {type: "push_ok", held: [HASH]},
      {type: "digest_ok", digest},
      {type: "hashes_ok", buckets: [{bucket: 7, messages: [HASH], tombstones: [tombstone]}]},
      {type: "fetch_ok", messages: [message], more: []},
      {type: "error", code: "not_in_swarm", message: "no"},
    ];
    for (const r of replies) expect(decodePeerReply(encodePeerMessage(r)), r.type).toEqual(r);
  });

  it("is JSON with v: 1 and base64 data on the wire", () => {
    const text = new TextDecoder().decode(encodePeerMessage({type: "push", messages: [message], tombstones: []}));
    expect(JSON.parse(text)).toEqual({v: 1, type: "push", tombstones: [], messages: [{...message, data: "aGVsbG8="}]});
  });

  it("refuses malformed messages with REPLICATION_ERROR_BAD_MESSAGE", () => {
    const bad: Array<[string, Uint8Array]> = [
      ["not JSON", new TextEncoder().encode("{")],
      ["an array", json([])],
      ["another version", json({v: 2, type: "digest", swarm: "0"})],
      ["unknown type", json({v: 1, type: "gossip"})],
      ["a bad swarm", json({v: 1, type: "digest", swarm: "0x1"})],
      ["a bucket out of range", json({v: 1, type: "hashes", swarm: "0", buckets: [4096]})],
      ["a bad hash", json({v: 1, type: "fetch", swarm: "0", hashes: ["abc"]})],
      ["too many hashes", json({v: 1, type: "fetch", swarm: "0", hashes: Array(MAX_LIST_MESSAGES + 1).fill(HASH)})],
      ["an uppercase account", json({v: 1, type: "push", messages: [{...message, account: ACCOUNT.toUpperCase(), data: ""}], tombstones: []})],
      ["a namespace out of range", json({v: 1, type: "push", messages: [{...message, namespace: 40_000, data: ""}], tombstones: []})],
      ["a negative cap", json({v: 1, type: "push", messages: [], tombstones: [{...tombstone, cap: -1}]})],
      ["rpc without params", json({v: 1, type: "rpc", method: "store"})],
    ];
    for (const [what, bytes] of bad) {
      expect(() => decodePeerRequest(bytes), what).toThrow(expect.objectContaining({code: "REPLICATION_ERROR_BAD_MESSAGE"}));
    }
    expect(() => decodePeerReply(json({v: 1, type: "digest_ok", digest: "AAAA"}))).toThrow(expect.objectContaining({code: "REPLICATION_ERROR_BAD_MESSAGE"}));
  });

  it("expectReply turns an error reply into PEER_REFUSED with the peer's code", () => {
    expect(expectReply("p", {type: "push_ok", held: []}, "push_ok")).toEqual({type: "push_ok", held: []});
    expect(() => expectReply("p", {type: "error", code: "not_in_swarm", message: "x"}, "digest_ok")).toThrow(
      expect.objectContaining({code: "REPLICATION_ERROR_PEER_REFUSED", type: {code: "REPLICATION_ERROR_PEER_REFUSED", peer: "p", peerCode: "not_in_swarm"}}),
    );
  });
});
