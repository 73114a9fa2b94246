/**
 * Onion requests on a node without a membership (`membership.source = "none"`): a one-hop path
 * is answered by the node as the final hop, any next hop is unknown (502, the node has no peer
 * client), and with `onion.enabled = false` the route does not exist (404).
 */
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {pino} from "pino";
import {request} from "undici";
import {afterAll, describe, expect, it} from "vitest";
import {loadConfig} from "../../src/config/index.js";
import {StorageNode} from "../../src/node/index.js";
import {buildOnionRequest, type HopPublicKeys} from "../../src/onion/index.js";

const dirs: string[] = [];
const nodes: StorageNode[] = [];

afterAll(async () => {
  for (const n of nodes) await n.close();
  for (const d of dirs) rmSync(d, {recursive: true, force: true});
});

async function loneNode(enabled: boolean): Promise<StorageNode> {
  const dir = mkdtempSync(join(tmpdir(), "pars-onion-lone-"));
  dirs.push(dir);
  const flags = {
    "data-dir": dir,
    "http-port": "0",
    network: "devnet",
    "membership.source": "none",
    "crypto.pqBackend": "noble",
    "proofs.enabled": "false",
    "onion.enabled": String(enabled),
  };
  const node = await StorageNode.init(loadConfig({flags, env: {}}), {logger: pino({level: "silent"})});
  nodes.push(node);
  return node;
}

const hopOf = (node: StorageNode): HopPublicKeys => ({nodeId: node.nodeId, x25519: node.identity.x25519!.publicKey, mlKem: node.identity.mlKem.publicKey});

async function post(node: StorageNode, blob: Uint8Array): Promise<{status: number; text: string}> {
  const res = await request(`${node.httpUrl}/onion_req/v2`, {method: "POST", body: blob});
  return {status: res.statusCode, text: await res.body.text()};
}

describe("onion requests on a lone node", () => {
  it("answers a one-hop path as the final hop, and refuses any next hop with 502", async () => {
    const node = await loneNode(true);
    const built = buildOnionRequest([hopOf(node)], Buffer.from(JSON.stringify({method: "info", params: {}})));
    const res = await post(node, built.blob);
    expect(res.status).toBe(200);
    expect(built.decryptResponse(res.text).status).toBe(200);
    const other = hopOf(await loneNode(true));
    const twoHops = buildOnionRequest([hopOf(node), other], Buffer.from(JSON.stringify({method: "info", params: {}})));
    expect(await post(node, twoHops.blob)).toEqual({status: 502, text: `Next node not found: ${other.nodeId}`});
  });

  it("with onion.enabled = false the route answers 404 like any unknown path", async () => {
    const node = await loneNode(false);
    expect((await post(node, Buffer.from("x"))).status).toBe(404);
    expect(node.onionCounters()).toBeNull();
  });
});
