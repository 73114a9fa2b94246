/**
 * The HTTP envelope of node-to-node traffic (docs/PROTOCOL.md (Replication) §1): the two peer
 * routes that carry the ML-KEM channel's handshakes and sealed frames, the status that asks the
 * sender to re-handshake, and the frame size both sides hold to. What the frames contain (peer
 * messages) is the business of the modules above (replication/wire.ts).
 */

export const PEER_PATHS = {handshake: "/peer/v1/handshake", frame: "/peer/v1/frame"} as const;
/** HTTP status of the frame route when it has no channel with that ID: the sender re-handshakes once. */
export const STATUS_RESYNC = 409;
/** Largest frame this node seals or accepts on the peer routes. */
export const PEER_MAX_FRAME_BYTES = 8 * 1024 * 1024;
/**
 * HTTP connections per peer. Every forwarded write is one request/reply that waits for the peer's
 * group commit and entry signature (several ms), so a handful of sockets would cap the entry
 * node's write rate (4 gave ~230 stores/s on a 3-node swarm); sockets are cheap on loopback and LAN.
 */
export const PEER_CONNECTIONS = 32;

/** What the HTTP peer routes call (replication's PeerRequestHandler implements it). */
export interface PeerEndpoint {
  /** Responder side of a handshake: Init in, Resp out; throws ChannelError. */
  acceptHandshake(init: Uint8Array): Promise<Uint8Array>;
  /** A sealed request frame in, the sealed reply out; throws ChannelError when the frame is refused. */
  handleFrame(frame: Uint8Array): Promise<Uint8Array>;
}
