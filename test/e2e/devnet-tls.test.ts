/**
 * `pars-storage devnet --tls` through the built CLI: three node processes serving HTTPS with
 * self-signed "auto" certificates, their pins in the signed membership; a store reaches every
 * member (peers over HTTPS with pins), a client with the node's pin gets answers, one with a wrong
 * pin is refused, and plain HTTP to a TLS node gets nothing.
 */
import type {ChildProcess} from "node:child_process";
import {mkdtempSync, readFileSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {Pool} from "undici";
import {afterAll, describe, expect, it} from "vitest";
import {pinnedConnector} from "../../src/crypto/tls-pin.js";
import {startDevnetProcess, stopDevnetProcess} from "../utils/child-process.js";
import {sessionAccount} from "../utils/keys.js";

const base = mkdtempSync(join(tmpdir(), "pars-e2e-devnet-tls-"));
let devnet: ChildProcess | null = null;

afterAll(async () => {
  await stopDevnetProcess(devnet);
  rmSync(base, {recursive: true, force: true});
});

async function startDevnet(args: string[]): Promise<Array<{url: string; nodeId: string}>> {
  const started = await startDevnetProcess(args, 90_000);
  devnet = started.proc;
  return started.nodes;
}

async function call(url: string, pin: string, method: string, params: object): Promise<{status: number; body: any}> {
  const pool = new Pool(url, {connections: 1, keepAliveTimeout: 10, connect: pinnedConnector(pin)});
  try {
    const res = await pool.request({path: "/storage_rpc/v1", method: "POST", body: JSON.stringify({method, params})});
    return {status: res.statusCode, body: await res.body.json()};
  } finally {
    await pool.close();
  }
}

describe("pars-storage devnet --tls", () => {
  it("runs HTTPS nodes whose records carry their pins; stores replicate; a wrong pin is refused", async () => {
    const nodes = await startDevnet(["--nodes", "3", "--tls", "--base-dir", base, "--crypto.pqBackend", "noble"]);
    expect(nodes).toHaveLength(3);
    const doc = JSON.parse(readFileSync(join(base, "membership.json"), "utf8")) as {nodes: Array<{nodeId: string; tls?: {spkiSha256: string}}>};
    const pins = new Map(doc.nodes.map((r) => [r.nodeId, r.tls?.spkiSha256 ?? ""]));
    for (const n of nodes) {
      expect(n.url.startsWith("https://127.0.0.1:"), n.url).toBe(true);
      expect(pins.get(n.nodeId), n.nodeId).toMatch(/^[0-9a-f]{64}$/);
    }
    const [first] = nodes as [{url: string; nodeId: string}];
    const acc = sessionAccount();
    const data = Buffer.from("over https").toString("base64");
    const stored = await call(first.url, pins.get(first.nodeId)!, "store", {pubkey: acc.hex, timestamp: Date.now(), ttl: 600_000, data});
    expect(stored.status).toBe(200);
    const entries = Object.entries(stored.body.swarm as Record<string, {failed?: true}>);
    expect(entries).toHaveLength(3);
    for (const [id, entry] of entries) expect(entry.failed, id).toBeUndefined();

    const wrong = new Pool(first.url, {connections: 1, connect: pinnedConnector(pins.get(nodes[1]!.nodeId)!)});
    await expect(wrong.request({method: "GET", path: "/health"})).rejects.toMatchObject({code: "TLS_PIN_ERROR_MISMATCH"});
    await wrong.close();
    const plain = new Pool(first.url.replace("https:", "http:"), {connections: 1});
    await expect(plain.request({method: "GET", path: "/health", headersTimeout: 2_000})).rejects.toThrow();
    await plain.close();
  });
});
