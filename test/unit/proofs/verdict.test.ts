/** Every verdict reason, produced by a real signed exchange with one part changed. */
import {beforeAll, describe, expect, it} from "vitest";
import {
  BUCKET_COUNT,
  answerFromCommitment,
  challengeDigest,
  decodeMessageHash,
  judge,
  signAnswer,
  signChallenge,
  signProof,
  type ChallengeAnswer,
  type Commitment,
  type JudgeInput,
  type StorageChallenge,
  type StorageProof,
  type UnsignedAnswer,
} from "../../../src/proofs/index.js";
import type {PqBackend} from "../../../src/crypto/interface.js";
import type {StoredMessage} from "../../../src/storage/interface.js";
import {FULL, build, HOUR_MS, message, party, proofStore, T0, type Party} from "./helpers.js";

const RULES = {deadlineMs: 10_000, maxProofAgeMs: 1_500_000, maxClockSkewMs: 30_000};
const RECEIVED = T0 + 60_000;

let pq: PqBackend;
let target: Party;
let challenger: Party;
let stranger: Party;
let commitment: Commitment;
let proof: StorageProof;
let challenge: StorageChallenge;
let msg: StoredMessage;
let honest: UnsignedAnswer;

async function challengeFor(m: StoredMessage, nonceByte = 1, by: Party = challenger): Promise<StorageChallenge> {
  const unsigned = {challengerId: challenger.identity.nodeId, targetId: target.identity.nodeId, messageHash: m.hash, nonce: Buffer.alloc(32, nonceByte)};
  return signChallenge(unsigned, by.signer);
}

beforeAll(async () => {
  [target, challenger, stranger] = await Promise.all([party("target"), party("challenger"), party("stranger")]);
  const s = await proofStore();
  pq = s.pq;
  const messages = Array.from({length: 40}, (_, i) => message(i));
  msg = messages[3]!;
  await s.store.storeBulk(messages);
  commitment = await build(s.tables, null, FULL, T0);
  const {root: merkleRoot, messageCount, usedBytes} = commitment;
  proof = await signProof({nodeId: target.identity.nodeId, swarmId: 0, merkleRoot, messageCount, usedBytes, timestamp: T0}, target.signer);
  challenge = await challengeFor(msg);
  honest = answerFromCommitment({commitment, proof}, challenge, msg, {receivedAt: RECEIVED, answeredAt: RECEIVED + 25});
  await s.store.close();
});

function input(answer: unknown, over: Partial<JudgeInput> = {}): JudgeInput {
  const observed = {issuedAt: RECEIVED - 10, answerReceivedAt: RECEIVED + 40};
  const message = {data: msg.data, account: msg.account, namespace: msg.namespace};
  return {challenge, challengerKeys: challenger.keys, targetKeys: target.keys, answer, message, observed, committedBy: T0, rules: RULES, ...over};
}

async function signed(over: Partial<UnsignedAnswer> = {}, by: Party = target): Promise<ChallengeAnswer> {
  return signAnswer({...honest, ...over}, by.signer);
}

describe("judge", () => {
  it("passes an honest answer, decoded or as JSON", async () => {
    const answer = await signed();
    expect(judge(input(answer), pq)).toEqual({outcome: "pass"});
    const {answerToJson} = await import("../../../src/proofs/answer.js");
    expect(judge(input(JSON.parse(JSON.stringify(answerToJson(answer)))), pq)).toEqual({outcome: "pass"});
    expect(judge(input(answer, {observed: null}), pq)).toEqual({outcome: "pass"});
  });

  it("inconclusive when the challenge itself is bad (not the target's fault)", async () => {
    const answer = await signed();
    const forgedChallenge = await challengeFor(msg, 1, stranger);
    expect(judge(input(answer, {challenge: forgedChallenge}), pq)).toMatchObject({outcome: "inconclusive", reason: "invalid-challenge"});
    expect(judge(input(answer, {targetKeys: stranger.keys}), pq)).toMatchObject({outcome: "inconclusive", reason: "invalid-challenge"});
    const wrongData = {data: Buffer.from("other"), account: msg.account, namespace: msg.namespace};
    expect(judge(input(answer, {message: wrongData}), pq)).toMatchObject({outcome: "inconclusive", reason: "invalid-challenge"});
    expect(judge(input(answer, {message: null}), pq)).toMatchObject({outcome: "inconclusive", reason: "no-data"});
  });

  it("no-answer and malformed", () => {
    expect(judge(input(null), pq)).toMatchObject({outcome: "fail", reason: "no-answer"});
    for (const garbage of ["garbage", 42, {}, [], {status: "held"}, {signature: new Uint8Array(3)}]) {
      expect(judge(input(garbage), pq), JSON.stringify(garbage)).toMatchObject({outcome: "fail", reason: "malformed"});
    }
  });

  it("bad-signature: signed by another key, or changed after signing", async () => {
    expect(judge(input(await signed({}, stranger)), pq)).toMatchObject({reason: "bad-signature"});
    const answer = await signed();
    expect(judge(input({...answer, receivedAt: answer.receivedAt + 1}), pq)).toMatchObject({reason: "bad-signature"});
    expect(judge(input({...answer, possession: Buffer.alloc(32)}), pq)).toMatchObject({reason: "bad-signature"});
  });

  it("mismatched-challenge: a signed answer to another challenge", async () => {
    const other = await challengeFor(msg, 2);
    expect(judge(input(await signed({challengeDigest: challengeDigest(other)})), pq)).toMatchObject({reason: "mismatched-challenge"});
  });

  it("late-answer and bad-timestamp", async () => {
    expect(judge(input(await signed({answeredAt: RECEIVED + 10_001})), pq)).toMatchObject({reason: "late-answer"});
    const answer = await signed();
    expect(judge(input(answer, {observed: {issuedAt: RECEIVED - 10, answerReceivedAt: RECEIVED + 10_100}}), pq)).toMatchObject({reason: "late-answer"});
    expect(judge(input(await signed({answeredAt: RECEIVED - 1})), pq)).toMatchObject({reason: "bad-timestamp"});
    expect(judge(input(answer, {observed: {issuedAt: RECEIVED + 40_000, answerReceivedAt: RECEIVED + 40_050}}), pq)).toMatchObject({reason: "bad-timestamp"});
  });

  it("missing: the target says it lost the message", async () => {
    const missing = answerFromCommitment({commitment, proof}, challenge, null, {receivedAt: RECEIVED, answeredAt: RECEIVED + 5});
    expect(judge(input(await signAnswer(missing, target.signer)), pq)).toMatchObject({outcome: "fail", reason: "missing"});
  });

  it("root-not-signed and stale-proof", async () => {
    const foreign = await signProof({...proof}, stranger.signer);
    expect(judge(input(await signed({proof: foreign})), pq)).toMatchObject({reason: "root-not-signed"});
    expect(judge(input(await signed({proof: {...proof, messageCount: proof.messageCount + 1}})), pq)).toMatchObject({reason: "root-not-signed"});
    const old = await signProof({...proof, timestamp: RECEIVED - RULES.maxProofAgeMs - 20}, target.signer);
    expect(judge(input(await signed({proof: old})), pq)).toMatchObject({reason: "stale-proof"});
    const future = await signProof({...proof, timestamp: RECEIVED + 10 * 60_000}, target.signer);
    expect(judge(input(await signed({proof: future})), pq)).toMatchObject({reason: "stale-proof"});
  });

  it("bad-possession: the digest was not computed from the data", async () => {
    const fake = answerFromCommitment({commitment, proof}, challenge, {...msg, data: Buffer.from("dropped")}, {receivedAt: RECEIVED, answeredAt: RECEIVED + 5});
    expect(judge(input(await signAnswer(fake, target.signer)), pq)).toMatchObject({reason: "bad-possession"});
  });

  it("wrong-leaf: another message, wrong fields, or expired at the proof time", async () => {
    const leaf = honest.leaf!;
    expect(judge(input(await signed({leaf: {...leaf, messageHash: message(4).hash}})), pq)).toMatchObject({reason: "wrong-leaf"});
    expect(judge(input(await signed({leaf: {...leaf, size: leaf.size + 1}})), pq)).toMatchObject({reason: "wrong-leaf"});
    expect(judge(input(await signed({leaf: {...leaf, namespace: leaf.namespace + 1}})), pq)).toMatchObject({reason: "wrong-leaf"});
    expect(judge(input(await signed({leaf: {...leaf, expiry: T0}})), pq)).toMatchObject({reason: "wrong-leaf"});
    // Without the challenger's account/namespace, a leaf naming others fails the hash check.
    const bare = {data: msg.data};
    expect(judge(input(await signed({leaf: {...leaf, account: message(4).account}}), {message: bare}), pq)).toMatchObject({reason: "wrong-leaf"});
  });

  it("path-mismatch: wrong bucket, index or path node", async () => {
    const inc = honest.inclusion!;
    expect(judge(input(await signed({inclusion: {...inc, bucket: (inc.bucket + 1) % BUCKET_COUNT}})), pq)).toMatchObject({reason: "path-mismatch"});
    const size = inc.bucketSize;
    if (size > 1) expect(judge(input(await signed({inclusion: {...inc, leafIndex: (inc.leafIndex + 1) % size}})), pq)).toMatchObject({reason: "path-mismatch"});
    const top = [...inc.topPath];
    top[5] = Buffer.alloc(32, 9);
    expect(judge(input(await signed({inclusion: {...inc, topPath: top}})), pq)).toMatchObject({reason: "path-mismatch"});
    expect(judge(input(await signed({inclusion: {...inc, bucketSize: size + 5}})), pq)).toMatchObject({reason: "path-mismatch"});
  });

  it("uncommitted: a failure once the proof must contain the message, inconclusive before", async () => {
    const unc = await signed({status: "uncommitted", inclusion: null});
    expect(judge(input(unc), pq)).toMatchObject({outcome: "fail", reason: "uncommitted"});
    expect(judge(input(unc, {committedBy: T0 + 1}), pq)).toMatchObject({outcome: "inconclusive", reason: "uncommitted"});
    expect(judge(input(unc, {committedBy: null}), pq)).toMatchObject({outcome: "inconclusive", reason: "uncommitted"});
  });

  it("the honest answer locates a leaf whose expiry changed since the proof (committed values are used)", () => {
    const changed = answerFromCommitment({commitment, proof}, challenge, {...msg, expiry: msg.expiry + HOUR_MS}, {receivedAt: RECEIVED, answeredAt: RECEIVED + 5});
    expect(changed.status).toBe("held");
    expect(changed.leaf?.expiry).toBe(msg.expiry);
    expect(decodeMessageHash(changed.leaf!.messageHash)).not.toBeNull();
  });
});
