/**
 * Sealed request/reply between nodes: a plaintext (a peer message, replication/wire.ts) is sealed
 * on the channel to the peer, POSTed to `/peer/v1/frame` through the PeerClient, and the sealed
 * reply is opened. Handshakes go to `/peer/v1/handshake`. A 409 (the peer has no such channel: it
 * restarted or expired it) makes us drop our channels with it and try once more on a fresh
 * handshake. Any other non-200 answer is PEER_CLIENT_ERROR_STATUS: the peer is up and refused.
 */
import {setMaxListeners} from "node:events";
import type {NodeIdentity} from "../crypto/index.js";
import type {PqBackend} from "../crypto/index.js";
import type {Clock} from "../util/index.js";
import {ChannelManager, type ChannelManagerOptions, type ChannelError, type HandshakeSigner, type PeerLookup} from "./channel/index.js";
import {PEER_PATHS, STATUS_RESYNC} from "./envelope.js";
import type {PeerClient} from "./peer-client.js";
import {PeerClientError} from "./peer-retry.js";

export interface ChannelTransportModules {
  readonly pq: PqBackend;
  readonly identity: Pick<NodeIdentity, "nodeId" | "mlKem" | "mlDsa">;
  readonly signer?: HandshakeSigner;
  readonly client: Pick<PeerClient, "post">;
  /** Peers' keys, from the membership. */
  readonly keys: {keysOf: PeerLookup};
  readonly clock: Clock;
  readonly onReject?: (err: ChannelError) => void;
}

export interface ExchangeOptions {
  readonly signal?: AbortSignal;
}

export class ChannelTransport {
  readonly channels: ChannelManager;
  readonly #m: ChannelTransportModules;
  /** Aborted by close(): requests in flight end at once instead of running into their timeouts. */
  readonly #closing = new AbortController();

  constructor(channelOpts: Partial<ChannelManagerOptions>, modules: ChannelTransportModules) {
    this.#m = modules;
    // Every request in flight listens on this one signal (undici removes the listener when the
    // request ends); dozens at once are normal with 32 sockets per peer, not a listener leak.
    setMaxListeners(0, this.#closing.signal);
    this.channels = new ChannelManager(channelOpts, {
      pq: modules.pq,
      identity: modules.identity,
      ...(modules.signer === undefined ? {} : {signer: modules.signer}),
      lookupPeer: (nodeId) => modules.keys.keysOf(nodeId),
      sendHandshake: (peer, init) => this.#sendHandshake(peer, init),
      clock: modules.clock,
      ...(modules.onReject === undefined ? {} : {onReject: modules.onReject}),
    });
  }

  /** Seals `plaintext` to `peer` and returns the opened reply; throws ChannelError or PeerClientError. */
  async exchange(peer: string, plaintext: Uint8Array, opts: ExchangeOptions = {}): Promise<Uint8Array> {
    if (this.#m.keys.keysOf(peer) === null) {
      throw new PeerClientError({code: "PEER_CLIENT_ERROR_UNKNOWN_PEER", peer, attempts: 0, cause: null}, `${peer} is not in the membership`);
    }
    const signal = opts.signal === undefined ? this.#closing.signal : AbortSignal.any([opts.signal, this.#closing.signal]);
    for (let attempt = 1; ; attempt++) {
      const frame = await this.channels.seal(peer, plaintext);
      const res = await this.#m.client.post(peer, PEER_PATHS.frame, frame, {idempotent: true, signal});
      if (res.status === STATUS_RESYNC && attempt === 1) {
        this.channels.forgetStale(peer, frame);
        continue;
      }
      if (res.status !== 200) throw statusError(peer, res.status, res.attempts, res.body);
      const opened = this.channels.open(res.body);
      if (opened.peer !== peer) throw statusError(peer, 200, res.attempts, null, "wrong_peer");
      return opened.plaintext;
    }
  }

  /** Aborts requests in flight and closes every channel. */
  close(): void {
    this.#closing.abort();
    this.channels.close();
  }

  async #sendHandshake(peer: string, init: Uint8Array): Promise<Uint8Array> {
    const res = await this.#m.client.post(peer, PEER_PATHS.handshake, init, {signal: this.#closing.signal});
    if (res.status !== 200) throw statusError(peer, res.status, res.attempts, res.body);
    return res.body;
  }
}

/** A non-200 answer of a peer route: its body is `{"code": "<channel error code>", …}` when the route refused the bytes. */
function statusError(peer: string, status: number, attempts: number, body: Buffer | null, code: string | null = null): PeerClientError {
  let peerCode = code;
  try {
    const json = body === null ? null : (JSON.parse(body.toString("utf8")) as {code?: unknown});
    if (typeof json?.code === "string") peerCode = json.code;
  } catch {
    // not JSON: keep the status only
  }
  const type = {code: "PEER_CLIENT_ERROR_STATUS" as const, peer, attempts, cause: null, status, peerCode};
  return new PeerClientError(type, `peer ${peer} answered HTTP ${status} (${peerCode ?? "no code"})`);
}
