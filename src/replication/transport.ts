/**
 * Peer messages (wire.ts) over the sealed channel of peer/: a request is encoded, exchanged with
 * the peer through the ChannelTransport and its reply decoded.
 */
import type {ChannelManager, ChannelTransport, ExchangeOptions} from "../peer/index.js";
import {decodePeerReply, encodePeerMessage, type PeerReply, type PeerRequest} from "./wire.js";

export class PeerTransport {
  readonly #link: ChannelTransport;

  constructor(link: ChannelTransport) {
    this.#link = link;
  }

  get channels(): ChannelManager {
    return this.#link.channels;
  }

  /** Sends one request and returns the peer's reply; throws ChannelError, PeerClientError or ReplicationError. */
  request(peer: string, req: PeerRequest, opts: ExchangeOptions = {}): Promise<PeerReply> {
    return this.requestRaw(peer, encodePeerMessage(req), opts);
  }

  /** Like `request`, with the request already encoded (see wire.ts encodeRpcBatch). */
  async requestRaw(peer: string, plaintext: Uint8Array, opts: ExchangeOptions = {}): Promise<PeerReply> {
    return decodePeerReply(await this.#link.exchange(peer, plaintext, opts));
  }

  /** Aborts requests in flight and closes every channel. */
  close(): void {
    this.#link.close();
  }
}
