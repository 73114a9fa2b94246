/**
 * One node's metrics: its own prom-client Registry (never the global one, so several nodes in one
 * process, as in the tests, each report their own), the event-driven families, the scrape-time
 * collectors and prom-client's default process collectors (CPU, memory, heap, GC, event-loop lag).
 */
import {collectDefaultMetrics, Gauge, Registry} from "prom-client";
import {registerCollectors, type MetricSources} from "./collectors.js";
import {createMetrics, type Metrics} from "./families.js";

/** Prefix of the default collectors' names: `pars_process_cpu_seconds_total`, `pars_nodejs_eventloop_lag_seconds`. */
export const DEFAULT_METRICS_PREFIX = "pars_";
/** Resolution of the event-loop lag histogram (prom-client's monitorEventLoopDelay). */
const EVENT_LOOP_PRECISION_MS = 10;

export interface NodeInfo {
  version: string;
  networkId: number;
  nodeId: string;
}

export class NodeMetrics {
  readonly register: Registry;
  readonly metrics: Metrics;

  /**
   * `processCollectors: false` leaves out prom-client's default collectors, whose event-loop
   * monitor and GC observer cannot be stopped again (unit tests that share a worker).
   */
  constructor(info: NodeInfo, opts: {processCollectors: boolean} = {processCollectors: true}) {
    this.register = new Registry();
    this.metrics = createMetrics(this.register);
    if (opts.processCollectors) {
      collectDefaultMetrics({register: this.register, prefix: DEFAULT_METRICS_PREFIX, eventLoopMonitoringPrecision: EVENT_LOOP_PRECISION_MS});
    }
    const labels = {version: info.version, network_id: String(info.networkId), node_id: info.nodeId};
    new Gauge({
      name: "pars_node_info",
      help: "Always 1; the labels say which node, version and network this is",
      labelNames: Object.keys(labels),
      registers: [this.register],
    }).set(labels, 1);
  }

  /** Adds the scrape-time collectors; call once, when the node's modules exist. */
  addSources(sources: MetricSources): void {
    registerCollectors(this.register, sources);
  }

  /** The Prometheus text exposition of every family. */
  scrape(): Promise<string> {
    return this.register.metrics();
  }

  get contentType(): string {
    return this.register.contentType;
  }
}
