/**
 * `GET /network/v1/health` on a real node without a membership (`membership.source = "none"`):
 * a network of one, with the PIP-0008 fields. It answered 404 before (issue #11 item 9).
 */
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {Pool} from "undici";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {loadConfig} from "../../src/config/index.js";
import {StorageNode} from "../../src/node/index.js";
import {getJson, waitFor} from "../utils/swarm-harness.js";
import {silentLogger} from "../utils/logger.js";

let dir: string;
let node: StorageNode;
let pool: Pool;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pars-lone-"));
  const flags = {
    "data-dir": dir,
    "http-port": "0",
    network: "devnet",
    "membership.source": "none",
    "crypto.pqBackend": "noble",
    "rateLimit.enabled": "false",
    "proofs.epochMs": "3600000",
    "proofs.challengeIntervalMs": "0",
  };
  node = await StorageNode.init(loadConfig({flags, env: {}}), {logger: silentLogger});
  pool = new Pool(node.httpUrl, {connections: 1});
});

afterAll(async () => {
  await pool?.close();
  await node?.close();
  rmSync(dir, {recursive: true, force: true});
});

describe("a node without a membership", () => {
  it("answers GET /network/v1/health as a network of one: active on its own proof, never healthy", async () => {
    await waitFor("the node's first StorageProof", () => node.proofs?.latest !== null);
    const res = await getJson(pool, "/network/v1/health");
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      totalNodes: 1,
      activeNodes: 1,
      swarmCount: 1,
      avgNodesPerSwarm: 1,
      minSwarmSize: 1,
      storageCapacity: 10,
      storageUsed: 0,
      replicationOk: false,
      isHealthy: false,
    });
    // Still no membership to list.
    expect((await getJson(pool, "/network/v1/nodes")).status).toBe(404);
  });
});
