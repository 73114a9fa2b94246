/**
 * Metrics read at scrape time from figures the modules already keep (GET /health's counters, the
 * store's totals, the channel and WebSocket stats), so those modules need no hook. Each read is a
 * copy of counters in memory or one single-row query (a whole scrape measured ~1.3 ms of CPU,
 * docs/operations-metrics.md).
 */
import {Counter, Gauge, type Registry} from "prom-client";
import {peerLabel} from "./families.js";

/** What the node hands the collectors; a part that is off (no membership, no onion) is absent. */
export interface MetricSources {
  store: () => {messageCount: number; accountCount: number; usedBytes: number; effectiveSizeLimitBytes: number};
  writes: () => {commits: number; failedWrites: number};
  ws: () => {connections: number; subscriptions: number; pushes: number; dropsByReason: Record<string, number>; rpcRequests: number; queuedBytes: number};
  onion?: () => {relayed: number; final: number; inFlightRelays: number; failed: Partial<Record<string, number>>};
  channels?: () => {
    handshakesInitiated: number;
    handshakesCompleted: number;
    handshakesAccepted: number;
    rekeys: number;
    channels: number;
    rejected: Record<string, number>;
  };
  /** Queued retries by peer node ID. */
  retryQueue?: () => Map<string, number> | Record<string, number>;
  /** Whether the node has a signed storage proof, the time of its newest one, the running refresh's progress. */
  proof?: () => {ready: boolean; latestTimestampMs: number | null; build: {done: number; total: number} | null};
  now: () => number;
}

type Read<T> = () => T;

/** A gauge set from `read` at each scrape. */
function gauge(register: Registry, name: string, help: string, read: Read<number>): void {
  new Gauge({name, help, registers: [register], collect() {
    this.set(read());
  }});
}

/** A gauge with one series per key of `read`'s record. */
function gaugeBy(register: Registry, name: string, help: string, label: string, read: Read<Iterable<[string, number]>>): void {
  new Gauge({name, help, labelNames: [label], registers: [register], collect() {
    this.reset();
    for (const [key, value] of read()) this.set({[label]: key}, value);
  }});
}

/** A counter mirroring monotonic figures a module keeps: one series per key of `read`. */
function counterBy(register: Registry, name: string, help: string, labels: string[], read: Read<Array<[string[], number]>>): void {
  new Counter({name, help, labelNames: labels, registers: [register], collect() {
    this.reset();
    for (const [values, value] of read()) this.inc(Object.fromEntries(labels.map((l, i) => [l, values[i] ?? ""])), value);
  }});
}

function counter(register: Registry, name: string, help: string, read: Read<number>): void {
  counterBy(register, name, help, [], () => [[[], read()]]);
}

/**
 * `read`'s value shared by the collectors of one scrape: they all run in the same turn, so the
 * store's totals are queried once per scrape, not once per family.
 */
function perScrape<T>(read: Read<T>): Read<T> {
  let cached: {value: T} | null = null;
  return () => {
    if (cached === null) {
      cached = {value: read()};
      setImmediate(() => (cached = null));
    }
    return cached.value;
  };
}

export function registerCollectors(register: Registry, sources: MetricSources): void {
  const s: MetricSources = {
    ...sources,
    store: perScrape(sources.store),
    ws: perScrape(sources.ws),
    ...(sources.onion === undefined ? {} : {onion: perScrape(sources.onion)}),
    ...(sources.channels === undefined ? {} : {channels: perScrape(sources.channels)}),
  };
  gauge(register, "pars_store_messages", "Messages held (expired ones not yet swept included)", () => s.store().messageCount);
  gauge(register, "pars_store_accounts", "Accounts with at least one message", () => s.store().accountCount);
  gauge(register, "pars_store_used_bytes", "Database bytes in use", () => s.store().usedBytes);
  gauge(register, "pars_store_size_limit_bytes", "Size limit in force (storage.sizeLimitBytes or less on a small disk)", () => s.store().effectiveSizeLimitBytes);
  counter(register, "pars_store_group_commits_total", "Group-commit transactions committed", () => s.writes().commits);
  counter(register, "pars_store_failed_writes_total", "Writes that failed (rolled back alone or with their transaction)", () => s.writes().failedWrites);
  registerWs(register, s.ws);
  if (s.onion !== undefined) registerOnion(register, s.onion);
  if (s.channels !== undefined) registerChannels(register, s.channels);
  const retryQueue = s.retryQueue;
  if (retryQueue !== undefined) {
    gaugeBy(register, "pars_replication_retry_queue_depth", "Forwards queued for retry, by peer (node-ID prefix)", "peer", () => {
      const rows = retryQueue();
      return (rows instanceof Map ? [...rows] : Object.entries(rows)).map(([peer, n]) => [peerLabel(peer), n]);
    });
  }
  const proof = s.proof;
  if (proof !== undefined) {
    gauge(register, "pars_proof_ready", "1 once a storage proof is signed (challenges are answered)", () => (proof().ready ? 1 : 0));
    gauge(register, "pars_proof_latest_age_seconds", "Age of the newest signed storage proof (-1: none yet)", () => {
      const at = proof().latestTimestampMs;
      return at === null ? -1 : Math.max(0, s.now() - at) / 1000;
    });
    // The startup build of a large store takes minutes (answers are 503 meanwhile): how far it got.
    gauge(register, "pars_proof_commitment_build_ratio", "Progress of the running commitment refresh, 0-1 (1 when none runs)", () => {
      const build = proof().build;
      return build === null || build.total === 0 ? 1 : build.done / build.total;
    });
  }
}

function registerWs(register: Registry, ws: MetricSources["ws"]): void {
  gauge(register, "pars_ws_connections", "Open WebSocket connections", () => ws().connections);
  gauge(register, "pars_ws_subscriptions", "Active WebSocket subscriptions", () => ws().subscriptions);
  gauge(register, "pars_ws_queued_bytes", "Bytes queued for slow WebSocket readers", () => ws().queuedBytes);
  counter(register, "pars_ws_pushes_total", "Messages pushed to WebSocket subscribers", () => ws().pushes);
  counter(register, "pars_ws_rpc_requests_total", "RPC frames received over WebSocket", () => ws().rpcRequests);
  counterBy(register, "pars_ws_drops_total", "WebSocket connections closed by the node, by reason", ["reason"], () =>
    Object.entries(ws().dropsByReason).map(([reason, n]) => [[reason], n]),
  );
}

function registerOnion(register: Registry, onion: NonNullable<MetricSources["onion"]>): void {
  counterBy(register, "pars_onion_requests_total", "Onion requests handled, by outcome (relayed, final, failed) and failure reason", ["outcome", "reason"], () => {
    const c = onion();
    const failed = Object.entries(c.failed).map(([reason, n]): [string[], number] => [["failed", reason], n ?? 0]);
    return [[["relayed", ""], c.relayed], [["final", ""], c.final], ...failed];
  });
  gauge(register, "pars_onion_relays_in_flight", "Onion relays waiting for their next hop", () => onion().inFlightRelays);
}

function registerChannels(register: Registry, channels: NonNullable<MetricSources["channels"]>): void {
  counterBy(register, "pars_peer_channel_handshakes_total", "ML-KEM channel handshakes, by role and result", ["role", "result"], () => {
    const c = channels();
    return [
      [["initiator", "started"], c.handshakesInitiated],
      [["initiator", "completed"], c.handshakesCompleted],
      [["responder", "accepted"], c.handshakesAccepted],
    ];
  });
  counter(register, "pars_peer_channel_rekeys_total", "Channel rekeys started at an age or volume limit", () => channels().rekeys);
  counterBy(register, "pars_peer_channel_rejections_total", "Channel refusals and failures, by error code", ["reason"], () =>
    Object.entries(channels().rejected).map(([reason, n]) => [[reason], n]),
  );
  gauge(register, "pars_peer_channels", "Live ML-KEM channels (both roles)", () => channels().channels);
}
