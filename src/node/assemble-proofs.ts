/** The node's ProofService, from the parts the composition root already has. */
import {InlineSigner, WorkerSigner, type ContextSigner} from "../signer/index.js";
import type {Logger} from "../util/index.js";
import type {NodeIdentity, PqBackend} from "../crypto/index.js";
import type {PeerClient} from "../peer/index.js";
import {
  defaultProofServiceOptions,
  LocalEngine,
  membershipContext,
  noPeerTransport,
  channelProofTransport,
  peerProofTransport,
  PenaltyReporter,
  PenaltyStore,
  ProofService,
  singleNodeContext,
  WorkerEngine,
  type CommitmentEngine,
  type ProofServiceModules,
  type ProofServiceOptions,
  type ProofTransport,
  type SealedPeerRequests,
  type StoreEventSource,
} from "../proofs/index.js";

import type {PenaltyTables, ProofTables, StorageDb} from "../storage/index.js";
import type {MembershipService} from "../swarm/index.js";
import type {ProofMetrics} from "../metrics/index.js";
import type {Clock} from "../util/index.js";
import type {EpochSchedule} from "../economics/index.js";
import {countedLedger, timedEngine} from "./assemble-metrics.js";

export interface ProofParts {
  /** The message store: its database and its added/removed events. */
  readonly store: {readonly db: StorageDb} & StoreEventSource;
  readonly tables: ProofTables;
  /** The node's worker-thread ML-DSA signer. */
  readonly signer: ContextSigner;
  readonly pq: PqBackend;
  readonly identity: NodeIdentity;
  /** Null when the node is alone (membership source "none"). */
  readonly membership: MembershipService | null;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The node's peer client (null when the node is alone): challenges and proofs go through it. */
  readonly peers: Pick<PeerClient, "request"> | null;
  /** Replication's sealed peer requests (null without replication): members are challenged through the ML-KEM channel. */
  readonly channel?: SealedPeerRequests | null;
  /** Default: `channelProofTransport(channel)` falling back to `peerProofTransport(peers)` (HTTP). */
  readonly transport?: ProofTransport;
  /** Refresh times and challenge verdicts; null or absent when metrics are off. */
  readonly metrics?: ProofMetrics | null;
  /** Penalty reports signed with the node's BLS key, naming reward epochs; null or absent: none. */
  readonly penalties?: {
    readonly networkId: number;
    readonly epochs: EpochSchedule;
    readonly blsSecretKey: Uint8Array;
    readonly table: PenaltyTables;
  } | null;
}

/** Penalty reports kept (about 1 KB each without evidence, ~25 KB with). */
const KEEP_PENALTY_REPORTS = 10_000;

/** Call before `membership.start()`, so the swarm context sees the first membership update. */
export function assembleProofs(opts: Partial<ProofServiceOptions>, p: ProofParts): ProofService {
  const {nodeId, mlDsa, mlKem} = p.identity;
  const metrics = p.metrics ?? null;
  const engine = commitmentEngine(p.store.db, p.tables, opts.sliceBudgetMs ?? defaultProofServiceOptions.sliceBudgetMs, p.logger);
  return new ProofService(opts, {
    tables: countedLedger(p.tables, metrics),
    engine: timedEngine(engine, metrics),
    events: p.store,
    signer: p.signer,
    answerSigner: answerSigner(p),
    pq: p.pq,
    self: {nodeId, keys: {mlDsa: mlDsa.publicKey, mlKem: mlKem.publicKey}},
    swarm: p.membership === null ? singleNodeContext : membershipContext(p.membership, nodeId),
    transport: p.transport ?? proofTransport(p),
    clock: p.clock,
    logger: p.logger,
    penalties: penaltyParts(p),
  });
}

/**
 * Answers are signed on the main thread when liboqs signs contexts (~0.5 ms of CPU; the signing
 * worker's self-tested path says so): same-run at 1 M this halved the signature's p99 against the
 * worker round trip (docs/benchmarks.md, Storage proofs). With noble (~10 ms) they stay on the worker.
 */
function answerSigner(p: ProofParts): ContextSigner | undefined {
  const fast = p.pq.name === "liboqs" && p.signer instanceof WorkerSigner && p.signer.liboqsContext;
  return fast ? new InlineSigner(p.pq, p.identity.mlDsa.secretKey) : undefined;
}

/** Sealed in the peer channel when there is one, the HTTP routes for peers without it (and no channel). */
function proofTransport(p: ProofParts): ProofTransport {
  if (p.peers === null) return noPeerTransport;
  const http = peerProofTransport(p.peers);
  const channel = p.channel ?? null;
  return channel === null ? http : channelProofTransport(channel, http, () => p.clock.now());
}

function penaltyParts(p: ProofParts): ProofServiceModules["penalties"] {
  if (p.penalties === undefined || p.penalties === null) return null;
  const {networkId, epochs, blsSecretKey, table} = p.penalties;
  const store = new PenaltyStore(table);
  const reporter = new PenaltyReporter(
    {networkId, epochs, keepReports: KEEP_PENALTY_REPORTS},
    {nodeId: p.identity.nodeId, blsSecretKey, store, clock: p.clock, logger: p.logger},
  );
  return {reporter, store};
}

/** Busy timeout of the worker's read-only connection (reads wait only for a checkpoint). */
const WORKER_BUSY_TIMEOUT_MS = 5_000;

/**
 * A worker-thread engine for a database file; an in-memory database cannot be opened twice, so
 * its commitment is built on the main thread (tests and `--data-dir :memory:` setups).
 */
function commitmentEngine(db: StorageDb, tables: ProofTables, sliceBudgetMs: number, logger: Logger): CommitmentEngine {
  if (db.sqlite.memory) return new LocalEngine(tables.reader, {sliceBudgetMs});
  return new WorkerEngine({path: db.sqlite.name, busyTimeoutMs: WORKER_BUSY_TIMEOUT_MS, sliceBudgetMs, persist: true}, logger);
}
