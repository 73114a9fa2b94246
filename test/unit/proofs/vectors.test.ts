/**
 * Known-answer vectors from test/fixtures/proofs/gen_vectors.py (an independent Python
 * implementation of docs/PROTOCOL.md (Storage proofs) with hashlib and pyca/cryptography).
 */
import {readFileSync} from "node:fs";
import {beforeAll, describe, expect, it} from "vitest";
import {
  answerFromJson,
  challengeDigest,
  challengeFromJson,
  encodeAnswerPayload,
  encodeChallengePayload,
  encodeLeafEntry,
  encodeProofPayload,
  evidenceFromJson,
  EMPTY_ROOT,
  judge,
  keysFromJson,
  LEAF_TAG,
  leafHash,
  nodeIdOf,
  pathFromLevels,
  POSSESSION_TAG,
  proofFromJson,
  rootFromPath,
  rootOf,
  treeLevels,
  verifyAnswerSignature,
  verifyChallenge,
  verifyEvidence,
  verifyProofSignature,
  dataDigest,
  bucketOf,
  decodeMessageHash,
} from "../../../src/proofs/index.js";
import type {PqBackend} from "../../../src/crypto/interface.js";
import {testPq} from "../../utils/rpc-harness.js";
import {FULL, build, proofStore} from "./helpers.js";

const V = JSON.parse(readFileSync(new URL("../../fixtures/proofs/vectors.json", import.meta.url), "utf8"));
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

let pq: PqBackend;
beforeAll(async () => {
  pq = await testPq();
});

describe("leaf and tree vectors", () => {
  it("constants", () => {
    expect(LEAF_TAG.toString()).toBe(V.constants.leafTag);
    expect(POSSESSION_TAG.toString()).toBe(V.constants.possessionTag);
    expect(hex(EMPTY_ROOT)).toBe(V.constants.emptyRoot);
  });

  it("leaf entries and leaf hashes", () => {
    for (const m of V.commitment.messages) {
      const data = Buffer.from(m.data, "base64");
      const entry = encodeLeafEntry({messageHash: m.hash, account: m.account, namespace: m.namespace, expiry: m.expiry, size: data.length, dataDigest: dataDigest(data)});
      expect(hex(entry), m.hash).toBe(m.entry);
      expect(hex(leafHash(entry)), m.hash).toBe(m.leafHash);
      expect(bucketOf(decodeMessageHash(m.hash)!), m.hash).toBe(m.bucket);
    }
  });

  it("RFC 6962 roots and audit paths for n = 0…13", () => {
    for (const t of V.trees) {
      const leaves = Buffer.concat(Array.from({length: t.n}, (_, i) => leafHash(Buffer.from(`entry-${i}`))));
      expect(hex(rootOf(leaves, t.n)), `n=${t.n}`).toBe(t.root);
      if (t.n === 0) continue;
      const levels = treeLevels(leaves, t.n);
      for (let i = 0; i < t.n; i++) {
        const path = pathFromLevels(levels, i);
        expect(path.map(hex), `n=${t.n} i=${i}`).toEqual(t.paths[i]);
        expect(hex(rootFromPath(leaves.subarray(i * 32, i * 32 + 32), i, t.n, path)!), `n=${t.n} i=${i}`).toBe(t.root);
      }
    }
  });
});

describe("commitment vector", () => {
  it("a store holding the vector messages commits to the Python root and paths", async () => {
    const {store, tables} = await proofStore();
    await store.storeBulk(V.commitment.messages.map((m: any) => ({account: m.account, hash: m.hash, namespace: m.namespace, timestamp: m.timestamp, expiry: m.expiry, data: Buffer.from(m.data, "base64")})));
    const c = await build(tables, null, FULL, V.commitment.timestamp);
    expect(hex(c.root)).toBe(V.commitment.root);
    expect(c.messageCount).toBe(V.commitment.messageCount);
    expect(c.usedBytes).toBe(V.commitment.usedBytes);
    for (const m of V.commitment.messages) {
      const [at] = [...c.locate(decodeMessageHash(m.hash)!)];
      expect(at, m.hash).toEqual({bucket: m.bucket, index: m.leafIndex});
      expect(c.bucketPath(at!).map(hex), m.hash).toEqual(m.bucketPath);
      expect(c.topPath(m.bucket).map(hex), m.hash).toEqual(m.topPath);
      expect(hex(c.buckets[m.bucket]!.root)).toBe(m.bucketRoot);
    }
    await store.close();
  });
});

describe("signed objects from the Python implementation", () => {
  const target = (): any => V.parties.target;
  const challenger = (): any => V.parties.challenger;

  it("node IDs follow from the keys", () => {
    expect(nodeIdOf(keysFromJson(target().keys, "k"))).toBe(target().nodeId);
    expect(nodeIdOf(keysFromJson(challenger().keys, "k"))).toBe(challenger().nodeId);
  });

  it("StorageProof payload and signature", () => {
    const proof = proofFromJson(V.proof.json);
    expect(hex(encodeProofPayload(proof))).toBe(V.proof.payload);
    const keys = keysFromJson(target().keys, "k");
    expect(verifyProofSignature(proof, keys.mlDsa, pq)).toBe(true);
    expect(verifyProofSignature({...proof, usedBytes: proof.usedBytes + 1}, keys.mlDsa, pq)).toBe(false);
  });

  it("StorageChallenge payload, digest and signature", () => {
    const c = challengeFromJson(V.challenge.json);
    expect(hex(encodeChallengePayload(c))).toBe(V.challenge.payload);
    expect(hex(challengeDigest(c))).toBe(V.challenge.digest);
    expect(verifyChallenge(c, keysFromJson(challenger().keys, "k"), pq)).toBe(true);
    expect(verifyChallenge(c, keysFromJson(target().keys, "k"), pq)).toBe(false);
  });

  it("answer payload and signature", () => {
    const a = answerFromJson(V.answer.json);
    expect(hex(encodeAnswerPayload(a))).toBe(V.answer.payload);
    expect(verifyAnswerSignature(a, keysFromJson(target().keys, "k").mlDsa, pq)).toBe(true);
  });

  it("the evidence bundle re-verifies offline with only its two public keys", () => {
    const e = evidenceFromJson(JSON.stringify(V.evidence));
    expect(verifyEvidence(e, pq)).toEqual({verdict: {outcome: "pass"}, agrees: true});
    expect(verifyEvidence(e, pq, {trustObserved: false}).agrees).toBe(true);
    const forged = evidenceFromJson({...V.evidence, answer: {...V.evidence.answer, possession: "00".repeat(32)}});
    expect(verifyEvidence(forged, pq).verdict).toMatchObject({outcome: "fail", reason: "bad-signature"});
    expect(judge({...e, answer: V.evidence.answer, message: {data: Buffer.from("not the data")}}, pq)).toMatchObject({outcome: "fail", reason: "wrong-leaf"});
  });
});
