/**
 * Request/reply between nodes: a peer message (wire.ts) is sealed on the channel to the peer,
 * POSTed to `/peer/v1/frame` through the PeerClient, and the sealed reply is opened and decoded.
 * Handshakes go to `/peer/v1/handshake`. A 409 (the peer has no such channel: it restarted or
 * expired it) makes us drop our channels with it and try once more on a fresh handshake.
 */
import {setMaxListeners} from "node:events";
import type {NodeIdentity} from "../crypto/index.js";
import type {PqBackend} from "../crypto/index.js";
import type {Clock} from "../util/index.js";
import {ChannelManager, type ChannelManagerOptions, type ChannelError, type HandshakeSigner} from "./channel/index.js";
import {ReplicationError} from "./errors.js";
import type {MembershipView} from "./membership-view.js";
import type {PeerClient} from "./peer-client.js";
import {PEER_PATHS, STATUS_RESYNC, decodePeerReply, encodePeerMessage, type PeerReply, type PeerRequest} from "./wire.js";

export interface PeerTransportModules {
  readonly pq: PqBackend;
  readonly identity: Pick<NodeIdentity, "nodeId" | "mlKem" | "mlDsa">;
  readonly signer?: HandshakeSigner;
  readonly client: PeerClient;
  readonly view: MembershipView;
  readonly clock: Clock;
  readonly onReject?: (err: ChannelError) => void;
}

export interface RequestOptions {
  readonly signal?: AbortSignal;
}

export class PeerTransport {
  readonly channels: ChannelManager;
  readonly #m: PeerTransportModules;
  /** Aborted by close(): requests in flight end at once instead of running into their timeouts. */
  readonly #closing = new AbortController();

  constructor(channelOpts: Partial<ChannelManagerOptions>, modules: PeerTransportModules) {
    this.#m = modules;
    // Every request in flight listens on this one signal (undici removes the listener when the
    // request ends); dozens at once are normal with 32 sockets per peer, not a listener leak.
    setMaxListeners(0, this.#closing.signal);
    this.channels = new ChannelManager(channelOpts, {
      pq: modules.pq,
      identity: modules.identity,
      ...(modules.signer === undefined ? {} : {signer: modules.signer}),
      lookupPeer: (nodeId) => modules.view.keysOf(nodeId),
      sendHandshake: (peer, init) => this.#sendHandshake(peer, init),
      clock: modules.clock,
      ...(modules.onReject === undefined ? {} : {onReject: modules.onReject}),
    });
  }

  /** Sends one request and returns the peer's reply; throws ChannelError, PeerClientError or ReplicationError. */
  request(peer: string, req: PeerRequest, opts: RequestOptions = {}): Promise<PeerReply> {
    return this.requestRaw(peer, encodePeerMessage(req), opts);
  }

  /** Like `request`, with the request already encoded (see wire.ts encodeRpcBatch). */
  async requestRaw(peer: string, plaintext: Uint8Array, opts: RequestOptions = {}): Promise<PeerReply> {
    const address = this.#address(peer);
    const signal = opts.signal === undefined ? this.#closing.signal : AbortSignal.any([opts.signal, this.#closing.signal]);
    for (let attempt = 1; ; attempt++) {
      const frame = await this.channels.seal(peer, plaintext);
      const res = await this.#m.client.post(address, PEER_PATHS.frame, frame, {idempotent: true, signal});
      if (res.status === STATUS_RESYNC && attempt === 1) {
        this.channels.forgetPeer(peer);
        continue;
      }
      if (res.status !== 200) throw statusError(peer, res.status, res.body);
      const opened = this.channels.open(res.body);
      if (opened.peer !== peer) throw new ReplicationError({code: "REPLICATION_ERROR_PEER_STATUS", peer, status: 200, peerCode: "wrong_peer"});
      return decodePeerReply(opened.plaintext);
    }
  }

  /** Aborts requests in flight and closes every channel. */
  close(): void {
    this.#closing.abort();
    this.channels.close();
  }

  async #sendHandshake(peer: string, init: Uint8Array): Promise<Uint8Array> {
    const res = await this.#m.client.post(this.#address(peer), PEER_PATHS.handshake, init, {signal: this.#closing.signal});
    if (res.status !== 200) throw statusError(peer, res.status, res.body);
    return res.body;
  }

  #address(peer: string): NonNullable<ReturnType<MembershipView["addressOf"]>> {
    const address = this.#m.view.addressOf(peer);
    if (address === null) throw new ReplicationError({code: "REPLICATION_ERROR_UNKNOWN_PEER", peer}, `${peer} is not in the membership`);
    return address;
  }
}

/** A non-200 answer of a peer route: its body is `{"code": "<channel error code>", …}` when the route refused the bytes. */
function statusError(peer: string, status: number, body: Buffer): ReplicationError {
  let peerCode: string | null = null;
  try {
    const json = JSON.parse(body.toString("utf8")) as {code?: unknown};
    if (typeof json.code === "string") peerCode = json.code;
  } catch {
    // not JSON: keep the status only
  }
  return new ReplicationError({code: "REPLICATION_ERROR_PEER_STATUS", peer, status, peerCode}, `peer ${peer} answered HTTP ${status} (${peerCode ?? "no code"})`);
}
