/**
 * Wiring of the Prometheus metrics (docs/operations-metrics.md): the node's NodeMetrics, the
 * wrappers that observe modules from outside (the signer, the proof engine, ledger and answers),
 * the scrape-time sources, and the /metrics listener. Modules with a hook of their own take the
 * family they update as an optional `metrics` module; all of it is null when `metrics.enabled` is
 * false.
 */
import {performance} from "node:perf_hooks";
import type {FastifyInstance} from "fastify";
import type {Logger} from "pino";
import {instrumentHttp, MetricsServer, registerMetricsRoute} from "../api/http/index.js";
import {METRICS_PORT_OFFSET, type ParsStorageConfig} from "../config/index.js";
import {CTX} from "../crypto/index.js";
import {NodeMetrics, type ProofMetrics, type SignerMetrics} from "../metrics/index.js";
import type {ChallengeAnswer, CommitmentEngine, ProofService, ProofStorage} from "../proofs/index.js";
import type {ContextSigner} from "../signer/index.js";
import type {SqliteMessageStore} from "../storage/index.js";
import {PARS_STORAGE_VERSION} from "./version.js";

/** The node's metrics, or null when they are off. */
export function createNodeMetrics(config: ParsStorageConfig, nodeId: string): NodeMetrics | null {
  if (!config.metrics.enabled) return null;
  return new NodeMetrics({version: PARS_STORAGE_VERSION, networkId: config.networkId, nodeId});
}

/** Context bytes (hex) → CTX name, for the bounded `context` label. */
const CONTEXT_NAMES = new Map(Object.entries(CTX).map(([name, bytes]) => [Buffer.from(bytes).toString("hex"), name]));

/** Counts and times every signature the node key makes, whoever asked for it. */
export function countedSigner(signer: ContextSigner, metrics: SignerMetrics | null): ContextSigner {
  if (metrics === null) return signer;
  return {
    async sign(message, context) {
      const started = performance.now();
      const signature = await signer.sign(message, context);
      metrics.duration.observe((performance.now() - started) / 1000);
      metrics.signatures.inc({context: CONTEXT_NAMES.get(Buffer.from(context).toString("hex")) ?? "other"});
      return signature;
    },
    close: () => signer.close(),
  };
}

/** Times every commitment refresh (the startup build included). */
export function timedEngine(engine: CommitmentEngine, metrics: ProofMetrics | null): CommitmentEngine {
  if (metrics === null) return engine;
  return overriding(engine, "refresh", (refresh) => async (...args) => {
    const started = performance.now();
    const observe = (result: string): void => metrics.refreshDuration.observe({result}, (performance.now() - started) / 1000);
    try {
      const summary = await refresh(...args);
      observe(summary === null ? "abandoned" : "ok");
      return summary;
    } catch (err) {
      observe("failed");
      throw err;
    }
  });
}

/** Counts the verdicts the ledger records (the challenges this node sent). */
export function countedLedger(tables: ProofStorage, metrics: ProofMetrics | null): ProofStorage {
  if (metrics === null) return tables;
  return overriding(tables, "addResult", (addResult) => (r, keep) => {
    metrics.challengeResults.inc({outcome: r.outcome});
    return addResult(r, keep);
  });
}

/** The proof routes' API with every challenge answer timed, by result. */
export function timedAnswers(proofs: ProofService, metrics: ProofMetrics | null): ProofService {
  if (metrics === null) return proofs;
  return overriding(proofs, "answer", (answer) => async (body): Promise<ChallengeAnswer> => {
    const started = performance.now();
    const observe = (result: string): void => metrics.answerDuration.observe({result}, (performance.now() - started) / 1000);
    try {
      const answered = await answer(body);
      observe("answered");
      return answered;
    } catch (err) {
      observe(errorCode(err));
      throw err;
    }
  });
}

function errorCode(err: unknown): string {
  const type = (err as {type?: {code?: unknown}} | null)?.type?.code;
  return typeof type === "string" && /^PROOF_ERROR_[A-Z_]+$/.test(type) ? type : "error";
}

/**
 * `target` with one method replaced, every other property read from `target` itself (methods
 * bound to it, so classes with private fields keep working). Lets node/ observe a module without
 * a hook inside it.
 */
function overriding<T extends object, K extends keyof T>(target: T, key: K, wrap: (original: T[K]) => T[K]): T {
  const original = (target[key] as (...args: unknown[]) => unknown).bind(target) as T[K];
  const replaced = wrap(original);
  return new Proxy(target, {
    get(t, prop) {
      if (prop === key) return replaced;
      const value: unknown = Reflect.get(t, prop, t);
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(t) : value;
    },
  });
}

/** Counts messages added to and removed from the store, from its own events. */
export function countStoreEvents(store: SqliteMessageStore, metrics: NodeMetrics | null): void {
  if (metrics === null) return;
  const {added, removed} = metrics.metrics.store;
  store.on("added", (messages) => added.inc(messages.length));
  store.on("removed", (hashes) => removed.inc(hashes.length));
}

/** `metrics.port`, or by default the RPC port + 1000 (a free port when the RPC port is picked freely). */
export function metricsPort(config: ParsStorageConfig): number {
  if (config.metrics.port !== null) return config.metrics.port;
  return config.http.port === 0 ? 0 : config.http.port + METRICS_PORT_OFFSET;
}

/** Counts the public app's requests and, with `metrics.onPublicPort`, adds its GET /metrics; before it listens. */
export function instrumentApp(config: ParsStorageConfig, metrics: NodeMetrics | null, app: FastifyInstance): void {
  if (metrics === null) return;
  instrumentHttp(app, metrics.metrics.http);
  if (config.metrics.onPublicPort) registerMetricsRoute(app, metrics);
}

/**
 * The metrics listener (`metrics.bind`/`metrics.port`). One that cannot bind (the port is taken)
 * is logged and skipped: metrics observe the node, they never stop it from serving clients.
 */
export async function listenMetrics(config: ParsStorageConfig, metrics: NodeMetrics | null, log: Logger): Promise<MetricsServer | null> {
  if (metrics === null) return null;
  try {
    const server = await MetricsServer.listen({host: config.metrics.bind, port: metricsPort(config)}, metrics);
    log.info({url: server.url}, "serving metrics");
    return server;
  } catch (err) {
    log.error({bind: config.metrics.bind, port: metricsPort(config), err: err instanceof Error ? err.message : String(err)}, "metrics listener could not start; running without it");
    return null;
  }
}
