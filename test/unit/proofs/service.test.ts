/** ProofService with in-memory stores, inline signers and an in-process transport between two nodes. */
import {afterEach, describe, expect, it} from "vitest";
import {
  BUCKET_COUNT,
  answerToJson,
  challengeToJson,
  evidenceFromJson,
  judge,
  keysToJson,
  proofToJson,
  signProof,
  ChallengeScheduler,
  LocalEngine,
  ProofService,
  signChallenge,
  verifyEvidence,
  bucketOf,
  decodeMessageHash,
  type PeerInfo,
  type ProofTransport,
  type SwarmContext,
} from "../../../src/proofs/index.js";
import {CommitmentStore} from "../../../src/storage/index.js";
import type {CommitmentPersistence} from "../../../src/proofs/persisted.js";
import type {StoredMessage} from "../../../src/storage/interface.js";
import {CTX} from "../../../src/crypto/index.js";
import type {ContextSigner} from "../../../src/signer/index.js";
import {HOUR_MS, message, party, persistenceOf, proofStore, silent, T0, type Party, type ProofStore} from "./helpers.js";

interface TestProofNode {
  party: Party;
  s: ProofStore;
  service: ProofService;
  peers: PeerInfo[];
  inSwarm: boolean;
}

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** Routes challenges and proofs to the node with the peer's ID (its `answer()` / `acceptPeerProof()`). */
function loopback(nodes: Map<string, TestProofNode>): ProofTransport {
  return {
    async sendChallenge(peer, body) {
      const target = nodes.get(peer.nodeId);
      if (target === undefined) throw new Error("unreachable");
      return JSON.stringify(answerToJson(await target.service.answer(JSON.parse(body))));
    },
    sendProof(peer, body) {
      nodes.get(peer.nodeId)?.service.acceptPeerProof(JSON.parse(body));
      return Promise.resolve();
    },
  };
}

/**
 * `persist`: the engine writes its commitment to the node's database, as a node's does (through
 * `persist(store)` when it is a function: a test's wrapper).
 */
async function node(label: string, nodes: Map<string, TestProofNode>, members: () => Party[], persist: boolean | ((store: CommitmentStore) => CommitmentPersistence) = false): Promise<TestProofNode> {
  const p = await party(label);
  const s = await proofStore();
  const n: TestProofNode = {party: p, s, peers: [], inSwarm: true, service: null as unknown as ProofService};
  const swarm: SwarmContext = {
    ourSwarm: () => (n.inSwarm ? 3 : null),
    peers: () => n.peers,
    memberKeys: (id) => members().find((m) => m.identity.nodeId === id)?.keys ?? null,
  };
  n.service = new ProofService(
    {epochMs: 3_600_000, challengeIntervalMs: 0, replicationDelayMs: 0, expiryMarginMs: 0},
    {tables: s.tables, engine: new LocalEngine(s.tables.reader, {sliceBudgetMs: 1_000, ...(persist === false ? {} : {store: persisted(new CommitmentStore(s.store.db.sqlite), persist)})}), events: s.store, signer: p.signer, pq: s.pq, self: {nodeId: p.identity.nodeId, keys: p.keys}, swarm, transport: loopback(nodes), clock: s.clock, logger: silent, random: () => 0.5},
  );
  nodes.set(p.identity.nodeId, n);
  cleanup.push(async () => {
    await n.service.close();
    await n.s.store.close();
  });
  return n;
}

function persisted(store: CommitmentStore, persist: true | ((store: CommitmentStore) => CommitmentPersistence)): CommitmentPersistence {
  return persist === true ? store : persist(store);
}

async function pair(persist: boolean | ((store: CommitmentStore) => CommitmentPersistence) = false): Promise<{a: TestProofNode; b: TestProofNode; messages: StoredMessage[]}> {
  const nodes = new Map<string, TestProofNode>();
  const members: Party[] = [];
  const a = await node("svc-a", nodes, () => members, persist);
  const b = await node("svc-b", nodes, () => members, persist);
  members.push(a.party, b.party);
  a.peers = [{nodeId: b.party.identity.nodeId, keys: b.party.keys}];
  b.peers = [{nodeId: a.party.identity.nodeId, keys: a.party.keys}];
  const messages = Array.from({length: 30}, (_, i) => message(i, {expiry: T0 + 30 * HOUR_MS}));
  await a.s.store.storeBulk(messages);
  await b.s.store.storeBulk(messages);
  return {a, b, messages};
}

async function epoch(n: TestProofNode, at: number): Promise<void> {
  n.s.clock.set(at);
  expect(await n.service.runEpoch()).not.toBeNull();
}

describe("ProofService", () => {
  it("tells GET /health whether challenges are answered yet and how far a running refresh got", async () => {
    const {a} = await pair();
    expect(a.service.healthFacts()).toEqual({proofReady: false, commitmentBuild: null});
    a.s.clock.set(T0);
    // The engine in this thread runs its first slice at once: the refresh is under way on return.
    const running = a.service.runEpoch();
    expect(a.service.healthFacts()).toMatchObject({proofReady: false, commitmentBuild: {full: true, total: BUCKET_COUNT}});
    expect(await running).not.toBeNull();
    expect(a.service.healthFacts()).toEqual({proofReady: true, commitmentBuild: null});
  });

  it("signs a StorageProof per epoch, keeps it, sends it to peers, and reloads history after a restart", async () => {
    const {a, b} = await pair();
    await epoch(a, T0);
    const proof = a.service.latest!;
    expect(proof).toMatchObject({nodeId: a.party.identity.nodeId, swarmId: 3, messageCount: 30, timestamp: T0});
    await epoch(a, T0 + 1000);
    expect(a.service.proofs.map((p) => p.timestamp)).toEqual([T0 + 1000, T0]);
    expect(b.service.health.get(a.party.identity.nodeId)?.latestProof?.timestamp).toBe(T0 + 1000);
    expect(a.s.tables.recentProofs(10)).toHaveLength(2);
    const again = new ProofService({challengeIntervalMs: 0}, {tables: a.s.tables, engine: new LocalEngine(a.s.tables.reader, {sliceBudgetMs: 1_000}), events: a.s.store, signer: a.party.signer, pq: a.s.pq, self: {nodeId: a.party.identity.nodeId, keys: a.party.keys}, swarm: {ourSwarm: () => null, peers: () => [], memberKeys: () => null}, transport: loopback(new Map()), clock: a.s.clock, logger: silent});
    again.start();
    expect(again.proofs.map((p) => p.timestamp)).toEqual([T0 + 1000, T0]);
    expect(await again.runEpoch()).toBeNull(); // not in a swarm: no proof
    await again.close();
  });

  it("answers challenges and refuses wrong targets, unknown or forged challengers, and before its first proof", async () => {
    const {a, b, messages} = await pair();
    const stranger = await party("svc-stranger");
    const unsigned = {challengerId: a.party.identity.nodeId, targetId: b.party.identity.nodeId, messageHash: messages[2]!.hash, nonce: Buffer.alloc(32, 7)};
    const challenge = await signChallenge(unsigned, a.party.signer);
    await expect(b.service.answer({challenge: challengeToJson(challenge)})).rejects.toMatchObject({code: "PROOF_ERROR_NOT_READY"});
    await epoch(b, T0);
    const answer = await b.service.answer({challenge: challengeToJson(challenge)});
    const m = messages[2]!;
    const rules = a.service.rules;
    const verdict = judge({challenge, challengerKeys: a.party.keys, targetKeys: b.party.keys, answer, message: m, observed: null, committedBy: T0, rules}, a.s.pq);
    expect(verdict).toEqual({outcome: "pass"});
    await expect(a.service.answer({challenge: challengeToJson(challenge)})).rejects.toMatchObject({code: "PROOF_ERROR_WRONG_TARGET"});
    await expect(b.service.answer({challenge: {...challengeToJson(challenge), nonce: "11".repeat(32)}})).rejects.toMatchObject({code: "PROOF_ERROR_BAD_SIGNATURE"});
    const auditor = await signChallenge({...unsigned, challengerId: stranger.identity.nodeId}, stranger.signer);
    await expect(b.service.answer({challenge: challengeToJson(auditor)})).rejects.toMatchObject({code: "PROOF_ERROR_UNKNOWN_CHALLENGER"});
    const audited = await b.service.answer({challenge: challengeToJson(auditor), challengerKeys: keysToJson(stranger.keys)});
    expect(audited.status).toBe("held");
    await expect(b.service.answer({challenge: "nope"})).rejects.toMatchObject({code: "PROOF_ERROR_MALFORMED"});
    expect(() => b.service.acceptPeerProof({...proofToJson(a.service.latest ?? b.service.latest!), nodeId: stranger.identity.nodeId})).toThrow(/membership/);
  });

  it("signs answers with its answer signer when it has one, and proofs with the node's signer", async () => {
    const {a, b, messages} = await pair();
    const used: string[] = [];
    const counting = (name: string): ContextSigner => ({
      sign: (message, context) => (used.push(`${name} ${Buffer.from(context).toString()}`), b.party.signer.sign(message, context)),
      close: () => Promise.resolve(),
    });
    const swarm: SwarmContext = {ourSwarm: () => 3, peers: () => [], memberKeys: (id) => (id === a.party.identity.nodeId ? a.party.keys : null)};
    const modules = {tables: b.s.tables, engine: new LocalEngine(b.s.tables.reader, {sliceBudgetMs: 1_000}), events: b.s.store, pq: b.s.pq, self: {nodeId: b.party.identity.nodeId, keys: b.party.keys}, swarm, transport: loopback(new Map()), clock: b.s.clock, logger: silent};
    const service = new ProofService({challengeIntervalMs: 0}, {...modules, signer: counting("node"), answerSigner: counting("answers")});
    cleanup.push(() => service.close());
    b.s.clock.set(T0);
    expect(await service.runEpoch()).not.toBeNull();
    const challenge = await signChallenge({challengerId: a.party.identity.nodeId, targetId: b.party.identity.nodeId, messageHash: messages[3]!.hash, nonce: Buffer.alloc(32, 9)}, a.party.signer);
    const answer = await service.answer({challenge: challengeToJson(challenge)});
    expect(answer.status).toBe("held");
    expect(used).toEqual([`node ${Buffer.from(CTX.STORAGE_PROOF).toString()}`, `answers ${Buffer.from(CTX.CHALLENGE_ANSWER).toString()}`]);
  });

  it("accepts a pushed proof only from a swarm peer, for our swarm, newer than the one held (issue #11 item 7)", async () => {
    const nodes = new Map<string, TestProofNode>();
    const members: Party[] = [];
    const a = await node("svc-a", nodes, () => members);
    const b = await node("svc-b", nodes, () => members);
    // A member of the membership in another swarm, with its own genuine proof.
    const outsider = await node("svc-outsider", nodes, () => members);
    members.push(a.party, b.party, outsider.party);
    a.peers = [{nodeId: b.party.identity.nodeId, keys: b.party.keys}];
    b.peers = [{nodeId: a.party.identity.nodeId, keys: a.party.keys}];
    const a2b = (p: Parameters<typeof proofToJson>[0]) => () => b.service.acceptPeerProof(proofToJson(p));
    const refused = (code: string): Error => expect.objectContaining({code}) as Error;
    const aId = a.party.identity.nodeId;

    await epoch(outsider, T0);
    expect(a2b(outsider.service.latest!)).toThrow(refused("PROOF_ERROR_NOT_SWARM_PEER"));
    await epoch(b, T0);
    expect(a2b(b.service.latest!), "a node's own proof, relayed back to it").toThrow(refused("PROOF_ERROR_NOT_SWARM_PEER"));

    await epoch(a, T0 + 2_000); // pushed to b
    const older = await signProof({...a.service.latest!, timestamp: T0 + 1_000}, a.party.signer);
    expect(a2b(a.service.latest!), "the same proof again").toThrow(refused("PROOF_ERROR_STALE"));
    expect(a2b(older), "an older proof").toThrow(refused("PROOF_ERROR_STALE"));
    expect(b.service.health.get(aId)?.latestProof?.timestamp).toBe(T0 + 2_000);

    const otherSwarm = await signProof({...a.service.latest!, swarmId: 4, timestamp: T0 + 3_000}, a.party.signer);
    expect(a2b(otherSwarm)).toThrow(refused("PROOF_ERROR_NOT_SWARM_PEER"));
    const future = await signProof({...a.service.latest!, timestamp: b.s.clock.now() + 3_600_000}, a.party.signer);
    expect(a2b(future), "dated an hour ahead: it would block a's real proofs").toThrow(refused("PROOF_ERROR_STALE"));
    const forged = {...proofToJson({...a.service.latest!, timestamp: T0 + 4_000})};
    expect(() => b.service.acceptPeerProof(forged)).toThrow(refused("PROOF_ERROR_BAD_SIGNATURE"));
    expect(b.service.health.get(aId)?.latestProof?.timestamp).toBe(T0 + 2_000);

    const newer = await signProof({...a.service.latest!, timestamp: T0 + 5_000}, a.party.signer);
    expect(b.service.acceptPeerProof(proofToJson(newer)).timestamp).toBe(T0 + 5_000);
    expect(b.service.health.get(aId)?.latestProof?.timestamp).toBe(T0 + 5_000);
  });

  it("peers challenge each other: a pass, then a failure with evidence once the target lost the message", async () => {
    const {a, b, messages} = await pair();
    await epoch(a, T0);
    await epoch(a, T0 + 1000);
    await epoch(b, T0 + 2000);
    const first = await a.service.scheduler.challengeOnce();
    expect(first?.verdict).toEqual({outcome: "pass"});
    expect(a.service.health.get(b.party.identity.nodeId)).toMatchObject({passes: 1, fails: 0});
    // b loses every message behind the store's back; its latest proof still lists them.
    b.s.store.db.sqlite.prepare("DELETE FROM messages").run();
    const second = await a.service.scheduler.challengeOnce();
    expect(second?.verdict).toMatchObject({outcome: "fail", reason: "missing"});
    const [row] = a.service.ledger.list(1);
    expect(row).toMatchObject({outcome: "fail", reason: "missing", targetId: b.party.identity.nodeId});
    const check = verifyEvidence(evidenceFromJson(row!.evidence!), a.s.pq, {trustObserved: false});
    expect(check).toMatchObject({agrees: true, verdict: {reason: "missing"}});
    expect(a.service.health.get(b.party.identity.nodeId)).toMatchObject({passes: 1, fails: 1, consecutiveFailures: 1, lastFailureReason: "missing"});
    expect(messages.length).toBe(30);
  });

  it("with a persisting engine, whose change log is trimmed only after a refresh returned, the messages of earlier epochs stay candidates", async () => {
    const {a, b} = await pair(true);
    await epoch(a, T0);
    await epoch(a, T0 + 1000);
    await epoch(b, T0 + 2000);
    // The second refresh found the first one's log rows still there (its write follows it): they
    // are no change since the previous commitment, so every message can be challenged for.
    expect(a.service.candidate()).not.toBeNull();
    expect((await a.service.scheduler.challengeOnce())?.verdict).toEqual({outcome: "pass"});
  });

  it("a refresh right after one whose write has not landed rebuilds only its own changes' buckets, not the earlier ones still logged", async () => {
    // The header's commit (which trims the change log) is held: the earlier rows stay logged.
    let held = false;
    const holding = (store: CommitmentStore): CommitmentPersistence =>
      persistenceOf(store, {
        commit: (header, full) => {
          if (held) throw new Error("held");
          store.commit(header, full);
        },
      });
    const {a} = await pair(holding);
    await epoch(a, T0);
    held = true;
    const bucketsOf = (ms: StoredMessage[]): number => new Set(ms.map((m) => bucketOf(decodeMessageHash(m.hash)!))).size;
    const first = Array.from({length: 10}, (_, i) => message(100 + i, {expiry: T0 + 30 * HOUR_MS}));
    await a.s.store.storeBulk(first);
    await epoch(a, T0 + 1000);
    expect(a.service.lastRefresh?.rebuilt).toBe(bucketsOf(first));
    const second = Array.from({length: 5}, (_, i) => message(200 + i, {expiry: T0 + 30 * HOUR_MS}));
    await a.s.store.storeBulk(second);
    await epoch(a, T0 + 2000);
    // Before: the 10 earlier messages' buckets again, beside the 5 new ones'.
    expect(a.service.lastRefresh?.rebuilt).toBe(bucketsOf(second));
    expect(a.service.latest?.messageCount).toBe(45);
  });

  it("a transport failure is a no-answer failure; no peers or no previous commitment means no challenge", async () => {
    const {a, b} = await pair();
    expect(await a.service.scheduler.challengeOnce()).toBeNull(); // no commitment yet
    await epoch(a, T0);
    await epoch(a, T0 + 1);
    const verdicts: unknown[] = [];
    const down: ProofTransport = {sendChallenge: () => Promise.reject(new Error("ECONNREFUSED")), sendProof: () => Promise.resolve()};
    const scheduler = new ChallengeScheduler(
      {challengeIntervalMs: 0, rules: a.service.rules},
      {
        self: {nodeId: a.party.identity.nodeId, keys: a.party.keys},
        peers: () => [],
        pickCandidate: () => a.service.candidate(),
        signer: a.party.signer,
        pq: a.s.pq,
        clock: a.s.clock,
        transport: down,
        onVerdict: (e) => verdicts.push(e.verdict),
        logger: silent,
        randomBytes: (n) => Buffer.alloc(n, 1),
      },
    );
    expect(await scheduler.challengeOnce()).toBeNull(); // no peers
    const e = await scheduler.challengeOnce({nodeId: b.party.identity.nodeId, keys: b.party.keys});
    expect(e?.verdict).toMatchObject({outcome: "fail", reason: "no-answer"});
    expect(verdicts).toHaveLength(1);
  });
});
