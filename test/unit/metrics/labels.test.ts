/**
 * Label values stay bounded whatever clients send (docs/operations-metrics.md): an unknown RPC
 * method is `other`, an unmatched URL is `unmatched`, so random names cannot grow the series.
 * And the separate listener answers only GET /metrics.
 */
import {request} from "undici";
import Fastify from "fastify";
import {afterEach, describe, expect, it} from "vitest";
import {instrumentHttp, MetricsServer} from "../../../src/api/http/index.js";
import {NodeMetrics} from "../../../src/metrics/index.js";
import {RequestPipeline} from "../../../src/rpc/index.js";
import {silentLogger} from "../../../src/util/index.js";
import {parseExposition} from "../../utils/prometheus.js";

const closers: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

const newMetrics = (): NodeMetrics => new NodeMetrics({version: "test", networkId: 7072, nodeId: "ab".repeat(32)}, {processCollectors: false});
const series = async (m: NodeMetrics, family: string): Promise<string[]> =>
  [...parseExposition(await m.scrape()).samples.keys()].filter((k) => k.startsWith(`${family}{`));

describe("bounded labels", () => {
  it("an RPC method the handler does not know is counted as `other`", async () => {
    const m = newMetrics();
    const rpc = {handle: (method: string) => Promise.resolve({status: method === "info" ? 200 : 400, body: ""})};
    const pipeline = new RequestPipeline({rpc, router: {notReadyReasons: () => []}, limiter: {take: () => false}, logger: silentLogger, metrics: m.metrics.rpc});
    await pipeline.dispatch(JSON.stringify({method: "info", params: {}}));
    for (let i = 0; i < 5; i++) await pipeline.dispatch(JSON.stringify({method: `made_up_${i}`, params: {}}));
    await pipeline.dispatch("not json");
    expect(pipeline.allow("192.0.2.1")).toBe(false);
    expect((await series(m, "pars_rpc_requests_total")).sort()).toEqual([
      'pars_rpc_requests_total{method="info",status="200"}',
      'pars_rpc_requests_total{method="other",status="400"}',
    ]);
    const text = await m.scrape();
    expect(text).toContain('pars_rpc_requests_total{method="other",status="400"} 6');
    expect(text).toContain("pars_rate_limit_rejections_total 1");
    expect(text).not.toContain("192.0.2.1");
  });

  it("an HTTP request to a URL no route matches is counted under `unmatched`", async () => {
    const m = newMetrics();
    const app = Fastify();
    closers.push(() => app.close());
    app.get("/health", () => ({status: "ok"}));
    instrumentHttp(app, m.metrics.http);
    for (const url of ["/health", "/a/random/path", "/another?x=1", "/health"]) await app.inject({method: "GET", url});
    expect((await series(m, "pars_http_requests_total")).sort()).toEqual([
      'pars_http_requests_total{method="GET",route="/health",status="200"}',
      'pars_http_requests_total{method="GET",route="unmatched",status="404"}',
    ]);
  });
});

describe("the metrics listener", () => {
  it("answers GET /metrics, 404 to other paths and methods, 500 when the scrape fails", async () => {
    let fail = false;
    const source = {contentType: "text/plain; version=0.0.4", scrape: () => (fail ? Promise.reject(new Error("boom")) : Promise.resolve("x 1\n"))};
    const server = await MetricsServer.listen({host: "127.0.0.1", port: 0}, source);
    closers.push(() => server.close());
    const get = async (url: string, method: "GET" | "POST" = "GET"): Promise<[number, string]> => {
      const res = await request(url, {method});
      return [res.statusCode, await res.body.text()];
    };
    expect(await get(server.url)).toEqual([200, "x 1\n"]);
    expect(await get(`${server.url}?name[]=x`)).toEqual([200, "x 1\n"]);
    expect((await get(server.url.replace("/metrics", "/")))[0]).toBe(404);
    expect((await get(server.url, "POST"))[0]).toBe(404);
    fail = true;
    expect((await get(server.url))[0]).toBe(500);
  });
});
