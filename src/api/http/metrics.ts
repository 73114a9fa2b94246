/**
 * GET /metrics (Prometheus text format, docs/operations-metrics.md): on a listener of its own
 * (`metrics.bind`/`metrics.port`, loopback by default) and, if the operator asks, on the public
 * port too; plus the hook that counts every HTTP request by route pattern and status.
 */
import {createServer, type Server} from "node:http";
import type {AddressInfo} from "node:net";
import type {FastifyInstance} from "fastify";
import type {HttpMetrics} from "../../metrics/index.js";

export const METRICS_PATH = "/metrics";

/** What serves a scrape: the exposition text and its content type. */
export interface MetricsSource {
  scrape(): Promise<string>;
  readonly contentType: string;
}

/** Counts and times every answered request; the route is fastify's pattern, never the raw URL. */
export function instrumentHttp(app: FastifyInstance, metrics: HttpMetrics): void {
  app.addHook("onResponse", (request, reply, done) => {
    // Unmatched URLs are one series, so a scanner's random paths cannot grow the label set.
    const route = request.routeOptions.url ?? "unmatched";
    const method = KNOWN_METHODS.has(request.method) ? request.method : "other";
    metrics.requests.inc({method, route, status: String(reply.statusCode)});
    metrics.duration.observe({route}, reply.elapsedTime / 1000);
    done();
  });
}

const KNOWN_METHODS = new Set(["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH"]);

/** GET /metrics on the public app (`metrics.onPublicPort`). */
export function registerMetricsRoute(app: FastifyInstance, source: MetricsSource): void {
  app.get(METRICS_PATH, async (_request, reply) => reply.type(source.contentType).send(await source.scrape()));
}

/**
 * The separate metrics listener: a bare node:http server that answers GET /metrics and 404 to
 * anything else. It shares nothing with the public app (no body reading, no rate limit), so a
 * scrape is never refused by the client limits and clients never reach it.
 */
export class MetricsServer {
  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async listen(opts: {host: string; port: number}, source: MetricsSource): Promise<MetricsServer> {
    const server = createServer((req, res) => {
      const path = (req.url ?? "").split("?")[0];
      if (req.method !== "GET" || path !== METRICS_PATH) {
        res.writeHead(404, {"content-type": "text/plain"}).end("Not Found\n");
        return;
      }
      source.scrape().then(
        (text) => res.writeHead(200, {"content-type": source.contentType}).end(text),
        (err: unknown) => res.writeHead(500, {"content-type": "text/plain"}).end(`scrape failed: ${String(err)}\n`),
      );
    });
    server.keepAliveTimeout = 10_000;
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(opts.port, opts.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
    const {address, port} = server.address() as AddressInfo;
    const host = address.includes(":") ? `[${address}]` : address;
    return new MetricsServer(server, `http://${host}:${port}${METRICS_PATH}`);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
