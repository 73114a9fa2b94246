/** Swarm replication (docs/PROTOCOL.md (Replication)); the channel and the peer client are in peer/. */
export {Replicator, type ReplicationStats, type ReplicatorModules} from "./replicator.js";
export {PeerRequestHandler, type RpcRunner, type SealedProofApi} from "./peer-handler.js";
export {PeerTransport} from "./transport.js";
export {AntiEntropy} from "./anti-entropy.js";
export {Relocator} from "./relocation.js";
export {RetryQueue} from "./retry-queue.js";
export {Forwarder} from "./forwarder.js";
export {RpcBatcher} from "./rpc-batcher.js";
export {RevocationSync} from "./revocation-sync.js";
export {RevocationIndex} from "./revocation-index.js";
export {DigestIndex} from "./digest-index.js";
export {MembershipView} from "./membership-view.js";
export {PeerHealth as ReplicationPeerHealth} from "./peer-health.js";
export {PEER_ERROR, ReplicationError, type ReplicationErrorType} from "./errors.js";
export {
  PEER_DOWN_PROBE_MS,
  defaultReplicationOptions,
  resolveReplicationOptions,
  type ReplicationOptions,
} from "./options.js";
export {
  PEER_PROTOCOL_VERSION,
  decodePeerReply,
  decodePeerRequest,
  encodePeerMessage,
  type PeerReply,
  type PeerRequest,
} from "./wire.js";
