import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {Pool} from "undici";
import {afterAll, describe, expect, it} from "vitest";
import {loadConfig} from "../../src/config/index.js";
import {StorageNode} from "../../src/node/index.js";
import {sessionAccount} from "../utils/keys.js";
import {silentLogger} from "../utils/logger.js";

const dir = mkdtempSync(join(tmpdir(), "pars-fees-"));
let node: StorageNode | null = null;
let pool: Pool | null = null;
afterAll(async () => {
  await pool?.close();
  await node?.close();
  rmSync(dir, {recursive: true, force: true});
});

async function post(method: string, params: object): Promise<{status: number; body: any}> {
  const res = await pool!.request({path: "/storage_rpc/v1", method: "POST", body: JSON.stringify({method, params})});
  const text = await res.body.text();
  return {status: res.statusCode, body: text.startsWith("{") ? JSON.parse(text) : text};
}

async function get(path: string): Promise<any> {
  const res = await pool!.request({path, method: "GET"});
  return JSON.parse(await res.body.text());
}

describe("fees in use", () => {
  it("quotes rise with the scarcity multiplier as the node fills, and the ledger adds up", async () => {
    const flags = {"data-dir": dir, "http-port": "0", network: "devnet", "storage.sizeLimitBytes": "1500000", "rateLimit.enabled": "false"};
    node = await StorageNode.init(loadConfig({flags, env: {}}), {logger: silentLogger});
    pool = new Pool(node.httpUrl, {connections: 1, keepAliveTimeout: 10});
    const acc = sessionAccount();
    const multipliers: number[] = [];
    let charged = 0n;
    for (let i = 0; i < 40; i++) {
      const data = Buffer.alloc(60_000, i).toString("base64");
      const res = await post("store", {pubkey: acc.hex, timestamp: Date.now(), ttl: 3_600_000, data});
      if (res.status !== 200) break; // full: stores fail cleanly
      const fee = res.body.swarm[node.nodeId].fee;
      multipliers.push(fee.multiplier);
      charged += BigInt(fee.total);
      expect(BigInt(fee.total), `store ${i}`).toBe(BigInt(fee.storage_fee) + BigInt(fee.session_create_fee));
      if (i === 0) expect(BigInt(fee.session_create_fee)).toBeGreaterThan(0n);
      else expect(fee.session_create_fee, `store ${i}`).toBe("0");
    }
    expect(multipliers[0]).toBe(1);
    expect(multipliers.every((m, i) => i === 0 || m >= multipliers[i - 1]!)).toBe(true);
    expect(Math.max(...multipliers)).toBeGreaterThanOrEqual(5);

    const schedule = await get("/economics/v1/fees");
    expect(schedule.multiplier).toBeGreaterThanOrEqual(multipliers.at(-1)!);
    const ledger = await get("/economics/v1/ledger?limit=5");
    const total = ledger.epochs.reduce((a: bigint, e: any) => a + BigInt(e.fees_total), 0n);
    expect(total).toBe(charged);
    const e = ledger.epochs[0];
    expect(BigInt(e.swarm_share) + BigInt(e.treasury_share)).toBe(BigInt(e.fees_total));
    expect(e.per_node).toHaveProperty(node.nodeId);

    // A duplicate store stores nothing new: quoted at zero, not charged.
    const again = await post("store", {pubkey: acc.hex, timestamp: Date.now(), ttl: 3_600_000, data: Buffer.alloc(60_000, 0).toString("base64")});
    if (again.status === 200) expect(again.body.swarm[node.nodeId].fee.total).toBe("0");
  });
});
