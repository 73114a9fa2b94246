/** Swarm replication (docs/PROTOCOL.md (Replication)); the channel is in ./channel/. */
export {Replicator, type ReplicationStats, type ReplicatorModules} from "./replicator.js";
export {PeerRequestHandler, type PeerEndpoint, type RpcRunner} from "./peer-handler.js";
export {PeerTransport} from "./transport.js";
export {PeerClient, type PeerAddress, type PeerClientOptions} from "./peer-client.js";
export {PEER_ERROR, ReplicationError, type ReplicationErrorType} from "./errors.js";
export {defaultReplicationOptions, resolveReplicationOptions, type ReplicationOptions} from "./options.js";
export {
  PEER_PATHS,
  PEER_PROTOCOL_VERSION,
  STATUS_RESYNC,
  decodePeerReply,
  decodePeerRequest,
  encodePeerMessage,
  type PeerReply,
  type PeerRequest,
} from "./wire.js";
export {PEER_MAX_FRAME_BYTES} from "./options.js";
export {ChannelError} from "./channel/index.js";
export type {ChannelErrorCode, HandshakeSigner} from "./channel/index.js";
