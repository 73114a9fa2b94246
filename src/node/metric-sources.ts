/** What the metrics read at scrape time, from figures the node's modules already keep (GET /health's). */
import type {WsHandle} from "../api/ws/index.js";
import type {MetricSources} from "../metrics/index.js";
import type {ProofService} from "../proofs/index.js";
import type {Replicator} from "../replication/index.js";
import type {SqliteMessageStore} from "../storage/index.js";
import type {Clock} from "../util/index.js";
import type {OnionParts} from "./assemble-onion.js";

export interface MetricSourceParts {
  store: SqliteMessageStore;
  ws: WsHandle;
  onion: OnionParts | null;
  replication: Replicator | null;
  proofs: ProofService | null;
  clock: Clock;
}

export function metricSources(p: MetricSourceParts): MetricSources {
  const {store, ws, onion, replication, proofs, clock} = p;
  return {
    store: () => store.stats(),
    writes: () => store.writeStats(),
    ws: () => ws.stats(),
    ...(onion === null ? {} : {onion: () => onion.relay.counters.snapshot()}),
    ...(replication === null
      ? {}
      : {channels: () => replication.transport.channels.stats(), retryQueue: () => replication.retries.pending()}),
    ...(proofs === null
      ? {}
      : {
          proof: () => {
            const facts = proofs.healthFacts();
            const build = facts.commitmentBuild === null ? null : {done: facts.commitmentBuild.done, total: facts.commitmentBuild.total};
            return {ready: facts.proofReady, latestTimestampMs: proofs.latest?.timestamp ?? null, build};
          },
        }),
    now: () => clock.now(),
  };
}
