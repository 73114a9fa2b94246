/**
 * Penalty reports (issue #18, PIP-0008 §7.1): the signed message, the reporter hooked to the
 * challenge ledger, GET /proof/v1/penalties, and slashing reports aggregated from several
 * challengers that verify offline with the reporters' BLS keys.
 */
import Fastify from "fastify";
import {afterEach, describe, expect, it} from "vitest";
import {registerProofRoutes} from "../../../src/api/http/routes/proofs.js";
import {blsPublicKey, generateBlsSecretKey} from "../../../src/crypto/index.js";
import {
  answerToJson,
  aggregatePenaltyReports,
  LocalEngine,
  PenaltyReporter,
  PenaltyStore,
  penaltyEvidenceHash,
  penaltyKindOf,
  penaltyMessage,
  penaltyReportFromJson,
  penaltyReportToJson,
  ProofService,
  signPenaltyReport,
  slashingReportFromJson,
  slashingReportToJson,
  verifyPenaltyReport,
  verifySlashingReport,
  type PeerInfo,
  type PenaltyReport,
  type ProofTransport,
} from "../../../src/proofs/index.js";
import {PenaltyTables} from "../../../src/storage/index.js";
import {HOUR_MS, message, party, proofStore, silent, T0, type Party, type ProofStore} from "./helpers.js";

const ID = (c: string): string => c.repeat(64);
const statement = {networkId: 7072, accusedId: ID("b"), epoch: 5, kind: "wrong-proof" as const, evidenceHash: new Uint8Array(32).fill(0xee)};
const keys = [1, 2, 3].map((i) => generateBlsSecretKey(new Uint8Array(32).fill(i)));

describe("penalty report message and signatures", () => {
  it("is domain ‖ u32 network ‖ accused ‖ u64 epoch ‖ u8 kind ‖ evidence hash", () => {
    const m = Buffer.from(penaltyMessage(statement));
    const domain = "pars-storage/v1/penalty-report";
    expect(m.length).toBe(1 + domain.length + 4 + 32 + 8 + 1 + 32);
    expect(m[0]).toBe(domain.length);
    expect(m.subarray(1, 31).toString("latin1")).toBe(domain);
    expect(m.readUInt32BE(31)).toBe(7072);
    expect(m.subarray(35, 67).toString("hex")).toBe(ID("b"));
    expect(m.readBigUInt64BE(67)).toBe(5n);
    expect(m[75]).toBe(1);
    expect(Buffer.from(penaltyMessage({...statement, kind: "no-answer"}))[75]).toBe(2);
    expect(m.subarray(76).toString("hex")).toBe("ee".repeat(32));
  });

  it("maps verdicts to kinds: no answer (or too late) is no-answer, any other failure wrong-proof, pass/inconclusive nothing", () => {
    expect(penaltyKindOf({outcome: "fail", reason: "no-answer", detail: ""})).toBe("no-answer");
    expect(penaltyKindOf({outcome: "fail", reason: "late-answer", detail: ""})).toBe("no-answer");
    expect(penaltyKindOf({outcome: "fail", reason: "missing", detail: ""})).toBe("wrong-proof");
    expect(penaltyKindOf({outcome: "fail", reason: "bad-signature", detail: ""})).toBe("wrong-proof");
    expect(penaltyKindOf({outcome: "pass"})).toBeNull();
    expect(penaltyKindOf({outcome: "inconclusive", reason: "no-data", detail: ""})).toBeNull();
  });

  it("a report verifies with its reporter's key only, and not once a field changed", () => {
    const report = signPenaltyReport(statement, ID("a"), keys[0]!);
    expect(verifyPenaltyReport(report, blsPublicKey(keys[0]!))).toBe(true);
    expect(verifyPenaltyReport(report, blsPublicKey(keys[1]!))).toBe(false);
    expect(verifyPenaltyReport({...report, epoch: 6}, blsPublicKey(keys[0]!))).toBe(false);
    expect(verifyPenaltyReport({...report, kind: "no-answer"}, blsPublicKey(keys[0]!))).toBe(false);
    expect(penaltyReportFromJson(penaltyReportToJson(report))).toEqual(report);
  });

  it("aggregates reports of several reporters (own evidence each) into one slashing report that verifies offline", () => {
    const reporters = [ID("c"), ID("a"), ID("d")];
    const reports = reporters.map((id, i) =>
      signPenaltyReport({...statement, kind: i === 2 ? "no-answer" : "wrong-proof", evidenceHash: new Uint8Array(32).fill(i)}, id, keys[i]!),
    );
    const other = signPenaltyReport({...statement, epoch: 4}, ID("e"), keys[0]!); // another epoch: left out
    const slashing = aggregatePenaltyReports([...reports, reports[0]!, other], ID("b"), 5)!;
    expect(slashing.reports.map((r) => r.reporterId)).toEqual([ID("a"), ID("c"), ID("d")]);
    const keyOf = (id: string): Uint8Array | null => {
      const i = reporters.indexOf(id);
      return i < 0 ? null : blsPublicKey(keys[i]!);
    };
    expect(verifySlashingReport(slashing, keyOf)).toEqual({ok: true, reporters: [ID("a"), ID("c"), ID("d")]});
    const roundTrip = slashingReportFromJson(JSON.parse(JSON.stringify(slashingReportToJson(slashing))));
    expect(verifySlashingReport(roundTrip, keyOf).ok).toBe(true);

    const tampered = {...slashing, reports: slashing.reports.map((r, i) => (i === 0 ? {...r, kind: "no-answer" as const} : r))};
    expect(verifySlashingReport(tampered, keyOf)).toMatchObject({ok: false, reason: /does not verify/});
    expect(verifySlashingReport({...slashing, epoch: 6}, keyOf).ok).toBe(false);
    expect(verifySlashingReport({...slashing, reports: slashing.reports.slice(1)}, keyOf).ok).toBe(false);
    expect(verifySlashingReport(slashing, (id) => (id === ID("a") ? null : keyOf(id)))).toMatchObject({ok: false, reason: /no BLS key/});
    expect(verifySlashingReport({...slashing, reports: [...slashing.reports].reverse()}, keyOf)).toMatchObject({ok: false, reason: /sorted/});
    expect(verifySlashingReport({...slashing, accusedId: ID("a")}, keyOf)).toMatchObject({ok: false, reason: /itself/});
    expect(aggregatePenaltyReports(reports, ID("f"), 5)).toBeNull();
    expect(() => slashingReportFromJson({...slashingReportToJson(slashing), extra: 1})).toThrow();
  });
});

interface TestNode {
  party: Party;
  s: ProofStore;
  service: ProofService;
  bls: Uint8Array;
  peers: PeerInfo[];
}

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** Challenges go to the node with the peer's ID; a node missing from `nodes` does not answer. */
function loopback(nodes: Map<string, TestNode>): ProofTransport {
  return {
    async sendChallenge(peer, body) {
      const target = nodes.get(peer.nodeId);
      if (target === undefined) throw new Error("ECONNREFUSED");
      return JSON.stringify(answerToJson(await target.service.answer(JSON.parse(body))));
    },
    sendProof(peer, body) {
      nodes.get(peer.nodeId)?.service.acceptPeerProof(JSON.parse(body));
      return Promise.resolve();
    },
  };
}

const EPOCHS = {epochMs: HOUR_MS, genesisMs: 0};

async function node(label: string, nodes: Map<string, TestNode>, members: () => Party[]): Promise<TestNode> {
  const p = await party(label);
  const s = await proofStore();
  const bls = generateBlsSecretKey(Buffer.alloc(32, label));
  const n: TestNode = {party: p, s, bls, peers: [], service: null as unknown as ProofService};
  const store = new PenaltyStore(new PenaltyTables(s.store.db));
  const reporter = new PenaltyReporter({networkId: 7072, epochs: EPOCHS, keepReports: 100}, {nodeId: p.identity.nodeId, blsSecretKey: bls, store, clock: s.clock, logger: silent});
  n.service = new ProofService(
    {epochMs: HOUR_MS, challengeIntervalMs: 0, replicationDelayMs: 0, expiryMarginMs: 0},
    {
      tables: s.tables,
      engine: new LocalEngine(s.tables.reader, {sliceBudgetMs: 1_000}),
      events: s.store,
      signer: p.signer,
      pq: s.pq,
      self: {nodeId: p.identity.nodeId, keys: p.keys},
      swarm: {ourSwarm: () => 3, peers: () => n.peers, memberKeys: (id) => members().find((m) => m.identity.nodeId === id)?.keys ?? null},
      transport: loopback(nodes),
      clock: s.clock,
      logger: silent,
      random: () => 0.5,
      penalties: {reporter, store},
    },
  );
  nodes.set(p.identity.nodeId, n);
  cleanup.push(async () => {
    await n.service.close();
    await n.s.store.close();
  });
  return n;
}

describe("penalty reports from challenges", () => {
  it("challengers of a failing node sign reports; GET /proof/v1/penalties serves them; their aggregate verifies", async () => {
    const nodes = new Map<string, TestNode>();
    const members: Party[] = [];
    const [a, b, c] = [await node("pen-a", nodes, () => members), await node("pen-b", nodes, () => members), await node("pen-c", nodes, () => members)];
    members.push(a.party, b.party, c.party);
    const info = (n: TestNode): PeerInfo => ({nodeId: n.party.identity.nodeId, keys: n.party.keys});
    a.peers = [info(b)];
    c.peers = [info(b)];
    b.peers = [info(a), info(c)]; // b accepts their StorageProofs
    const messages = Array.from({length: 10}, (_, i) => message(i, {expiry: T0 + 30 * HOUR_MS}));
    for (const n of [a, b, c]) await n.s.store.storeBulk(messages);
    for (const [n, at] of [[a, T0], [a, T0 + 1000], [c, T0], [c, T0 + 1000], [b, T0 + 2000]] as const) {
      n.s.clock.set(at);
      expect(await n.service.runEpoch(), `${n.party.identity.nodeId.slice(0, 6)} at ${at - T0}`).not.toBeNull();
    }
    expect((await a.service.scheduler.challengeOnce())?.verdict).toEqual({outcome: "pass"});
    expect(a.service.penalties!.list({limit: 10})).toEqual([]); // a pass is not reported

    // b loses its data (a's challenge: wrong proof), then stops answering (c's challenge: no answer).
    b.s.store.db.sqlite.prepare("DELETE FROM messages").run();
    expect((await a.service.scheduler.challengeOnce())?.verdict).toMatchObject({outcome: "fail", reason: "missing"});
    nodes.delete(b.party.identity.nodeId);
    expect((await c.service.scheduler.challengeOnce())?.verdict).toMatchObject({outcome: "fail", reason: "no-answer"});

    const bId = b.party.identity.nodeId;
    const epoch = Math.floor((T0 + 1000) / HOUR_MS);
    const [rowA] = a.service.penalties!.list({limit: 10});
    expect(rowA!.report).toMatchObject({accusedId: bId, epoch, kind: "wrong-proof", reporterId: a.party.identity.nodeId, networkId: 7072});
    expect(rowA!.report.evidenceHash).toEqual(penaltyEvidenceHash(rowA!.evidence!));
    expect(JSON.parse(rowA!.evidence!)).toMatchObject({verdict: {outcome: "fail", reason: "missing"}});
    expect(verifyPenaltyReport(rowA!.report, blsPublicKey(a.bls))).toBe(true);

    const app = Fastify();
    registerProofRoutes(app, {proofs: c.service, nodeId: c.party.identity.nodeId, now: () => T0, allow: () => true, allowChallenge: () => true});
    const res = await app.inject({method: "GET", url: `/proof/v1/penalties?accused=${bId}&epoch=${epoch}&evidence=1`});
    expect(res.statusCode).toBe(200);
    const body = JSON.parse(res.body) as {nodeId: string; reports: {report: unknown; evidence: string}[]};
    expect(body.nodeId).toBe(c.party.identity.nodeId);
    expect(body.reports).toHaveLength(1);
    const fromC: PenaltyReport = penaltyReportFromJson(body.reports[0]!.report);
    expect(fromC).toMatchObject({kind: "no-answer", accusedId: bId});
    expect(fromC.evidenceHash).toEqual(penaltyEvidenceHash(body.reports[0]!.evidence));
    expect((await app.inject({method: "GET", url: "/proof/v1/penalties?accused=XYZ"})).statusCode).toBe(400);
    expect((await app.inject({method: "GET", url: `/proof/v1/penalties?accused=${"0".repeat(64)}`})).json()).toMatchObject({reports: []});
    await app.close();

    const slashing = aggregatePenaltyReports([rowA!.report, fromC], bId, epoch)!;
    const blsOf = new Map([a, c].map((n) => [n.party.identity.nodeId, blsPublicKey(n.bls)]));
    expect(verifySlashingReport(slashing, (id) => blsOf.get(id) ?? null)).toMatchObject({ok: true});
    expect(slashing.reports).toHaveLength(2);
  });
});
