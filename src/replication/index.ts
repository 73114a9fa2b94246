/** Swarm replication (docs/PROTOCOL.md (Replication)); the channel and the peer client are in peer/. */
export {Replicator, type ReplicationStats, type ReplicatorModules} from "./replicator.js";
export {PeerRequestHandler, type RpcRunner} from "./peer-handler.js";
export {PeerTransport} from "./transport.js";
export {PEER_ERROR, ReplicationError, type ReplicationErrorType} from "./errors.js";
export {defaultReplicationOptions, resolveReplicationOptions, type ReplicationOptions} from "./options.js";
export {
  PEER_PROTOCOL_VERSION,
  decodePeerReply,
  decodePeerRequest,
  encodePeerMessage,
  type PeerReply,
  type PeerRequest,
} from "./wire.js";
