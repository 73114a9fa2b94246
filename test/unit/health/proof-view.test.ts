import {describe, expect, it} from "vitest";
import type {PqBackend} from "../../../src/crypto/interface.js";
import {NetworkProofView} from "../../../src/health/proof-view.js";
import {ManualClock} from "../../../src/util/clock.js";
import {T0, json, member, nobleBackend, proof, type TestMember} from "./helpers.js";

const a = member(0);
const b = member(1);
const outsider = member(2);
const SKEW = 30_000;

function view(members: TestMember[] = [a, b], pq: PqBackend = nobleBackend) {
  const clock = new ManualClock(T0);
  const keys = new Map(members.map((m) => [m.nodeId, m.keys]));
  const v = new NetworkProofView({maxClockSkewMs: SKEW}, {memberKeys: (id) => keys.get(id) ?? null, pq, clock});
  return {v, clock};
}

/** The noble backend with a count of ML-DSA verifications. */
function countingPq(): {pq: PqBackend; verifies: () => number} {
  let n = 0;
  const mlDsa65 = {...nobleBackend.mlDsa65, verify: (...args: Parameters<PqBackend["mlDsa65"]["verify"]>) => (n++, nobleBackend.mlDsa65.verify(...args))};
  return {pq: {...nobleBackend, mlDsa65}, verifies: () => n};
}

describe("NetworkProofView", () => {
  it("accepts a node's own proof verified with the membership's key", async () => {
    const {v} = view();
    const p = await proof(a);
    expect(v.offerJson(a.nodeId, json(p))).toEqual({kind: "accepted"});
    expect(v.get(a.nodeId)?.usedBytes).toBe(1_000);
    expect(v.version).toBe(1);
  });

  it("rejects a proof signed with a key other than the membership's key for that node", async () => {
    const {v} = view();
    const forged = await proof(a, {signedBy: b});
    const result = v.offerJson(a.nodeId, json(forged));
    expect(result).toEqual({kind: "rejected", reason: "signature does not verify with the membership's key"});
    expect(v.get(a.nodeId)).toBeNull();
    expect(v.version).toBe(0);
  });

  it("rejects another node's valid proof served by a node (a dead node must not look alive)", async () => {
    const {v} = view();
    const result = v.offerJson(b.nodeId, json(await proof(a)));
    expect(result.kind).toBe("rejected");
    expect(v.get(a.nodeId)).toBeNull();
    expect(v.get(b.nodeId)).toBeNull();
  });

  it("rejects nodes outside the membership, proofs from the future and garbage, without throwing", async () => {
    const {v} = view();
    expect(v.offerJson(outsider.nodeId, json(await proof(outsider)))).toEqual({kind: "rejected", reason: "not in the membership"});
    expect(v.noteVerified(await proof(outsider))).toEqual({kind: "rejected", reason: "not in the membership"});
    expect(v.offerJson(a.nodeId, json(await proof(a, {timestamp: T0 + SKEW + 1}))).kind).toBe("rejected");
    expect(v.offerJson(a.nodeId, json(await proof(a, {timestamp: T0 + SKEW})))).toEqual({kind: "accepted"});
    for (const garbage of [null, "x", 42, [], {}, {...(json(await proof(b)) as object), extra: 1}]) {
      expect(v.offerJson(b.nodeId, garbage).kind, JSON.stringify(garbage)).toBe("rejected");
    }
    expect(v.size).toBe(1);
  });

  it("keeps the newest proof per node and verifies only proofs that would replace it", async () => {
    const {pq, verifies} = countingPq();
    const {v} = view([a, b], pq);
    const older = await proof(a, {timestamp: T0 - 60_000, usedBytes: 1});
    const newer = await proof(a, {timestamp: T0, usedBytes: 2});
    expect(v.offerJson(a.nodeId, json(newer)).kind).toBe("accepted");
    expect(v.offerJson(a.nodeId, json(older)).kind).toBe("kept");
    expect(v.offerJson(a.nodeId, json(newer)).kind).toBe("kept");
    expect(v.noteVerified(older).kind).toBe("kept");
    expect(verifies()).toBe(1);
    expect(v.get(a.nodeId)?.usedBytes).toBe(2);
    // Same timestamp, different content: the held proof stays (nothing newer was shown).
    expect(v.offerJson(a.nodeId, json(await proof(a, {timestamp: T0, usedBytes: 3}))).kind).toBe("kept");
    const newest = await proof(a, {timestamp: T0 + 1, usedBytes: 4});
    expect(v.noteVerified(newest).kind).toBe("accepted");
    expect(v.get(a.nodeId)).toBe(newest);
    expect(verifies()).toBe(1);
  });

  it("drops the proofs of nodes that left the membership", async () => {
    const {v} = view();
    v.offerJson(a.nodeId, json(await proof(a)));
    v.offerJson(b.nodeId, json(await proof(b)));
    const before = v.version;
    v.retain(new Set([b.nodeId]));
    expect(v.get(a.nodeId)).toBeNull();
    expect(v.get(b.nodeId)).not.toBeNull();
    expect(v.version).toBe(before + 1);
  });
});
