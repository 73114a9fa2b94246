/**
 * Storage proofs with real nodes on loopback: three StorageNodes in one swarm (static membership),
 * each holding the same messages (stored directly, standing in for replication). Members challenge
 * each other and push their proofs sealed in the ML-KEM peer channel (the HTTP proof routes count
 * none of it, by the nodes' own pars_http_requests_total); the test also challenges over plain HTTP
 * (POST /proof/v1/challenge) as an auditor does, and with `pars-storage audit`.
 * Honest nodes pass; a node that lost a message, or kept its hash but not its data, fails; forged,
 * stale and mismatched signatures and roots are rejected; a late answer fails; the ledger's
 * evidence re-verifies offline.
 */
import {mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {Pool, request} from "undici";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {runCli, type CliIo} from "../../src/cli/run.js";
import {dataPaths, loadConfig} from "../../src/config/index.js";
import {encodeKeyFile} from "../../src/crypto/identity.js";
import {StorageNode} from "../../src/node/index.js";
import {PeerClient} from "../../src/peer/index.js";
import {
  answerFromJson,
  answerToJson,
  challengeToJson,
  evidenceFromJson,
  judge,
  keysToJson,
  peerProofTransport,
  signAnswer,
  signChallenge,
  signProof,
  verifyEvidence,
  type EvidenceBundle,
  type JudgeInput,
  type PeerInfo,
  type ProofTransport,
  type StorageChallenge,
} from "../../src/proofs/index.js";
import {InlineSigner} from "../../src/signer/context-signer.js";
import type {StoredMessage} from "../../src/storage/interface.js";
import {sessionHash} from "../utils/keys.js";
import {testPq} from "../utils/rpc-harness.js";
import {SwarmHarness, getJson, identityFor, waitFor} from "../utils/swarm-harness.js";
import {silentLogger} from "../utils/logger.js";

const h = new SwarmHarness({mode: "pip0008"});
const LABELS = ["proofs/a", "proofs/b", "proofs/c"];
const ACCOUNT = `05${"5a".repeat(32)}`;
const nodes: StorageNode[] = [];
const pools: Pool[] = [];
/** Finds the test's nodes by node ID, as a node's own peer client finds its peers in the membership. */
const testPeers = new PeerClient(
  {},
  {
    directory: {
      addressOf: (nodeId) => {
        const node = nodes.find((n) => n.nodeId === nodeId);
        if (node === undefined) return null;
        const url = new URL(node.httpUrl);
        return {nodeId, host: url.hostname, port: Number(url.port)};
      },
    },
  },
);
const httpTransport = peerProofTransport(testPeers);
const messages: StoredMessage[] = Array.from({length: 60}, (_, i) => {
  const data = Buffer.from(`proof integration message ${i} `.repeat(3));
  const now = Date.now();
  return {account: ACCOUNT, namespace: 0, hash: sessionHash(ACCOUNT, 0, data), timestamp: now, expiry: now + 86_400_000, data};
});

/** Like SwarmHarness.startNode, with peer challenges off (the test drives them) and long epochs. */
async function startProofNode(label: string): Promise<StorageNode> {
  const identity = await identityFor(label);
  const dir = join(h.baseDir, label.replace(/\W/g, "_"));
  mkdirSync(join(dir, "staking"), {recursive: true, mode: 0o700});
  writeFileSync(dataPaths({dataDir: dir}).keyFile, encodeKeyFile(identity), {mode: 0o600});
  const flags = {
    "data-dir": dir,
    "http-port": "0",
    network: "devnet",
    "membership.source": "static",
    "membership.file": h.membershipFile,
    "membership.pollIntervalMs": "200",
    "crypto.pqBackend": "noble",
    "rateLimit.enabled": "false",
    "proofs.epochMs": "3600000",
    "proofs.challengeIntervalMs": "0",
  };
  const node = await StorageNode.init(loadConfig({flags, env: {}}), {logger: silentLogger});
  nodes.push(node);
  pools.push(new Pool(node.httpUrl, {connections: 2, keepAliveTimeout: 10}));
  return node;
}

/** Requests the node's HTTP app answered on `route`, by its own metrics (pars_http_requests_total). */
async function routeHits(n: StorageNode, route: string): Promise<number> {
  const text = await (await request(n.metricsUrl!)).body.text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith("pars_http_requests_total{") && line.includes(`route="${route}"`)) sum += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return sum;
}

const peerInfo = (n: StorageNode): PeerInfo => ({
  nodeId: n.nodeId,
  keys: {mlDsa: n.identity.mlDsa.publicKey, mlKem: n.identity.mlKem.publicKey},
});

/** `challenger` challenges `target` for `m` exactly as the scheduler does, over HTTP. */
async function challenge(
  challenger: StorageNode,
  target: StorageNode,
  m: StoredMessage,
  transport: ProofTransport = httpTransport,
  rules = challenger.proofs!.rules,
): Promise<EvidenceBundle> {
  const pq = await testPq();
  const me = challenger.identity;
  const challengerKeys = {mlDsa: me.mlDsa.publicKey, mlKem: me.mlKem.publicKey};
  const unsigned = {challengerId: me.nodeId, targetId: target.nodeId, messageHash: m.hash, nonce: Buffer.from(crypto.getRandomValues(new Uint8Array(32)))};
  const signed = await signChallenge(unsigned, new InlineSigner(pq, me.mlDsa.secretKey));
  const service = challenger.proofs!;
  const issuedAt = Date.now();
  let answer: unknown = null;
  try {
    const body = JSON.stringify({challenge: challengeToJson(signed), challengerKeys: keysToJson(challengerKeys)});
    answer = JSON.parse(await transport.sendChallenge(peerInfo(target), body, rules.deadlineMs));
  } catch {
    answer = null;
  }
  const input: JudgeInput = {
    challenge: signed,
    challengerKeys,
    targetKeys: peerInfo(target).keys,
    answer,
    message: {data: m.data, account: m.account, namespace: m.namespace},
    observed: {issuedAt, answerReceivedAt: Date.now()},
    committedBy: null,
    rules,
  };
  const evidence = {...input, verdict: judge(input, pq)};
  service.ledger.record(evidence);
  return evidence;
}

beforeAll(async () => {
  for (const label of LABELS) await startProofNode(label);
  h.writeMembership(await Promise.all(nodes.map((n, i) => h.record(LABELS[i]!, Number(new URL(n.httpUrl).port)))));
  await waitFor("membership on every node", () => nodes.every((n) => n.membership?.snapshot?.ourSwarm === 0n));
  for (const n of nodes) await n.store.storeBulk(messages);
  for (const n of nodes) expect(await n.proofs!.runEpoch()).not.toBeNull();
});

afterAll(async () => {
  await testPeers.close();
  for (const p of pools) await p.close();
  for (const n of nodes.reverse()) await n.close();
  await h.close();
});

describe("storage proofs between real nodes", () => {
  it("serves the signed StorageProof at GET /proof/v1/latest and sends it to swarm peers", async () => {
    const res = await getJson(pools[1]!, "/proof/v1/latest");
    expect(res.status).toBe(200);
    expect(Object.keys(res.body).sort()).toEqual(["merkleRoot", "messageCount", "nodeId", "signature", "swarmId", "timestamp", "usedBytes"]);
    expect(res.body).toMatchObject({nodeId: nodes[1]!.nodeId, swarmId: 0, messageCount: messages.length});
    await waitFor("proof of b at a", () => nodes[0]!.proofs!.health.get(nodes[1]!.nodeId)?.latestProof?.timestamp === res.body.timestamp);
  });

  it("members' challenges, answers and proof pushes travel in the ML-KEM channel: the HTTP proof routes see none", async () => {
    await nodes[0]!.proofs!.runEpoch(); // the scheduler only picks messages of its previous commitment
    // Every node pushed its proof to both peers; each peer holds it.
    for (const n of nodes) {
      for (const p of nodes.filter((x) => x !== n)) {
        await waitFor("proof pushed", () => p.proofs!.health.get(n.nodeId)?.latestProof?.timestamp === n.proofs!.latest?.timestamp);
      }
    }
    const framesBefore = await routeHits(nodes[2]!, "/peer/v1/frame");
    const challengesBefore = await routeHits(nodes[2]!, "/proof/v1/challenge");
    const scheduled = await nodes[0]!.proofs!.scheduler.challengeOnce(peerInfo(nodes[2]!));
    expect(scheduled?.verdict).toEqual({outcome: "pass"});
    expect(await routeHits(nodes[2]!, "/proof/v1/challenge")).toBe(challengesBefore);
    expect(await routeHits(nodes[2]!, "/peer/v1/frame")).toBeGreaterThan(framesBefore);
    for (const n of nodes) expect(await routeHits(n, "/proof/v1/peer-proof"), n.nodeId).toBe(0);
    // An auditor outside the membership keeps the signed HTTP route.
    const audited = await challenge(nodes[0]!, nodes[2]!, messages[7]!);
    expect(audited.verdict).toEqual({outcome: "pass"});
    expect(await routeHits(nodes[2]!, "/proof/v1/challenge")).toBe(challengesBefore + 1);
  });

  it("an honest node passes, through the peer scheduler too", async () => {
    const e = await challenge(nodes[0]!, nodes[1]!, messages[5]!);
    expect(e.verdict).toEqual({outcome: "pass"});
    await nodes[0]!.proofs!.runEpoch(); // the scheduler only picks messages of its previous commitment
    const scheduled = await nodes[0]!.proofs!.scheduler.challengeOnce(peerInfo(nodes[2]!));
    expect(scheduled?.verdict).toEqual({outcome: "pass"});
  });

  it("a node that lost a message answers missing and fails", async () => {
    const victim = messages[10]!;
    nodes[1]!.store.db.sqlite.prepare("DELETE FROM messages WHERE hash = ?").run(victim.hash);
    const e = await challenge(nodes[0]!, nodes[1]!, victim);
    expect(e.verdict).toMatchObject({outcome: "fail", reason: "missing"});
  });

  it("a node that kept the hash but dropped the data fails the possession check", async () => {
    const victim = messages[11]!;
    nodes[2]!.store.db.sqlite.prepare("UPDATE messages SET data = zeroblob(length(data)) WHERE hash = ?").run(victim.hash);
    const e = await challenge(nodes[0]!, nodes[2]!, victim);
    expect(e.verdict).toMatchObject({outcome: "fail", reason: "bad-possession"});
  });

  it("rejects forged challenges, and forged, mismatched or stale answers and roots", async () => {
    const pq = await testPq();
    const [a, b] = [nodes[0]!, nodes[1]!];
    const m = messages[20]!;
    const mallory = await identityFor("proofs/mallory");
    const unsigned = {challengerId: a.nodeId, targetId: b.nodeId, messageHash: m.hash, nonce: Buffer.alloc(32, 3)};
    const forged = await signChallenge(unsigned, new InlineSigner(pq, mallory.mlDsa.secretKey));
    const res = await pools[1]!.request({path: "/proof/v1/challenge", method: "POST", body: JSON.stringify({challenge: challengeToJson(forged)})});
    expect(res.statusCode).toBe(403);
    expect(JSON.parse(await res.body.text())).toMatchObject({error: "PROOF_ERROR_BAD_SIGNATURE"});

    const honest = await challenge(a, b, m);
    expect(honest.verdict).toEqual({outcome: "pass"});
    const answer = answerFromJson(honest.answer);
    const rejudge = (over: Partial<JudgeInput>): ReturnType<typeof judge> => judge({...honest, ...over}, pq);
    const malloryKeys = {mlDsa: mallory.mlDsa.publicKey, mlKem: mallory.mlKem.publicKey};
    // The answer and root re-signed by someone else, a root swapped in, another challenge, a stale proof.
    const resigned = await signAnswer(answer, new InlineSigner(pq, mallory.mlDsa.secretKey));
    expect(rejudge({answer: answerToJson(resigned)})).toMatchObject({reason: "bad-signature"});
    const fakeRoot = {...answer.proof!, merkleRoot: Buffer.alloc(32, 1)};
    expect(rejudge({answer: {...answerToJson(answer), proof: {...answerToJson(answer).proof as object, merkleRoot: "01".repeat(32)}}})).toMatchObject({reason: "bad-signature"});
    const malloryProof = await signProof(fakeRoot, new InlineSigner(pq, mallory.mlDsa.secretKey));
    expect(rejudge({answer: await signAnswer({...answer, proof: malloryProof}, new InlineSigner(pq, b.identity.mlDsa.secretKey))})).toMatchObject({reason: "root-not-signed"});
    expect(rejudge({targetKeys: malloryKeys})).toMatchObject({outcome: "inconclusive", reason: "invalid-challenge"});
    const other: StorageChallenge = {...honest.challenge, nonce: Buffer.alloc(32, 9)};
    expect(rejudge({challenge: await signChallenge(other, new InlineSigner(pq, a.identity.mlDsa.secretKey))})).toMatchObject({reason: "mismatched-challenge"});
    // The same answer judged by a challenger that accepts no proof signed before its challenge.
    expect(rejudge({rules: {...honest.rules, maxProofAgeMs: 0}})).toMatchObject({reason: "stale-proof"});
  });

  it("a late answer counts as a failure", async () => {
    const slow: ProofTransport = {
      ...httpTransport,
      sendChallenge: async (peer, body, deadline) => {
        const text = await httpTransport.sendChallenge(peer, body, deadline);
        await new Promise((r) => setTimeout(r, 300));
        return text;
      },
    };
    const rules = {...nodes[0]!.proofs!.rules, deadlineMs: 200};
    const e = await challenge(nodes[0]!, nodes[2]!, messages[30]!, slow, rules);
    expect(e.verdict).toMatchObject({outcome: "fail", reason: "late-answer"});
  });

  it("GET /proof/v1/results lists verdicts and peer health; a failure's evidence re-verifies offline", async () => {
    const pq = await testPq();
    const res = await getJson(pools[0]!, "/proof/v1/results?limit=100");
    expect(res.status).toBe(200);
    const reasons = res.body.results.map((r: {reason: string | null}) => r.reason);
    expect(reasons).toEqual(expect.arrayContaining(["missing", "bad-possession", "late-answer", null]));
    const b = res.body.peers.find((p: {node_id: string}) => p.node_id === nodes[1]!.nodeId);
    expect(b).toMatchObject({fails: 1, last_failure_reason: "missing"});
    expect(b.passes).toBeGreaterThanOrEqual(2);
    for (const row of res.body.results.filter((r: {has_evidence: boolean}) => r.has_evidence)) {
      const one = await getJson(pools[0]!, `/proof/v1/results/${row.id}`);
      const bundle = evidenceFromJson(JSON.parse(JSON.stringify(one.body.evidence)));
      const trusted = verifyEvidence(bundle, pq);
      expect(trusted.agrees, `result ${row.id} (${row.reason})`).toBe(true);
      // Without the challenger's unsigned timing, only the late answer cannot be reproduced.
      expect(verifyEvidence(bundle, pq, {trustObserved: false}).agrees, `result ${row.id}`).toBe(row.reason !== "late-answer");
    }
  });

  it("pars-storage audit: exit 0 for an honest node, 1 for one that lost the message; evidence written", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pars-audit-"));
    try {
      const out: string[] = [];
      const err: string[] = [];
      const io: CliIo = {stdout: (l) => out.push(l), stderr: (l) => err.push(l), env: {}, cwd: dir};
      const m = messages[40]!;
      writeFileSync(join(dir, "m.bin"), m.data);
      const base = ["audit", "--message", m.hash, "--data", "m.bin", "--account", m.account, "--namespace", "0", "--crypto.pqBackend", "noble"];
      const keys = nodes[2]!.identity;
      const pinned = ["--pubkey-mldsa", Buffer.from(keys.mlDsa.publicKey).toString("base64"), "--pubkey-mlkem", Buffer.from(keys.mlKem.publicKey).toString("hex")];
      expect(await runCli([...base, "--node", nodes[2]!.httpUrl, ...pinned, "--evidence", "pass.json"], io), err.join("\n")).toBe(0);
      expect(out.find((l) => l.startsWith("verdict"))).toBe("verdict PASS");
      expect(JSON.parse(readFileSync(join(dir, "pass.json"), "utf8")).verdict).toEqual({outcome: "pass"});
      // Not a terminal: progress is a line per phase on stderr, then the outcome.
      expect(err.filter((l) => l.startsWith("pars-storage: audit: ")).map((l) => l.replace(/ \([0-9.]+ s\)$/, ""))).toEqual([
        "pars-storage: audit: loading post-quantum crypto",
        "pars-storage: audit: signing the challenge",
        "pars-storage: audit: waiting for the answer (deadline 10 s)",
        "pars-storage: audit: verifying the answer",
        "pars-storage: audit: answer judged pass",
      ]);
      nodes[1]!.store.db.sqlite.prepare("DELETE FROM messages WHERE hash = ?").run(m.hash);
      expect(await runCli([...base, "--node", nodes[1]!.httpUrl, "--node-id", nodes[1]!.nodeId, "--evidence", "fail.json"], io)).toBe(1);
      expect(out.at(-2)).toMatch(/^verdict FAIL \(missing\)/);
      const bundle = evidenceFromJson(readFileSync(join(dir, "fail.json"), "utf8"));
      expect(verifyEvidence(bundle, await testPq())).toMatchObject({agrees: true});
      expect(await runCli([...base, "--node", nodes[0]!.httpUrl, "--node-id", nodes[1]!.nodeId], io)).toBe(1);
      expect(err.at(-1)).toMatch(new RegExp(`is ${nodes[0]!.nodeId}, not ${nodes[1]!.nodeId}`));
    } finally {
      rmSync(dir, {recursive: true, force: true});
    }
  });
});
