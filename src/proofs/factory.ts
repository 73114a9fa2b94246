/** Builds the node's ProofService from the parts the composition root already has. */
import type {NodeIdentity} from "../crypto/identity.js";
import type {PqBackend} from "../crypto/interface.js";
import type {ContextSigner} from "../signing/context-signer.js";
import {ProofTables, type StorageDb} from "../storage/index.js";
import type {MembershipService} from "../swarm/membership-service.js";
import type {Clock} from "../util/clock.js";
import type {StoreEventSource} from "./changes.js";
import type {ProofServiceOptions} from "./options.js";
import {ProofService, type ProofLogger} from "./proof-service.js";
import {membershipContext, singleNodeContext} from "./swarm-context.js";
import {httpTransport, type ProofTransport} from "./transport.js";

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
  /** How challenges and proofs reach peers (plain HTTP until the replication channel carries them). */
  readonly transport?: ProofTransport;
}

/** Call before `membership.start()`, so the swarm context sees the first membership update. */
export function createProofService(opts: Partial<ProofServiceOptions>, p: ProofNodeParts): ProofService {
  const {nodeId, mlDsa, mlKem} = p.identity;
  return new ProofService(opts, {
    tables: new ProofTables(p.store.db),
    events: p.store,
    signer: p.signer,
    pq: p.pq,
    self: {nodeId, keys: {mlDsa: mlDsa.publicKey, mlKem: mlKem.publicKey}},
    swarm: p.membership === null ? singleNodeContext : membershipContext(p.membership, nodeId),
    transport: p.transport ?? httpTransport,
    clock: p.clock,
    logger: p.logger,
  });
}
