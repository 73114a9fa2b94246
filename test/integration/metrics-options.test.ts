/**
 * The metrics options on a lone node: the default loopback listener beside the public port,
 * `metrics.enabled = false`, `metrics.onPublicPort`, and a metrics port that is taken (the node
 * runs on without the listener and says so).
 */
import {mkdtempSync, rmSync} from "node:fs";
import {createServer, type Server} from "node:net";
import {tmpdir} from "node:os";
import {join} from "node:path";
import pino from "pino";
import {request} from "undici";
import {afterEach, describe, expect, it} from "vitest";
import {loadConfig} from "../../src/config/index.js";
import {StorageNode} from "../../src/node/index.js";
import {parseExposition} from "../utils/prometheus.js";

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function startNode(flags: Record<string, string>): Promise<{node: StorageNode; errors: Array<Record<string, unknown>>}> {
  const dir = mkdtempSync(join(tmpdir(), "pars-metrics-opts-"));
  cleanup.push(() => rmSync(dir, {recursive: true, force: true}));
  const errors: Array<Record<string, unknown>> = [];
  const logger = pino({level: "error"}, {write: (line: string) => errors.push(JSON.parse(line) as Record<string, unknown>)});
  const config = loadConfig({
    flags: {"data-dir": dir, "http-port": "0", network: "devnet", "crypto.pqBackend": "noble", "proofs.enabled": "false", ...flags},
    env: {},
  });
  const node = await StorageNode.init(config, {logger});
  cleanup.push(() => node.close());
  return {node, errors};
}

async function get(url: string): Promise<{status: number; type: string; text: string}> {
  const res = await request(url);
  return {status: res.statusCode, type: String(res.headers["content-type"]), text: await res.body.text()};
}

describe("metrics options", () => {
  it("by default serves GET /metrics on a loopback listener of its own, not on the public port", async () => {
    const {node, errors} = await startNode({});
    const url = new URL(node.metricsUrl!);
    expect(url.hostname).toBe("127.0.0.1");
    expect(url.port).not.toBe(new URL(node.httpUrl).port);
    const res = await get(node.metricsUrl!);
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^text\/plain; version=0\.0\.4/);
    const s = parseExposition(res.text);
    const info = [...s.samples].filter(([key]) => key.startsWith("pars_node_info{"));
    expect(info).toEqual([[expect.stringContaining(`network_id="7072",node_id="${node.nodeId}"`), 1]]);
    expect((await get(`${node.httpUrl}/metrics`)).status).toBe(404);
    expect(errors).toEqual([]);
  });

  it("metrics.enabled = false: no listener and no route", async () => {
    const {node} = await startNode({"metrics.enabled": "false"});
    expect(node.metricsUrl).toBeNull();
    expect((await get(`${node.httpUrl}/metrics`)).status).toBe(404);
  });

  it("metrics.onPublicPort = true: the public port answers GET /metrics too, and counts its own requests", async () => {
    const {node} = await startNode({"metrics.onPublicPort": "true"});
    expect((await get(`${node.httpUrl}/health`)).status).toBe(200);
    const res = await get(`${node.httpUrl}/metrics`);
    expect(res.status).toBe(200);
    const s = parseExposition(res.text);
    expect(s.samples.get('pars_http_requests_total{method="GET",route="/health",status="200"}')).toBe(1);
  });

  it("a metrics port that is taken: the node serves clients without the listener and logs why", async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, "127.0.0.1", resolve));
    cleanup.push(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
    const port = (blocker.address() as {port: number}).port;
    const {node, errors} = await startNode({"metrics.port": String(port)});
    expect(node.metricsUrl).toBeNull();
    expect((await get(`${node.httpUrl}/health`)).status).toBe(200);
    expect(errors).toEqual([expect.objectContaining({module: "metrics", port, msg: "metrics listener could not start; running without it"})]);
  });
});
