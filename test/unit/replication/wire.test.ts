import {describe, expect, it, vi} from "vitest";
import {
  DIGEST_BUCKETS,
  DIGEST_BUCKET_BYTES,
  MAX_LIST_MESSAGES,
  MAX_PROOF_ANSWER_BYTES,
  MAX_PROOF_REQUEST_BYTES,
  decodePeerReply,
  decodePeerRequest,
  encodePeerMessage,
  expectReply,
  type PeerReply,
  type PeerRequest,
} from "../../../src/replication/wire.js";
import {valueJson} from "../../../src/util/index.js";

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

  describe("rpc_batch_ok with shared signatures", () => {
    const SIG = "S".repeat(4412);
    const entry = (i: number, sig = SIG): Record<string, unknown> => ({hash: HASH, signature: sig, signature_proof: {t: 1, n: 3, i, path: []}, expiry: 5, t: 9});
    const results = [
      {status: 200, body: entry(0)},
      {status: 200, body: entry(1)},
      {status: 406, body: "Timestamp error: check your clock"},
      {status: 200, body: entry(2, "T".repeat(4412))},
      {status: 500, body: {failed: true, query_failure: true, reason: "x"}},
    ];

    it("sends each distinct signature once and gives the entry node back the same entries, keys in order", () => {
      const bytes = encodePeerMessage({type: "rpc_batch_ok", results, shareSignatures: true});
      const wire = JSON.parse(new TextDecoder().decode(bytes)) as {signatures: string[]; results: Array<{body: unknown}>};
      expect(wire.signatures).toEqual([SIG, "T".repeat(4412)]);
      expect(Object.keys(wire.results[1]?.body as object)).toEqual(["hash", "signature_ref", "signature_proof", "expiry", "t"]);
      expect(wire.results.map((r) => (r.body as {signature_ref?: number}).signature_ref)).toEqual([0, 0, undefined, 1, undefined]);
      const plain = encodePeerMessage({type: "rpc_batch_ok", results});
      expect(bytes.length, "three 4.4 KB signatures → two").toBeLessThan(plain.length - 4000);
      const decoded = decodePeerReply(bytes);
      expect(decoded).toEqual({type: "rpc_batch_ok", results});
      // The client response is built from these bodies: same bytes as the peer's own entries.
      expect(decoded.type === "rpc_batch_ok" && decoded.results.map((r) => JSON.stringify(r.body))).toEqual(results.map((r) => JSON.stringify(r.body)));
      // A reply without the table (a peer that predates it) decodes as before.
      expect(decodePeerReply(plain)).toEqual({type: "rpc_batch_ok", results});
    });

    it("gives the entry node entries that write a shared signature's JSON once per reply, with JSON.stringify's bytes", () => {
      const decoded = decodePeerReply(encodePeerMessage({type: "rpc_batch_ok", results, shareSignatures: true}));
      const bodies = decoded.type === "rpc_batch_ok" ? decoded.results.map((r) => r.body) : [];
      const stringify = vi.spyOn(JSON, "stringify");
      let texts: Array<string | undefined>;
      try {
        texts = bodies.map((b) => valueJson(b));
        // The client response is written through valueJson: SIG (two entries) escaped once, not per entry.
        const withSig = stringify.mock.calls.filter(([v]) => v === SIG || (v as {signature?: unknown} | null)?.signature === SIG);
        expect(withSig).toHaveLength(1);
      } finally {
        stringify.mockRestore();
      }
      expect(texts).toEqual(results.map((r) => JSON.stringify(r.body)));
      // An entry changed after decoding (another signature, a new key) is written as it now is.
      const [first, second] = bodies as Array<Record<string, unknown>>;
      if (first === undefined || second === undefined) throw new Error("two entries expected");
      first.signature = "c2ln";
      second.extra = {a: [1, "b"]};
      delete second.t;
      expect([valueJson(first), valueJson(second)]).toEqual([JSON.stringify(first), JSON.stringify(second)]);
    });

    it("is asked for by the batch request; a request without the flag is still accepted", () => {
      const call = {method: "store", params: {pubkey: ACCOUNT}};
      expect(decodePeerRequest(encodePeerMessage({type: "rpc_batch", requests: [call], sharedSignatures: true}))).toEqual({
        type: "rpc_batch",
        requests: [call],
        sharedSignatures: true,
      });
      expect(decodePeerRequest(json({v: 1, type: "rpc_batch", requests: [call]}))).toEqual({type: "rpc_batch", requests: [call]});
      expect(() => decodePeerRequest(json({v: 1, type: "rpc_batch", requests: [call], shared_signatures: "yes"}))).toThrow(
        expect.objectContaining({code: "REPLICATION_ERROR_BAD_MESSAGE"}),
      );
    });

    it("refuses a reference that does not resolve", () => {
      const body = (b: Record<string, unknown>): Uint8Array => json({v: 1, type: "rpc_batch_ok", signatures: ["c2ln"], results: [{status: 200, body: b}]});
      const bad: Array<[string, Uint8Array]> = [
        ["out of range", body({hash: HASH, signature_ref: 1})],
        ["negative", body({hash: HASH, signature_ref: -1})],
        ["not an integer", body({hash: HASH, signature_ref: "0"})],
        ["next to a signature", body({hash: HASH, signature_ref: 0, signature: "c2ln"})],
        ["a table of non-strings", json({v: 1, type: "rpc_batch_ok", signatures: [1], results: []})],
      ];
      for (const [what, bytes] of bad) {
        expect(() => decodePeerReply(bytes), what).toThrow(expect.objectContaining({code: "REPLICATION_ERROR_BAD_MESSAGE"}));
      }
    });
  });

  it("expectReply turns an error reply into PEER_REFUSED with the peer's code", () => {
    expect(expectReply("p", {type: "push_ok", held: []}, "push_ok")).toEqual({type: "push_ok", held: []});
    expect(() => expectReply("p", {type: "error", code: "not_in_swarm", message: "x"}, "digest_ok")).toThrow(
      expect.objectContaining({code: "REPLICATION_ERROR_PEER_REFUSED", type: {code: "REPLICATION_ERROR_PEER_REFUSED", peer: "p", peerCode: "not_in_swarm"}}),
    );
  });

  it("carries storage-proof objects as they are, within the proof routes' size caps", () => {
    const request = {challenge: {challengerId: "aa", nonce: "bb"}, challengerKeys: {mlDsa: "x"}};
    const cases: Array<PeerRequest | PeerReply> = [
      {type: "proof_challenge", request},
      {type: "proof_push", proof: {nodeId: "aa", timestamp: 1}},
    ];
    for (const m of cases) expect(decodePeerRequest(encodePeerMessage(m)), m.type).toEqual(m);
    expect(decodePeerReply(encodePeerMessage({type: "proof_answer_ok", answer: {status: "found"}}))).toEqual({type: "proof_answer_ok", answer: {status: "found"}});
    expect(decodePeerReply(encodePeerMessage({type: "proof_push_ok"}))).toEqual({type: "proof_push_ok"});
    const pad = (n: number): string => "x".repeat(n);
    const bad: Array<[string, () => unknown]> = [
      ["challenge not an object", () => decodePeerRequest(json({v: 1, type: "proof_challenge", request: [1]}))],
      ["proof missing", () => decodePeerRequest(json({v: 1, type: "proof_push"}))],
      ["challenge too large", () => decodePeerRequest(json({v: 1, type: "proof_challenge", request: {pad: pad(MAX_PROOF_REQUEST_BYTES)}}))],
      ["proof too large", () => decodePeerRequest(json({v: 1, type: "proof_push", proof: {pad: pad(MAX_PROOF_REQUEST_BYTES)}}))],
      ["answer too large", () => decodePeerReply(json({v: 1, type: "proof_answer_ok", answer: {pad: pad(MAX_PROOF_ANSWER_BYTES)}}))],
    ];
    for (const [what, run] of bad) expect(run, what).toThrow(expect.objectContaining({code: "REPLICATION_ERROR_BAD_MESSAGE"}));
  });
});
