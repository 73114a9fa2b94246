/** Replication's parts for one membership, built once and handed to the Replicator. */
import type {NodeIdentity, PqBackend} from "../crypto/index.js";
import {ChannelTransport, PEER_MAX_FRAME_BYTES, type HandshakeSigner, type PeerClient} from "../peer/index.js";
import {
  AntiEntropy,
  DigestIndex,
  Forwarder,
  MembershipView,
  PEER_DOWN_PROBE_MS,
  PeerRequestHandler,
  PeerTransport,
  Relocator,
  ReplicationPeerHealth,
  Replicator,
  resolveReplicationOptions,
  RetryQueue,
  RevocationIndex,
  RevocationSync,
  RpcBatcher,
  type ReplicationOptions,
} from "../replication/index.js";
import type {ReplicationTables, RetryTable, SqliteMessageStore} from "../storage/index.js";
import type {MembershipService} from "../swarm/index.js";
import type {ReplicationMetrics} from "../metrics/index.js";
import type {Clock} from "../util/index.js";
import type {Logger} from "pino";

export interface ReplicationParts {
  readonly membership: MembershipService;
  readonly peers: PeerClient;
  readonly store: SqliteMessageStore;
  readonly tables: {readonly replication: ReplicationTables; readonly retries: RetryTable};
  readonly pq: PqBackend;
  readonly identity: Pick<NodeIdentity, "nodeId" | "mlKem" | "mlDsa">;
  /** Handshake signatures: the node's worker-thread ContextSigner. */
  readonly signer: HandshakeSigner;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Forwards, retries and anti-entropy repairs; null when metrics are off. */
  readonly metrics: ReplicationMetrics | null;
}

/** Nothing is started here: the node starts the Replicator once the HTTP server listens. */
export function assembleReplication(options: Partial<ReplicationOptions>, p: ReplicationParts): Replicator {
  const opts = resolveReplicationOptions(options);
  const {store, clock, logger, metrics} = p;
  const tables = p.tables.replication;
  const view = new MembershipView(p.membership, p.identity.nodeId);
  const health = new ReplicationPeerHealth(PEER_DOWN_PROBE_MS, clock);
  const channel = new ChannelTransport({maxFrameBytes: PEER_MAX_FRAME_BYTES}, {pq: p.pq, identity: p.identity, signer: p.signer, client: p.peers, keys: view, clock});
  const transport = new PeerTransport(channel);
  const index = new DigestIndex();
  const revocationIndex = new RevocationIndex();
  const revocations = new RevocationSync({revocations: store.revocations, index: revocationIndex, transport, view, clock});
  const retries = new RetryQueue(opts, {table: p.tables.retries, tables, revocations, transport, view, health, clock, logger, metrics});
  const batcher = new RpcBatcher(
    {maxBatchBytes: opts.maxBatchBytes, batchesInFlight: opts.forwardBatchesInFlight, holdMs: opts.forwardBatchHoldMs},
    {transport, metrics},
  );
  const shared = {store, tables, index, revocations, transport, view, clock, logger};
  return new Replicator(opts, {
    membership: p.membership,
    store,
    tables,
    view,
    peerClient: p.peers,
    transport,
    health,
    index,
    revocationIndex,
    retries,
    forwarder: new Forwarder(opts, {batcher, view, retries, health, clock, logger, metrics}),
    antiEntropy: new AntiEntropy(opts, {...shared, metrics}),
    relocator: new Relocator(opts, shared),
    endpoint: (rpc, onContact, proofs) =>
      new PeerRequestHandler(opts, {channels: transport.channels, rpc, store, tables, index, revocationIndex, revocations, view, clock, logger, onContact, proofs}),
    clock,
    logger,
  });
}
