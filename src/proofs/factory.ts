/** Builds the node's ProofService from the parts the composition root already has. */
import type {NodeIdentity} from "../crypto/index.js";
import type {PeerClient} from "../peer/index.js";
import type {PqBackend} from "../crypto/index.js";
import type {ContextSigner} from "../signing/index.js";
import {ProofTables, type StorageDb} from "../storage/index.js";
import type {MembershipService} from "../swarm/index.js";
import type {Clock} from "../util/index.js";
import type {StoreEventSource} from "./changes.js";
import {defaultProofServiceOptions, type ProofServiceOptions} from "./options.js";
import {LocalEngine, type CommitmentEngine} from "./engine.js";
import {WorkerEngine} from "./engine-host.js";
import {ProofService, type ProofLogger} from "./proof-service.js";
import {membershipContext, singleNodeContext} from "./swarm-context.js";
import {noPeerTransport, peerProofTransport, type ProofTransport} from "./transport.js";

export interface ProofNodeParts {
  /** The message store: its database and its added/removed events. */
  readonly store: {readonly db: StorageDb} & StoreEventSource;
  /** The node's worker-thread ML-DSA signer. */
  readonly signer: ContextSigner;
  readonly pq: PqBackend;
  readonly identity: NodeIdentity;
  /** Null when the node is alone (membership source "none"). */
  readonly membership: MembershipService | null;
  readonly clock: Clock;
  readonly logger: ProofLogger;
  /** The node's peer client (null when the node is alone): challenges and proofs go through it. */
  readonly peers: Pick<PeerClient, "request"> | null;
  /** Default: `peerProofTransport(peers)`. */
  readonly transport?: ProofTransport;
}

/** Call before `membership.start()`, so the swarm context sees the first membership update. */
export function createProofService(opts: Partial<ProofServiceOptions>, p: ProofNodeParts): ProofService {
  const {nodeId, mlDsa, mlKem} = p.identity;
  const tables = new ProofTables(p.store.db);
  return new ProofService(opts, {
    tables,
    engine: commitmentEngine(p.store.db, tables, opts.sliceBudgetMs ?? defaultProofServiceOptions.sliceBudgetMs, p.logger),
    events: p.store,
    signer: p.signer,
    pq: p.pq,
    self: {nodeId, keys: {mlDsa: mlDsa.publicKey, mlKem: mlKem.publicKey}},
    swarm: p.membership === null ? singleNodeContext : membershipContext(p.membership, nodeId),
    transport: p.transport ?? (p.peers === null ? noPeerTransport : peerProofTransport(p.peers)),
    clock: p.clock,
    logger: p.logger,
  });
}

/** Busy timeout of the worker's read-only connection (reads wait only for a checkpoint). */
const WORKER_BUSY_TIMEOUT_MS = 5_000;

/**
 * A worker-thread engine for a database file; an in-memory database cannot be opened twice, so
 * its commitment is built on the main thread (tests and `--data-dir :memory:` setups).
 */
function commitmentEngine(db: StorageDb, tables: ProofTables, sliceBudgetMs: number, logger: ProofLogger): CommitmentEngine {
  if (db.sqlite.memory) return new LocalEngine(tables.reader, {sliceBudgetMs});
  return new WorkerEngine({path: db.sqlite.name, busyTimeoutMs: WORKER_BUSY_TIMEOUT_MS, sliceBudgetMs}, logger);
}
