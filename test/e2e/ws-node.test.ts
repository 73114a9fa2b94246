import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {Pool} from "undici";
import {WebSocket} from "ws";
import {afterAll, describe, expect, it} from "vitest";
import {sessionAccount, sessionHash} from "../utils/keys.js";
import {startNode, type RunningNode} from "../utils/child-process.js";
import {seconds, sub05} from "../integration/ws/harness.js";

const dataDir = mkdtempSync(join(tmpdir(), "pars-e2e-ws-"));
let node: RunningNode | null = null;
afterAll(() => {
  node?.proc.kill("SIGKILL");
  rmSync(dataDir, {recursive: true, force: true});
});

function next(ws: WebSocket): Promise<any> {
  return new Promise((resolve) => ws.once("message", (d: Buffer) => resolve(JSON.parse(d.toString("utf8")))));
}

describe("the built node's WebSocket", () => {
  it("pushes a message stored over HTTP to a subscriber, and answers RPC frames", async () => {
    node = await startNode(["--data-dir", dataDir, "--http-port", "0", "--network", "devnet", "--log-level", "warn", "--ws.queueBudgetBytes", "33554432"]);
    const ws = new WebSocket(node.url.replace("http", "ws") + "/ws");
    await new Promise((resolve, reject) => ws.once("open", resolve).once("error", reject));
    const acc = sessionAccount();
    ws.send(JSON.stringify({id: 1, type: "subscribe", params: sub05(acc, [0], true, seconds(Date.now()))}));
    expect(await next(ws)).toMatchObject({id: 1, type: "subscribe", success: true});

    const pool = new Pool(node.url, {connections: 1, keepAliveTimeout: 10});
    const data = Buffer.from("pushed over ws");
    const pushed = next(ws);
    const res = await pool.request({
      path: "/storage_rpc/v1",
      method: "POST",
      body: JSON.stringify({method: "store", params: {pubkey: acc.hex, timestamp: Date.now(), ttl: 60_000, data: data.toString("base64")}}),
    });
    expect(res.statusCode).toBe(200);
    await res.body.text();
    expect(await pushed).toMatchObject({type: "message", account: acc.hex, hash: sessionHash(acc.hex, 0, data), namespace: 0, data: data.toString("base64")});

    ws.send(JSON.stringify({id: 2, type: "rpc", method: "info", params: {}}));
    expect(await next(ws)).toMatchObject({id: 2, type: "rpc", code: 200, body: {version: [2, 8, 0]}});

    // GET /health carries the endpoint's stats, with the configured outbound budget.
    const health = await pool.request({path: "/health", method: "GET"});
    expect(await health.body.json()).toMatchObject({
      ws: {connections: 1, subscriptions: 1, pushes: 1, queuedBytes: 0, queueBudgetBytes: 33554432, budgetSheddings: 0},
    });
    ws.close();
    await pool.close();
  });
});
