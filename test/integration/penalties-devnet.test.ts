/**
 * Penalty reports on a small devnet (issue #18, PIP-0008 §7.1): three StorageNodes in one swarm
 * whose records carry their BLS keys; one node stops; the two others challenge it, each signs a
 * no-answer penalty report with its BLS key; `pars-storage audit --penalties-from` collects them
 * over GET /proof/v1/penalties, aggregates them into one slashing report that verifies against the
 * membership's records, and `audit --slashing` verifies the written bundle offline (a tampered one fails).
 */
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {runCli, type CliIo} from "../../src/cli/run.js";
import {StorageNode} from "../../src/node/index.js";
import {randomBytes} from "node:crypto";
import {PeerClient} from "../../src/peer/index.js";
import {
  challengeToJson,
  judge,
  keysToJson,
  peerProofTransport,
  signChallenge,
  type EvidenceBundle,
  type JudgeInput,
  type PeerInfo,
  type ProofTransport,
} from "../../src/proofs/index.js";
import {InlineSigner} from "../../src/signer/context-signer.js";
import type {StoredMessage} from "../../src/storage/interface.js";
import {signOwnRecord} from "../../src/swarm/index.js";
import {sessionHash} from "../utils/keys.js";
import {testPq} from "../utils/rpc-harness.js";
import {SwarmHarness, waitFor} from "../utils/swarm-harness.js";

// Peer challenges off (the test drives them through the scheduler's hook) and hour-long proof epochs.
const h = new SwarmHarness({
  mode: "pip0008",
  flags: {"proofs.epochMs": "3600000", "proofs.challengeIntervalMs": "0", "metrics.enabled": "false"},
});
const LABELS = ["penalties/a", "penalties/b", "penalties/c"];
const ACCOUNT = `05${"6b".repeat(32)}`;
const nodes: StorageNode[] = [];
const messages: StoredMessage[] = Array.from({length: 20}, (_, i) => {
  const data = Buffer.from(`penalty devnet message ${i}`);
  const now = Date.now();
  return {account: ACCOUNT, namespace: 0, hash: sessionHash(ACCOUNT, 0, data), timestamp: now, expiry: now + 86_400_000, data};
});

async function startNode(label: string): Promise<StorageNode> {
  const {node} = await h.startNode(label);
  nodes.push(node);
  return node;
}

/** The node's record as `pars-storage record` makes it: with its BLS key and proof of possession. */
function record(n: StorageNode): ReturnType<typeof signOwnRecord> {
  const port = Number(new URL(n.httpUrl).port);
  return signOwnRecord(
    {
      networkId: 7072,
      identity: n.identity,
      bls: n.bls,
      host: "127.0.0.1",
      port,
      stake: {operator: {address: `0x${n.nodeId.slice(0, 40)}`, amount: (15_000n * 10n ** 18n).toString()}, contributors: []},
      version: "0.1.0",
      timestampMs: Date.now(),
    },
    nobleFor(),
  );
}
let pq: Awaited<ReturnType<typeof testPq>>;
const nobleFor = (): typeof pq => pq;

const peerInfo = (n: StorageNode): PeerInfo => ({nodeId: n.nodeId, keys: {mlDsa: n.identity.mlDsa.publicKey, mlKem: n.identity.mlKem.publicKey}});
/** Finds the test's nodes by node ID, as a node's own peer client finds its peers in the membership. */
const testPeers = new PeerClient(
  {},
  {
    directory: {
      addressOf: (nodeId) => {
        const node = nodes.find((n) => n.nodeId === nodeId);
        return node === undefined ? null : {nodeId, host: "127.0.0.1", port: Number(new URL(node.httpUrl).port)};
      },
    },
  },
);
const httpTransport: ProofTransport = peerProofTransport(testPeers);

/**
 * `challenger` challenges `target` for message `m` over HTTP as its scheduler does and hands the
 * verdict to the same hook (ledger, then penalty report). The scheduler itself picks only messages
 * of a commitment older than its newest, which a test cannot wait for in proof epochs of an hour.
 */
async function challenge(challenger: StorageNode, target: StorageNode, m: StoredMessage): Promise<EvidenceBundle> {
  const me = challenger.identity;
  const challengerKeys = {mlDsa: me.mlDsa.publicKey, mlKem: me.mlKem.publicKey};
  const unsigned = {challengerId: me.nodeId, targetId: target.nodeId, messageHash: m.hash, nonce: randomBytes(32)};
  const signed = await signChallenge(unsigned, new InlineSigner(pq, me.mlDsa.secretKey));
  const rules = challenger.proofs!.rules;
  const issuedAt = Date.now();
  let answer: unknown = null;
  try {
    const body = JSON.stringify({challenge: challengeToJson(signed), challengerKeys: keysToJson(challengerKeys)});
    answer = JSON.parse(await httpTransport.sendChallenge(peerInfo(target), body, rules.deadlineMs));
  } catch {
    answer = null;
  }
  const message = {data: m.data, account: m.account, namespace: m.namespace};
  const input: JudgeInput = {challenge: signed, challengerKeys, targetKeys: peerInfo(target).keys, answer, message, observed: {issuedAt, answerReceivedAt: Date.now()}, committedBy: null, rules};
  const evidence = {...input, verdict: judge(input, pq)};
  challenger.proofs!.recordVerdict(evidence);
  return evidence;
}

beforeAll(async () => {
  pq = await testPq();
  for (const label of LABELS) await startNode(label);
  h.writeMembership(nodes.map(record));
  await waitFor("membership on every node", () => nodes.every((n) => n.membership?.snapshot?.ourSwarm === 0n));
  for (const n of nodes) await n.store.storeBulk(messages);
  for (const n of nodes) expect(await n.proofs!.runEpoch()).not.toBeNull();
});

afterAll(async () => {
  await testPeers.close();
  await h.close();
});

describe("penalty reports on a devnet", () => {
  it("a stopped node is reported by its challengers; the aggregate verifies and audit says so", async () => {
    const [a, b, c] = nodes as [StorageNode, StorageNode, StorageNode];
    expect((await challenge(a, b, messages[3]!)).verdict).toEqual({outcome: "pass"});
    expect(a.proofs!.penalties!.list({limit: 5})).toEqual([]);
    await h.stopNode(h.nodes[1]!);
    expect((await challenge(a, b, messages[4]!)).verdict).toMatchObject({outcome: "fail", reason: "no-answer"});
    expect((await challenge(c, b, messages[5]!)).verdict).toMatchObject({outcome: "fail", reason: "no-answer"});
    const [row] = a.proofs!.penalties!.list({limit: 5});
    expect(row!.report).toMatchObject({accusedId: b.nodeId, kind: "no-answer", reporterId: a.nodeId, networkId: 7072});
    const epoch = row!.report.epoch;

    const dir = mkdtempSync(join(tmpdir(), "pars-penalty-audit-"));
    try {
      const out: string[] = [];
      const err: string[] = [];
      const io: CliIo = {stdout: (l) => out.push(l), stderr: (l) => err.push(l), env: {}, cwd: dir};
      const collect = ["audit", "--penalties-from", `${a.httpUrl},${c.httpUrl}`, "--accused", b.nodeId, "--epoch", String(epoch)];
      const code = await runCli([...collect, "--membership", h.membershipFile, "--evidence", "slash.json", "--crypto.pqBackend", "noble"], io);
      expect(code, err.join("\n")).toBe(0);
      expect(out.at(-1)).toBe("slashing report VERIFIED (2 reporters)");
      const bundle = JSON.parse(readFileSync(join(dir, "slash.json"), "utf8")) as {slashingReport: {reports: {reporterId: string}[]}; records: unknown[]};
      expect(bundle.slashingReport.reports.map((r) => r.reporterId)).toEqual([a.nodeId, c.nodeId].sort());
      expect(bundle.records).toHaveLength(2);

      out.length = 0;
      expect(await runCli(["audit", "--slashing", "slash.json", "--crypto.pqBackend", "noble"], io)).toBe(0);
      expect(out.at(-1)).toBe("slashing report VERIFIED (2 reporters)");

      const forged = {...bundle, slashingReport: {...bundle.slashingReport, epoch: epoch + 1}};
      writeFileSync(join(dir, "forged.json"), JSON.stringify(forged));
      out.length = 0;
      expect(await runCli(["audit", "--slashing", "forged.json", "--crypto.pqBackend", "noble"], io)).toBe(1);
      expect(out.at(-1)).toMatch(/^slashing report INVALID: the aggregate signature does not verify/);
    } finally {
      rmSync(dir, {recursive: true, force: true});
    }
  });
});
