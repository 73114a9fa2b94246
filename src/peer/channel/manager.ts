/**
 * Per-peer channel state for both roles (docs/PROTOCOL.md (Peer channel) §5). Transport-agnostic:
 * the initiator's handshake travels through the injected `sendHandshake`, the responder's through
 * whoever calls `acceptHandshake`; frames are byte strings in and out.
 *
 * Cost: a handshake is one ML-DSA-65 sign and one verify on each side (~15-20 ms of CPU with
 * noble) plus ~2 ms of ML-KEM, so channels are reused for many frames and rekeyed by age and volume.
 * Needs `initHashing()` to have resolved (membership keys are re-hashed to node IDs); StorageNode.init does.
 */
import {randomBytes as nodeRandomBytes} from "node:crypto";
import {CTX} from "../../crypto/index.js";
import type {NodeIdentity} from "../../crypto/index.js";
import type {PqBackend} from "../../crypto/index.js";
import {InvalidArgumentError} from "../../util/index.js";
import type {Clock} from "../../util/index.js";
import {type AdmissionContext, admitInit} from "./admission.js";
import {Channel, type ChannelInfo} from "./channel.js";
import {AEAD_TAG_BYTES, NONCE_BYTES} from "./constants.js";
import {ChannelError} from "./errors.js";
import {finishInitiator, initMessage, respond, startInitiator} from "./handshake.js";
import {wipe} from "./key-schedule.js";
import {encodeResp, parseFrame, parseResp} from "./messages.js";
import {NonceCache} from "./nonce-cache.js";
import {type ChannelManagerOptions, resolveChannelOptions} from "./options.js";
import {NODE_ID_PATTERN, type PeerLookup, nodeIdBytes, resolvePeer} from "./peers.js";
import {type ChannelStats, copyChannelStats, emptyChannelStats} from "./stats.js";
import {type HandshakeSigner, inlineHandshakeSigner} from "./signer.js";
import {ChannelTable} from "./table.js";

/** Expired channels, nonces and rate-limit entries are swept at most this often. */
const SWEEP_INTERVAL_MS = 10_000;
/** After a failed background rekey, the next one for that peer waits this long. */
export const REKEY_RETRY_MS = 5_000;

export interface ChannelManagerModules {
  readonly pq: PqBackend;
  /** This node: its ID and ML-KEM secret key (the ML-DSA key is used through `signer`). */
  readonly identity: Pick<NodeIdentity, "nodeId" | "mlKem" | "mlDsa">;
  /** Default: signs inline with `pq` and `identity.mlDsa.secretKey`. */
  readonly signer?: HandshakeSigner;
  readonly lookupPeer: PeerLookup;
  /** Delivers an Init to `peer` and resolves with its Resp bytes (e.g. an HTTP POST). */
  readonly sendHandshake: (peer: string, init: Uint8Array) => Promise<Uint8Array>;
  readonly clock: Clock;
  /** Default node:crypto randomBytes. */
  readonly randomBytes?: (length: number) => Uint8Array;
  /** Called with every refusal and failure (metrics, peer scoring by `err.action`). */
  readonly onReject?: (err: ChannelError) => void;
}

export interface OpenedFrame {
  readonly peer: string;
  readonly channelId: string;
  readonly sequence: number;
  readonly plaintext: Uint8Array;
}

export class ChannelManager {
  readonly #opts: ChannelManagerOptions;
  readonly #m: ChannelManagerModules;
  readonly #signer: HandshakeSigner;
  readonly #random: (length: number) => Uint8Array;
  readonly #table: ChannelTable;
  readonly #admission: AdmissionContext;
  readonly #opening = new Map<string, Promise<Channel>>();
  /** Peer → when its last background rekey failed. */
  readonly #rekeyFailedAt = new Map<string, number>();
  readonly #stats = emptyChannelStats();
  #nextSweepMs = 0;
  #closed = false;

  constructor(opts: Partial<ChannelManagerOptions>, modules: ChannelManagerModules) {
    this.#opts = resolveChannelOptions(opts);
    this.#m = modules;
    this.#signer = modules.signer ?? inlineHandshakeSigner(modules.pq, modules.identity.mlDsa.secretKey);
    this.#random = modules.randomBytes ?? ((n) => new Uint8Array(nodeRandomBytes(n)));
    this.#table = new ChannelTable(this.#opts);
    this.#admission = {
      ownNodeId: modules.identity.nodeId,
      pq: modules.pq,
      lookupPeer: modules.lookupPeer,
      nonces: new NonceCache(this.#opts.maxSeenNonces),
      lastAccepted: new Map(),
      opts: this.#opts,
    };
  }

  /** A usable channel to `peer`, opening one (one shared handshake per peer) if needed. */
  async getOrOpen(peer: string): Promise<ChannelInfo> {
    return (await this.#sendChannel(peer)).info;
  }

  /** Seals `plaintext` for `peer` on its current channel (opening or rekeying as needed). */
  async seal(peer: string, plaintext: Uint8Array): Promise<Uint8Array> {
    this.#checkPlaintext(plaintext);
    const frame = (await this.#sendChannel(peer)).seal(plaintext);
    this.#stats.framesSealed++;
    return frame;
  }

  /** Seals on a given channel, e.g. the reply to a frame `open` returned; never handshakes. */
  sealOn(channelId: string, plaintext: Uint8Array): Uint8Array {
    this.#checkPlaintext(plaintext);
    return this.#guard(() => {
      this.#assertOpen();
      const channel = this.#live(channelId, this.#m.clock.now());
      const frame = channel.seal(plaintext);
      this.#stats.framesSealed++;
      return frame;
    });
  }

  /** Authenticates and decrypts a frame; throws ChannelError (counted) for anything else. */
  open(frame: Uint8Array): OpenedFrame {
    return this.#guard(() => {
      this.#assertOpen();
      const nowMs = this.#m.clock.now();
      this.#maybeSweep(nowMs);
      const parsed = parseFrame(frame, this.#opts.maxFrameBytes + AEAD_TAG_BYTES);
      const channel = this.#live(Buffer.from(parsed.channelId).toString("hex"), nowMs);
      const {plaintext, sequence} = channel.open(parsed);
      this.#stats.framesOpened++;
      return {peer: channel.peer, channelId: channel.channelId, sequence, plaintext};
    });
  }

  /** Responder side: checks an Init and returns the Resp bytes; throws ChannelError (counted). */
  async acceptHandshake(init: Uint8Array): Promise<Uint8Array> {
    try {
      this.#assertOpen();
      const nowMs = this.#m.clock.now();
      this.#maybeSweep(nowMs);
      const admitted = admitInit(init, this.#admission, nowMs);
      const {pq, identity} = this.#m;
      const result = respond({pq, init: admitted.init, kemSecretKey: identity.mlKem.secretKey, nonce: this.#nonce()});
      const signature = await this.#signer.sign(result.toSign, CTX.CHANNEL_HANDSHAKE);
      this.#assertOpen();
      const channel = new Channel(admitted.peer, "responder", result.keys, this.#m.clock.now());
      this.#table.add(channel, channel.createdAtMs);
      this.#stats.handshakesAccepted++;
      return encodeResp(result.prefix, result.confirm, signature);
    } catch (err) {
      throw this.#count(err);
    }
  }

  /** Drops every channel with `peer` (it left the membership, or told us it lost our channel). */
  forgetPeer(peer: string): void {
    this.#table.forgetPeer(peer);
    this.#admission.lastAccepted.delete(peer);
    this.#rekeyFailedAt.delete(peer);
  }

  /**
   * `peer` answered `frame` (sealed by us) with a resync: it lost the channel the frame was sealed
   * on, e.g. it restarted. Drops that channel and the older ones with the peer, which it lost too,
   * but not a newer one: another request's retry may have opened it meanwhile and be waiting for
   * its reply on it (forgetPeer would leave that reply undecryptable).
   */
  forgetStale(peer: string, frame: Uint8Array): void {
    const {channelId} = parseFrame(frame, this.#opts.maxFrameBytes + AEAD_TAG_BYTES);
    if (this.#table.forgetUpTo(Buffer.from(channelId).toString("hex")) === 0) return;
    this.#admission.lastAccepted.delete(peer);
    this.#rekeyFailedAt.delete(peer);
  }

  /** Live channels with `peer`, oldest first. */
  channelsOf(peer: string): ChannelInfo[] {
    return this.#table.channelsOf(peer).map((c) => c.info);
  }

  stats(): ChannelStats {
    return copyChannelStats({...this.#stats, channels: this.#table.size});
  }

  close(): void {
    this.#closed = true;
    this.#table.clear();
  }

  async #sendChannel(peer: string): Promise<Channel> {
    if (!NODE_ID_PATTERN.test(peer)) throw new InvalidArgumentError(`peer must be a 64-hex node ID, got ${peer}`);
    this.#guard(() => this.#assertOpen());
    const nowMs = this.#m.clock.now();
    this.#maybeSweep(nowMs);
    const current = this.#table.sender(peer, nowMs);
    if (current === null) return this.#openShared(peer);
    if (current.state === "due") this.#rekeyInBackground(peer, nowMs);
    return current.channel;
  }

  /** Starts a new handshake without waiting for it; the current channel stays in use meanwhile. */
  #rekeyInBackground(peer: string, nowMs: number): void {
    const failedAt = this.#rekeyFailedAt.get(peer);
    if (this.#opening.has(peer) || (failedAt !== undefined && nowMs - failedAt < REKEY_RETRY_MS)) return;
    this.#stats.rekeys++;
    this.#openShared(peer).then(
      () => this.#rekeyFailedAt.delete(peer),
      () => this.#rekeyFailedAt.set(peer, this.#m.clock.now()), // the error was counted in #handshake
    );
  }

  #openShared(peer: string): Promise<Channel> {
    let pending = this.#opening.get(peer);
    if (pending === undefined) {
      pending = this.#handshake(peer).finally(() => this.#opening.delete(peer));
      this.#opening.set(peer, pending);
    }
    return pending;
  }

  async #handshake(peer: string): Promise<Channel> {
    this.#stats.handshakesInitiated++;
    try {
      const keys = resolvePeer(this.#m.lookupPeer, peer);
      const state = this.#startInit(peer, keys.mlKemPublicKey);
      try {
        const init = initMessage(state, await this.#signer.sign(state.toSign, CTX.CHANNEL_HANDSHAKE));
        const resp = parseResp(await this.#send(peer, init));
        this.#assertOpen();
        const {pq} = this.#m;
        const done = finishInitiator({pq, state, init, resp, responderDsaPublicKey: keys.mlDsaPublicKey, peer});
        const channel = new Channel(peer, "initiator", done.keys, this.#m.clock.now());
        this.#table.add(channel, channel.createdAtMs);
        this.#stats.handshakesCompleted++;
        return channel;
      } finally {
        wipe(state.ephemeralSecretKey, state.staticSecret); // also when the handshake failed
      }
    } catch (err) {
      throw this.#count(err);
    }
  }

  #startInit(peer: string, responderKemPublicKey: Uint8Array): ReturnType<typeof startInitiator> {
    try {
      return startInitiator({
        pq: this.#m.pq,
        initiatorId: nodeIdBytes(this.#m.identity.nodeId),
        responderId: nodeIdBytes(peer),
        responderKemPublicKey,
        timestampMs: this.#m.clock.now(),
        nonce: this.#nonce(),
      });
    } catch (err) {
      const detail = "registered ML-KEM-768 key fails the FIPS 203 input check";
      throw new ChannelError({code: "CHANNEL_ERROR_UNKNOWN_PEER", peer, detail}, `peer ${peer}: ${detail}`, err);
    }
  }

  async #send(peer: string, init: Uint8Array): Promise<Uint8Array> {
    try {
      return await this.#m.sendHandshake(peer, init);
    } catch (err) {
      if (err instanceof ChannelError) throw err;
      const reason = err instanceof Error ? err.message : String(err);
      throw new ChannelError({code: "CHANNEL_ERROR_TRANSPORT", peer}, `handshake with ${peer}: ${reason}`, err);
    }
  }

  #live(channelId: string, nowMs: number): Channel {
    const channel = this.#table.get(channelId, nowMs);
    if (channel === null) {
      throw new ChannelError({code: "CHANNEL_ERROR_UNKNOWN_CHANNEL", channelId}, `no live channel ${channelId}`);
    }
    return channel;
  }

  #checkPlaintext(plaintext: Uint8Array): void {
    if (!(plaintext instanceof Uint8Array) || plaintext.length > this.#opts.maxFrameBytes) {
      throw new InvalidArgumentError(`plaintext must be a Uint8Array of at most ${this.#opts.maxFrameBytes} bytes`);
    }
  }

  #nonce(): Uint8Array {
    return this.#random(NONCE_BYTES);
  }

  #assertOpen(): void {
    if (this.#closed) throw new ChannelError({code: "CHANNEL_ERROR_CLOSED"}, "channel manager closed");
  }

  #guard<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw this.#count(err);
    }
  }

  /** Counts a ChannelError and reports it; other errors pass through untouched. */
  #count(err: unknown): unknown {
    if (err instanceof ChannelError) {
      this.#stats.rejected[err.code]++;
      this.#m.onReject?.(err);
    }
    return err;
  }

  #maybeSweep(nowMs: number): void {
    if (nowMs < this.#nextSweepMs) return;
    this.#nextSweepMs = nowMs + SWEEP_INTERVAL_MS;
    this.#table.sweep(nowMs);
    this.#admission.nonces.sweep(nowMs);
    for (const [peer, last] of this.#admission.lastAccepted) {
      if (nowMs - last >= this.#opts.minHandshakeIntervalMs) this.#admission.lastAccepted.delete(peer);
    }
  }
}
