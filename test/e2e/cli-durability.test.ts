import {mkdtempSync, readFileSync, rmSync, statSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {Pool} from "undici";
import {afterAll, describe, expect, it} from "vitest";
import {sessionAccount, sessionHash} from "../utils/keys.js";
import {runCli, startNode, waitExit, type RunningNode} from "../utils/child-process.js";

const dataDir = mkdtempSync(join(tmpdir(), "pars-e2e-"));
const running: RunningNode[] = [];
afterAll(() => {
  for (const n of running) n.proc.kill("SIGKILL");
  rmSync(dataDir, {recursive: true, force: true});
});

async function rpc(pool: Pool, method: string, params: object): Promise<{status: number; body: any}> {
  const res = await pool.request({path: "/storage_rpc/v1", method: "POST", body: JSON.stringify({method, params}), headers: {"content-type": "application/json"}});
  const text = await res.body.text();
  return {status: res.statusCode, body: res.headers["content-type"]?.toString().includes("json") ? JSON.parse(text) : text};
}

describe("the built CLI", () => {
  it("creates the PIP-0007 layout and keys on first start; keygen/id agree; kill -9 loses no acknowledged store", async () => {
    const first = await startNode(["--data-dir", dataDir, "--http-port", "0", "--network", "devnet", "--log-level", "warn"]);
    running.push(first);
    expect(statSync(join(dataDir, "staking", "signer.key")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, "staking", "signer.key")).size).toBe(32); // the BLS key, luxd's format
    expect(statSync(join(dataDir, "staking", "pq-identity.key")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, "db", "session", "storage.db")).isFile()).toBe(true);

    const acc = sessionAccount();
    const pool = new Pool(first.url, {connections: 8, keepAliveTimeout: 10});
    const now = Date.now();
    const acked: string[] = [];
    // Many concurrent stores: each one acknowledged is one that must survive the kill below.
    await Promise.all(
      Array.from({length: 300}, async (_, i) => {
        const data = Buffer.from(`message ${i}`);
        const res = await rpc(pool, "store", {pubkey: acc.hex, timestamp: now, ttl: 3_600_000, data: data.toString("base64")});
        if (res.status === 200) acked.push(sessionHash(acc.hex, 0, data));
      }),
    );
    expect(acked).toHaveLength(300);
    await pool.close();
    first.proc.kill("SIGKILL");
    await waitExit(first.proc);

    const second = await startNode(["--data-dir", dataDir, "--http-port", "0", "--network", "devnet", "--log-level", "warn"]);
    running.push(second);
    expect(second.nodeId).toBe(first.nodeId);
    const pool2 = new Pool(second.url, {connections: 1, keepAliveTimeout: 10});
    const ts = Date.now();
    const sig = acc.ed.sign(`retrieve${ts}`).toString("base64");
    const res = await rpc(pool2, "retrieve", {pubkey: acc.hex, pubkey_ed25519: acc.ed.pub.toString("hex"), timestamp: ts, signature: sig, max_count: 1000});
    expect(res.status).toBe(200);
    expect(new Set(res.body.messages.map((m: {hash: string}) => m.hash))).toEqual(new Set(acked));
    await pool2.close();

    second.proc.kill("SIGTERM");
    expect(await waitExit(second.proc)).toBe(0);

    const id = await runCli(["id", "--data-dir", dataDir]);
    expect(id.code).toBe(0);
    expect(id.stdout).toContain(first.nodeId);
    const keyBefore = readFileSync(join(dataDir, "staking", "signer.key"));
    const keygen = await runCli(["keygen", "--data-dir", dataDir]);
    expect(keygen.code).toBe(0);
    expect(readFileSync(join(dataDir, "staking", "signer.key")).equals(keyBefore)).toBe(true);
  });

  it("refuses to start on a data dir of another network, and on a corrupt key file, with a clear message", async () => {
    const wrongNet = await runCli(["start", "--data-dir", dataDir, "--http-port", "0", "--network", "testnet"]);
    expect(wrongNet.code).not.toBe(0);
    expect(wrongNet.stderr).toMatch(/network 7072.*7071|7071.*7072/s);

    const other = mkdtempSync(join(tmpdir(), "pars-e2e-bad-"));
    try {
      const k = await runCli(["keygen", "--data-dir", other]);
      expect(k.code).toBe(0);
      const file = join(other, "staking", "pq-identity.key");
      const bytes = readFileSync(file);
      bytes[100] = (bytes[100] ?? 0) ^ 0xff;
      (await import("node:fs")).writeFileSync(file, bytes);
      const bad = await runCli(["start", "--data-dir", other, "--http-port", "0"]);
      expect(bad.code).not.toBe(0);
      expect(bad.stderr.toLowerCase()).toContain("pq-identity.key");
    } finally {
      rmSync(other, {recursive: true, force: true});
    }
  });
});
