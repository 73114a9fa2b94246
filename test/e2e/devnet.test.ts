/**
 * `pars-storage devnet` and `pars-storage record` through the built CLI: real node processes on
 * loopback in two swarms, agreement between them, 421s, and a clean stop on SIGINT.
 */
import {spawn, type ChildProcess} from "node:child_process";
import {mkdtempSync, readFileSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {Pool} from "undici";
import {afterAll, describe, expect, it} from "vitest";
import {initHashing} from "../../src/crypto/hash.js";
import {nobleBackend} from "../../src/crypto/pq/noble.js";
import {verifyNodeRecord} from "../../src/swarm/node-record.js";
import {parseNodeRecords} from "../../src/swarm/registry.js";
import {BIN, runCli, waitExit} from "../utils/child-process.js";
import {sessionAccount} from "../utils/keys.js";

const base = mkdtempSync(join(tmpdir(), "pars-e2e-devnet-"));
const pids: number[] = [];
let devnet: ChildProcess | null = null;

afterAll(() => {
  devnet?.kill("SIGKILL");
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  rmSync(base, {recursive: true, force: true});
});

interface DevnetNode {
  name: string;
  url: string;
  nodeId: string;
  swarm: string;
  pid: number;
}

function startDevnet(args: string[]): Promise<{proc: ChildProcess; nodes: DevnetNode[]; stderr: () => string}> {
  const proc = spawn(process.execPath, [BIN, "devnet", ...args], {stdio: ["ignore", "pipe", "pipe"]});
  let out = "";
  let err = "";
  proc.stderr.on("data", (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`devnet not ready in time:\n${out}\n${err}`)), 90_000);
    proc.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      for (const m of out.matchAll(/^(node-\d+) (\S+) ([0-9a-f]{64}) swarm ([0-9a-f]+) pid (\d+)$/gm)) {
        if (!pids.includes(Number(m[5]))) pids.push(Number(m[5]));
      }
      if (!out.includes("devnet ready")) return;
      clearTimeout(timer);
      const nodes = [...out.matchAll(/^(node-\d+) (\S+) ([0-9a-f]{64}) swarm ([0-9a-f]+) pid (\d+)$/gm)].map((m) => ({
        name: m[1]!,
        url: m[2]!,
        nodeId: m[3]!,
        swarm: m[4]!,
        pid: Number(m[5]),
      }));
      resolve({proc, nodes, stderr: () => err});
    });
    proc.on("exit", (code) => reject(new Error(`devnet exited with ${code}:\n${out}\n${err}`)));
  });
}

async function call(url: string, method: string, params: object): Promise<{status: number; body: any}> {
  const pool = new Pool(url, {connections: 1, keepAliveTimeout: 10});
  try {
    const res = await pool.request({path: "/storage_rpc/v1", method: "POST", body: JSON.stringify({method, params})});
    return {status: res.statusCode, body: await res.body.json()};
  } finally {
    await pool.close();
  }
}

async function getNodes(url: string): Promise<any> {
  const pool = new Pool(url, {connections: 1, keepAliveTimeout: 10});
  try {
    return await (await pool.request({path: "/network/v1/nodes", method: "GET"})).body.json();
  } finally {
    await pool.close();
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("pars-storage devnet", () => {
  it("starts 6 nodes in 2 swarms that agree, redirects with 421, and stops them all on SIGINT", async () => {
    const started = await startDevnet(["--nodes", "6", "--mode", "balanced", "--base-dir", join(base, "run")]);
    devnet = started.proc;
    const {nodes} = started;
    expect(nodes).toHaveLength(6);
    expect(new Set(nodes.map((n) => n.swarm))).toEqual(new Set(["0", "1"]));

    const views = await Promise.all(nodes.map((n) => getNodes(n.url)));
    for (const [i, v] of views.entries()) {
      expect(v.swarm_count).toBe(2);
      expect(v.nodes).toEqual(views[0].nodes);
      expect(v.our_swarm).toBe(nodes[i]!.swarm);
    }

    const acc = sessionAccount();
    const swarms = await Promise.all(nodes.map((n) => call(n.url, "get_swarm", {pubkey: acc.hex})));
    const members = swarms[0]!.body.snodes.map((s: {node_id: string}) => s.node_id).sort();
    for (const s of swarms) expect(s.body.snodes.map((x: {node_id: string}) => x.node_id).sort()).toEqual(members);
    for (const n of nodes) {
      const res = await call(n.url, "store", {pubkey: acc.hex, timestamp: Date.now(), ttl: 60_000, data: "aGVsbG8="});
      expect(res.status, n.name).toBe(members.includes(n.nodeId) ? 200 : 421);
    }

    started.proc.kill("SIGINT");
    expect(await waitExit(started.proc)).toBe(0);
    devnet = null;
    for (const n of nodes) expect(alive(n.pid), `${n.name} (pid ${n.pid}) stopped`).toBe(false);
    expect(readFileSync(join(base, "run", "node-1", "node.log"), "utf8")).toContain('"msg":"closed"');
  });

  it("--init-only writes a signed membership for the given hosts; record prints a node's signed record", async () => {
    const dir = join(base, "init");
    const init = await runCli(["devnet", "--init-only", "--nodes", "3", "--base-dir", dir, "--hosts", "node1,node2,node3:23000"]);
    expect(init.code, init.stderr).toBe(0);
    await initHashing();
    const doc = JSON.parse(readFileSync(join(dir, "membership.json"), "utf8"));
    const parsed = parseNodeRecords(doc, nobleBackend, {networkId: 7072});
    expect(parsed.rejected).toEqual([]);
    expect(parsed.records.map((r) => `${r.host}:${r.port}`).sort()).toEqual(["node1:22025", "node2:22025", "node3:23000"]);

    const record = await runCli(["record", "--data-dir", join(dir, "node-1"), "--http-port", "24000"]);
    expect(record.code, record.stderr).toBe(0);
    const verified = verifyNodeRecord(JSON.parse(record.stdout), nobleBackend, {networkId: 7072});
    expect(verified.ok && verified.record.host === "node1" && verified.record.port === 24000).toBe(true);

    const noPort = await runCli(["record", "--data-dir", join(dir, "node-1"), "--http-port", "0"]);
    expect(noPort.code).toBe(1);
    expect(noPort.stderr).toContain("http.port is 0");
  });
});
