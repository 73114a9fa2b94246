/**
 * TLS on real nodes (docs/configuration.md "HTTPS (TLS)"): three nodes with `http.tls = "auto"`
 * in one swarm, their records carrying their pins. Stores replicate between them over HTTPS (the
 * peer client checks each peer's pin), clients reach every route (WebSocket included) over HTTPS
 * with the pin, a wrong pin is refused by clients and peers alike.
 */
import {mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {Pool} from "undici";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {runCli, type CliIo} from "../../src/cli/run.js";
import {dataPaths} from "../../src/config/index.js";
import {pinnedConnector, spkiSha256} from "../../src/crypto/tls-pin.js";
import {sessionAccount, sessionHash} from "../utils/keys.js";
import {SwarmHarness, getJson, rpc, waitFor, type TestNode} from "../utils/swarm-harness.js";
import {CLIENT_ADDRESS, OnionTestClient} from "../utils/onion-client.js";
import {TestClient} from "./ws/harness.js";

const h = new SwarmHarness({mode: "pip0008", flags: {"http.tls": "auto", "replication.retryInitialMs": "100", "replication.retryMaxMs": "500"}});
afterAll(() => h.close());

beforeAll(async () => {
  for (const label of ["tls/0", "tls/1", "tls/2"]) await h.startNode(label);
  h.writeMembership(await h.nodeRecords());
  await waitFor("every node ready", async () => (await Promise.all(h.nodes.map((n) => rpc(n.pool, "info", {})))).every((r) => r.status === 200));
});

function store(n: TestNode, text: string): Promise<{status: number; body: any; hash: string; account: string}> {
  const acc = sessionAccount();
  const params = {pubkey: acc.hex, timestamp: Date.now(), ttl: 3_600_000, data: Buffer.from(text).toString("base64")};
  return rpc(n.pool, "store", params).then((r) => ({...r, hash: sessionHash(acc.hex, 0, Buffer.from(text)), account: acc.hex}));
}

describe("a TLS swarm", () => {
  it('"auto" makes a 0600 key and a certificate in the data dir whose pin the node serves', () => {
    for (const n of h.nodes) {
      expect(n.url.startsWith("https://127.0.0.1:"), n.url).toBe(true);
      const paths = dataPaths({dataDir: join(h.baseDir, n.label.replace(/\W/g, "_"))});
      expect(statSync(paths.tlsKeyFile).mode & 0o777).toBe(0o600);
      expect(spkiSha256(readFileSync(paths.tlsCertFile, "utf8"))).toBe(n.tlsPin);
    }
  });

  it("replicates a store to every member over HTTPS with pins", async () => {
    const res = await store(h.nodes[0]!, "over tls");
    expect(res.status).toBe(200);
    const entries = res.body.swarm as Record<string, {failed?: true}>;
    expect(Object.keys(entries).sort()).toEqual(h.nodes.map((n) => n.node.nodeId).sort());
    for (const [id, entry] of Object.entries(entries)) expect(entry.failed, `entry of ${id}`).toBeUndefined();
    for (const n of h.nodes) expect(n.node.store.getExpiries(res.account, [res.hash]).has(res.hash), n.label).toBe(true);
  });

  it("each node reports its own pin on GET /health and GET /status/v1 (what pars-storage status prints)", async () => {
    for (const n of h.nodes) {
      expect((await getJson(n.pool, "/health")).body.tls).toEqual({spkiSha256: n.tlsPin});
      expect((await getJson(n.pool, "/status/v1")).body.node.tls_spki_sha256).toBe(n.tlsPin);
    }
  });

  it("publishes each node's pin in get_swarm entries and /network/v1/nodes", async () => {
    const pins = new Map(h.nodes.map((n) => [n.node.nodeId, n.tlsPin]));
    const swarm = await rpc(h.nodes[1]!.pool, "get_swarm", {pubkey: sessionAccount().hex});
    for (const e of swarm.body.snodes as Array<{node_id: string; tls?: {spki_sha256: string}}>) expect(e.tls?.spki_sha256).toBe(pins.get(e.node_id));
    const nodes = await getJson(h.nodes[2]!.pool, "/network/v1/nodes");
    for (const e of nodes.body.nodes as Array<{node_id: string; tls?: {spki_sha256: string}}>) expect(e.tls?.spki_sha256).toBe(pins.get(e.node_id));
  });

  it("a client with the wrong pin is refused before sending; WebSocket works over wss", async () => {
    const n = h.nodes[0]!;
    const wrong = new Pool(n.url, {connect: pinnedConnector("00".repeat(32))});
    await expect(wrong.request({method: "GET", path: "/health"})).rejects.toMatchObject({code: "TLS_PIN_ERROR_MISMATCH"});
    await wrong.close();
    const ws = await TestClient.connect(`${n.url.replace("https:", "wss:")}/ws`, {rejectUnauthorized: false});
    const socket = (ws.socket as unknown as {_socket: import("node:tls").TLSSocket})._socket;
    expect(spkiSha256(socket.getPeerX509Certificate()!.raw)).toBe(n.tlsPin);
    const pong = await ws.request("ping");
    expect(pong.type).toBe("pong");
    ws.socket.close();
  });

  it("an onion request over three TLS hops reaches the swarm (relays use the pinned peer client)", async () => {
    const client = await OnionTestClient.fromNetwork(h.nodes[0]!.url, CLIENT_ADDRESS, h.nodes[0]!.tlsPin);
    try {
      const acc = sessionAccount();
      const text = "through three tls hops";
      const params = {pubkey: acc.hex, timestamp: Date.now(), ttl: 3_600_000, data: Buffer.from(text).toString("base64")};
      const path = [h.nodes[1]!, h.nodes[2]!, h.nodes[0]!].map((n) => n.node.nodeId);
      const answer = await client.send(path, {method: "store", params});
      expect(answer.httpStatus, answer.raw.toString()).toBe(200);
      expect(answer.inner?.status).toBe(200);
      const hash = sessionHash(acc.hex, 0, Buffer.from(text));
      await waitFor("the onion store on every member", () => h.nodes.every((n) => n.node.store.getExpiries(acc.hex, [hash]).has(hash)));
    } finally {
      await client.close();
    }
  });

  it("pars-storage audit reaches an https node by its pin: answered and judged with it, refused without or with another", async () => {
    const n = h.nodes[1]!;
    const res = await store(h.nodes[0]!, "audited over tls");
    expect(res.status).toBe(200);
    await waitFor("the node's first StorageProof", async () => (await getJson(n.pool, "/proof/v1/latest")).status === 200);
    const dir = mkdtempSync(join(tmpdir(), "pars-audit-tls-"));
    try {
      const out: string[] = [];
      const err: string[] = [];
      const io: CliIo = {stdout: (l) => out.push(l), stderr: (l) => err.push(l), env: {}, cwd: dir};
      writeFileSync(join(dir, "m.bin"), "audited over tls");
      const base = ["audit", "--node", n.url, "--message", res.hash, "--data", "m.bin", "--account", res.account, "--namespace", "0", "--node-id", n.node.nodeId, "--crypto.pqBackend", "noble"];
      expect(await runCli(base, io)).toBe(2);
      expect(err.at(-1)).toMatch(/an https node is checked by its pin: add --tls-pin/);
      expect(await runCli([...base, "--tls-pin", "00".repeat(32)], io)).toBe(1);
      expect(err.at(-1)).toMatch(/cannot reach https:\/\/127\.0\.0\.1:[0-9]+: .*is not the pinned 0{64}/);
      expect(await runCli([...base, "--tls-pin", n.tlsPin!, "--evidence", "e.json"], io), err.join("\n")).toBeLessThan(2);
      // Answered and signed by the node (a proof made before the store leaves it uncommitted, not failed).
      expect(out.at(-2)).toMatch(/^verdict (PASS|INCONCLUSIVE \(uncommitted\))/);
      const evidence = JSON.parse(readFileSync(join(dir, "e.json"), "utf8")) as {answer: {status: string; targetId: string}};
      expect(["held", "uncommitted"]).toContain(evidence.answer.status);
    } finally {
      rmSync(dir, {recursive: true, force: true});
    }
  });

  it("a peer whose certificate is not its record's pin gets no replication", async () => {
    const [a, b, c] = h.nodes as [TestNode, TestNode, TestNode];
    const records = await Promise.all(h.nodes.map((n) => h.record(n.label, n.port, {tlsSpkiSha256: n === c ? "00".repeat(32) : n.tlsPin})));
    h.writeMembership(records);
    await waitFor("the new membership", () => a.node.membership?.snapshot?.view.node(c.node.nodeId)?.tlsSpkiSha256?.[0] === 0);
    const res = await store(a, "not to c");
    expect(res.status).toBe(200);
    expect(res.body.swarm[b.node.nodeId].failed).toBeUndefined();
    expect(res.body.swarm[c.node.nodeId].failed).toBe(true);
    expect(c.node.store.getExpiries(res.account, [res.hash]).has(res.hash)).toBe(false);
  });
});
