/**
 * Node-to-node I/O (docs/PROTOCOL.md (Peer channel), (Replication) §1): the one peer HTTP client
 * (a pool per peer, timeouts, size cap, retry policy; peers named by node ID and found in the
 * membership), the ML-KEM-768 channel in ./channel/, the channel transport that seals requests
 * on it, and the HTTP envelope (routes, resync status, frame cap) the peer routes serve.
 */
export {
  PeerClient,
  defaultPeerClientOptions,
  type PeerAddress,
  type PeerCall,
  type PeerClientModules,
  type PeerClientOptions,
  type PeerDirectory,
  type PeerResponse,
  type PeerResult,
  type PostOptions,
} from "./peer-client.js";
export {
  PeerClientError,
  defaultPeerRetryPolicy,
  type PeerClientErrorCode,
  type PeerClientErrorType,
  type PeerFailureCode,
  type PeerRetryPolicy,
} from "./peer-retry.js";
export {readCappedBody} from "./capped-body.js";
export {membershipDirectory} from "./directory.js";
export {ChannelTransport, type ChannelTransportModules, type ExchangeOptions} from "./transport.js";
export {PEER_CONNECTIONS, PEER_MAX_FRAME_BYTES, PEER_PATHS, STATUS_RESYNC, type PeerEndpoint} from "./envelope.js";
export {
  ChannelError,
  ChannelManager,
  INIT,
  inlineHandshakeSigner,
  isChannelError,
  type ChannelErrorCode,
  type ChannelManagerOptions,
  type ChannelStats,
  type HandshakeSigner,
  type PeerKeys,
} from "./channel/index.js";
