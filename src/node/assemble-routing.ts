import type {Logger} from "pino";
import type {ParsStorageConfig} from "../config/index.js";
import type {NodeIdentity} from "../crypto/index.js";
import type {PqBackend} from "../crypto/index.js";
import {PEER_CONNECTIONS, PeerClient, membershipDirectory, type HandshakeSigner} from "../peer/index.js";
import type {Replicator} from "../replication/index.js";
import {SingleNodeRouter, type SwarmMemberJson, type SwarmRouter} from "../swarm/index.js";
import type {SqliteMessageStore} from "../storage/index.js";
import {assembleReplication} from "./assemble-replication.js";
import type {NodeTables} from "./assemble-storage.js";
import {swarmIdToWire} from "../swarm/index.js";
import {MembershipService} from "../swarm/index.js";
import {RegistrySource} from "../swarm/index.js";
import type {MembershipSource} from "../swarm/index.js";
import {StaticFileSource} from "../swarm/index.js";
import {MembershipRouter} from "../swarm/index.js";
import type {ReplicationMetrics} from "../metrics/index.js";
import type {Clock} from "../util/index.js";

export interface Routing {
  readonly router: SwarmRouter;
  /** Null with `membership.source = "none"`: the node is alone and serves every account. */
  readonly membership: MembershipService | null;
  /** Fan-out, retries, anti-entropy and relocation; null without a membership. */
  readonly replication: Replicator | null;
  /**
   * The node's one peer HTTP client (replication, proofs, the network view); null without a
   * membership. Its owner closes it after the parts that use it.
   */
  readonly peers: PeerClient | null;
}

export interface RoutingModules {
  readonly identity: NodeIdentity;
  readonly pq: PqBackend;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly store: SqliteMessageStore;
  readonly tables: Pick<NodeTables, "replication" | "retries">;
  /** Signs channel handshakes (the node's worker-thread ContextSigner). */
  readonly signer: HandshakeSigner;
  readonly metrics: ReplicationMetrics | null;
}

/** The address this node advertises: `node.publicHost`, else the bind address. */
export function advertisedHost(config: ParsStorageConfig): string {
  return config.node.publicHost !== "" ? config.node.publicHost : config.http.bind;
}

/**
 * The swarm router for the configured membership source, with replication as its fan-out.
 * Nothing is started here: the caller starts `replication` and `membership` once the HTTP server
 * listens and closes them before the store.
 */
export function buildRouting(config: ParsStorageConfig, m: RoutingModules, self: SwarmMemberJson): Routing {
  if (config.membership.source === "none") return {router: new SingleNodeRouter(self), membership: null, replication: null, peers: null};
  const logger = m.logger.child({module: "swarm"});
  const membership = new MembershipService(
    {networkId: config.networkId, mode: config.swarm.mode, ourNodeId: m.identity.nodeId},
    {source: buildSource(config, logger), pq: m.pq, clock: m.clock, logger},
  );
  const peers = new PeerClient({connections: PEER_CONNECTIONS}, {directory: membershipDirectory(membership)});
  const replication = assembleReplication(config.replication, {
    membership,
    peers,
    store: m.store,
    tables: m.tables,
    pq: m.pq,
    identity: m.identity,
    signer: m.signer,
    clock: m.clock,
    logger: m.logger.child({module: "replication"}),
    metrics: m.metrics,
  });
  return {router: new MembershipRouter({membership, forwarder: replication}), membership, replication, peers};
}

function buildSource(config: ParsStorageConfig, logger: Logger): MembershipSource {
  const {source, file, registryUrl, pollIntervalMs, requestTimeoutMs} = config.membership;
  if (source === "static") return new StaticFileSource({path: file, checkIntervalMs: pollIntervalMs}, {logger});
  return new RegistrySource({url: registryUrl, pollIntervalMs, requestTimeoutMs}, {logger});
}

/** Membership facts for GET /health. */
export function membershipHealth(config: ParsStorageConfig, membership: MembershipService | null): Record<string, unknown> {
  if (membership === null) return {membership: {source: "none"}};
  const snapshot = membership.snapshot;
  return {
    membership: {
      source: config.membership.source,
      mode: config.swarm.mode,
      loaded: snapshot !== null,
      nodes: snapshot?.view.nodeCount ?? 0,
      swarm_count: snapshot?.view.swarmCount ?? 0,
      our_swarm: snapshot === null || snapshot.ourSwarm === null ? null : swarmIdToWire(snapshot.ourSwarm),
    },
  };
}

/**
 * Whether a remote address is the published host of a node in the current membership (IPv4
 * literals as records carry them; an IPv4-mapped IPv6 address counts as its IPv4 form). The set
 * is built once per membership snapshot. A host name in a record matches nothing: resolving
 * names per connection would let a record's DNS decide who is capped.
 */
export function memberAddressCheck(membership: MembershipService | null): (ip: string) => boolean {
  if (membership === null) return () => false;
  const hosts = new WeakMap<object, Set<string>>();
  return (ip) => {
    const snapshot = membership.snapshot;
    if (snapshot === null) return false;
    let set = hosts.get(snapshot);
    if (set === undefined) {
      set = new Set(snapshot.view.nodes().map((record) => record.host));
      hosts.set(snapshot, set);
    }
    return set.has(ip.startsWith("::ffff:") ? ip.slice(7) : ip);
  };
}
