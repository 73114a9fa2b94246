/**
 * The receiving side of the peer protocol: handshakes, and one reply frame per request frame
 * (docs/PROTOCOL.md (Replication) §3). Channel failures (unknown channel, replay, tampering,
 * unknown or forged peers) throw ChannelError for the HTTP route to map; everything after the
 * frame authenticated is answered inside the channel, errors included.
 *
 * - `rpc`, `rpc_batch`: forwarded client requests, run with `recurse: false` (full re-validation,
 *   signatures included; only recursive methods are accepted); answered with our own entries.
 * - `push`: tombstones and messages (retries, relocation) for accounts our swarm serves; the
 *   reply lists the hashes we now hold or have buried, which is what the sender counts as delivered.
 * - `digest`, `hashes`, `fetch`: anti-entropy, for members of our swarm only.
 * - `push_revocations` (any registered node), `revocation_digest`, `revocations` (members of our
 *   swarm): subaccount revocation state (revocation-sync.ts).
 * - `proof_challenge`, `proof_push`: storage-proof challenges and proof pushes between members
 *   (docs/PROTOCOL.md (Storage proofs) §9.2), handed to `proofs` with the channel's peer; a refusal
 *   is an `error` reply whose code is the PROOF_ERROR_… code the HTTP route would have answered.
 */

import type {Origin} from "../protocol/index.js";
import type {Logger} from "../util/index.js";
import type {RpcResponse} from "../protocol/index.js";

import type {ReplicationTables, SqliteMessageStore} from "../storage/index.js";
import type {StoredMessage} from "../storage/index.js";
import type {Clock} from "../util/index.js";
import {authenticMessages} from "./batches.js";
import {INIT, type ChannelManager, type PeerEndpoint} from "../peer/index.js";
import {bucketRange, type DigestIndex} from "./digest-index.js";
import {PEER_ERROR, ReplicationError} from "./errors.js";
import {describeError} from "./logger.js";
import type {MembershipView} from "./membership-view.js";
import {SYNC_EXPIRY_MARGIN_MS, batchBytesOf, type ReplicationOptions} from "./options.js";
import type {RevocationIndex} from "./revocation-index.js";
import type {RevocationSync} from "./revocation-sync.js";
import {MAX_HASHES_ENTRIES, decodePeerRequest, encodePeerMessage, type BucketList, type PeerReply, type PeerRequest} from "./wire.js";

/** What the storage proofs serve over the channel (proofs/transport.ts sealedProofEndpoint); `peer` is the channel's authenticated peer. */
export interface SealedProofApi {
  answer(peer: string, request: Record<string, unknown>): Promise<Record<string, unknown>>;
  acceptPeerProof(peer: string, proof: Record<string, unknown>): void;
}

/** The RPC dispatcher (RpcHandler satisfies it). */
export interface RpcRunner {
  handle(method: string, params: Record<string, unknown>, origin: Origin): Promise<RpcResponse>;
}

export interface PeerHandlerModules {
  readonly channels: Pick<ChannelManager, "acceptHandshake" | "open" | "sealOn">;
  readonly rpc: RpcRunner;
  readonly store: Pick<SqliteMessageStore, "storeBulk" | "applyTombstones">;
  readonly tables: Pick<ReplicationTables, "bucketMessages" | "bucketTombstones" | "messagesByHash" | "settled">;
  readonly index: Pick<DigestIndex, "digest">;
  readonly revocationIndex: Pick<RevocationIndex, "digest">;
  readonly revocations: Pick<RevocationSync, "list" | "accept">;
  readonly view: MembershipView;
  readonly clock: Clock;
  readonly logger: Logger;
  /** An authenticated node contacted us (wakes its retries). */
  readonly onContact: (peer: string) => void;
  /** Null or absent: the node runs no storage proofs (proof messages get a `no_proofs` error). */
  readonly proofs?: SealedProofApi | null;
}

export class PeerRequestHandler implements PeerEndpoint {
  readonly #opts: ReplicationOptions;
  readonly #m: PeerHandlerModules;

  constructor(opts: ReplicationOptions, modules: PeerHandlerModules) {
    this.#opts = opts;
    this.#m = modules;
  }

  async acceptHandshake(init: Uint8Array): Promise<Uint8Array> {
    const resp = await this.#m.channels.acceptHandshake(init);
    this.#m.onContact(Buffer.from(init.subarray(INIT.INITIATOR_ID, INIT.RESPONDER_ID)).toString("hex"));
    return resp;
  }

  async handleFrame(frame: Uint8Array): Promise<Uint8Array> {
    const opened = this.#m.channels.open(frame);
    this.#m.onContact(opened.peer);
    let reply: PeerReply;
    try {
      reply = await this.#dispatch(opened.peer, decodePeerRequest(opened.plaintext));
    } catch (err) {
      reply = this.#errorReply(opened.peer, err);
    }
    return this.#m.channels.sealOn(opened.channelId, encodePeerMessage(reply));
  }

  async #dispatch(peer: string, req: PeerRequest): Promise<PeerReply> {
    switch (req.type) {
      case "rpc": {
        const res = await this.#m.rpc.handle(req.method, req.params, {recurse: false});
        return {type: "rpc_ok", status: res.status, body: res.body};
      }
      case "rpc_batch": {
        // Run together, the calls' stores share one group commit and one signature batch.
        const results = await Promise.all(req.requests.map((r) => this.#m.rpc.handle(r.method, r.params, {recurse: false})));
        const out = results.map((r) => ({status: r.status, body: r.body}));
        return {type: "rpc_batch_ok", results: out, ...(req.sharedSignatures === true ? {shareSignatures: true} : {})};
      }
      case "push":
        return this.#push(req);
      case "digest":
        this.#requireSwarm(peer, req.swarm);
        return {type: "digest_ok", digest: this.#m.index.digest()};
      case "hashes":
        this.#requireSwarm(peer, req.swarm);
        return {type: "hashes_ok", buckets: this.#lists(req.buckets)};
      case "fetch":
        this.#requireSwarm(peer, req.swarm);
        return this.#fetch(req.hashes);
      case "push_revocations":
        return {type: "push_revocations_ok", accounts: await this.#m.revocations.accept(req.records)};
      case "revocation_digest":
        this.#requireSwarm(peer, req.swarm);
        return {type: "revocation_digest_ok", digest: this.#m.revocationIndex.digest()};
      case "revocations":
        this.#requireSwarm(peer, req.swarm);
        return this.#m.revocations.list(req.buckets);
      case "proof_challenge":
      case "proof_push":
        return this.#proof(peer, req);
    }
  }

  async #proof(peer: string, req: Extract<PeerRequest, {type: "proof_challenge" | "proof_push"}>): Promise<PeerReply> {
    const proofs = this.#m.proofs ?? null;
    if (proofs === null) return {type: "error", code: PEER_ERROR.NO_PROOFS, message: "this node runs no storage proofs"};
    if (req.type === "proof_challenge") return {type: "proof_answer_ok", answer: await proofs.answer(peer, req.request)};
    proofs.acceptPeerProof(peer, req.proof);
    return {type: "proof_push_ok"};
  }

  async #push(req: Extract<PeerRequest, {type: "push"}>): Promise<PeerReply> {
    const {view, store, tables, clock} = this.#m;
    const served = view.servedBy(view.ourSwarm());
    const tombstones = req.tombstones.filter((t) => served(t.account));
    if (tombstones.length > 0) await store.applyTombstones(tombstones);
    const messages = authenticMessages(req.messages.filter((m) => served(m.account)));
    if (messages.length > 0) await store.storeBulk(messages, {mergeExpiry: true});
    const offered = [...tombstones.map((t) => t.hash), ...messages.map((m) => m.hash)];
    return {type: "push_ok", held: tables.settled(offered, clock.now())};
  }

  /** Our hash and tombstone lists of `buckets` for our swarm, as many whole buckets as fit. */
  #lists(buckets: number[]): BucketList[] {
    const {view, tables, clock} = this.#m;
    const now = clock.now();
    const served = view.servedBy(view.ourSwarm());
    const out: BucketList[] = [];
    let entries = 0;
    for (const bucket of buckets) {
      const {lo, hi} = bucketRange(bucket);
      const messages = tables.bucketMessages(lo, hi, now + SYNC_EXPIRY_MARGIN_MS).filter((m) => served(m.account)).map((m) => m.hash);
      const tombstones = tables.bucketTombstones(lo, hi, now).filter((t) => served(t.account));
      const size = messages.length + tombstones.length;
      if (out.length > 0 && entries + size > MAX_HASHES_ENTRIES) break;
      out.push({bucket, messages, tombstones});
      entries += size;
    }
    return out;
  }

  /** The asked messages we hold for our swarm, up to the batch limits; the rest in `more`. */
  #fetch(hashes: string[]): PeerReply {
    const {view, tables, clock} = this.#m;
    const served = view.servedBy(view.ourSwarm());
    const found = tables.messagesByHash(hashes, clock.now()).filter((m) => served(m.account));
    const messages: StoredMessage[] = [];
    let bytes = 0;
    for (const m of found) {
      const size = batchBytesOf(m.data.length);
      if (messages.length > 0 && (messages.length >= this.#opts.maxBatchMessages || bytes + size > this.#opts.maxBatchBytes)) break;
      messages.push(m);
      bytes += size;
    }
    return {type: "fetch_ok", messages, more: found.slice(messages.length).map((m) => m.hash)};
  }

  #requireSwarm(peer: string, swarm: string): void {
    const {view} = this.#m;
    if (view.ourSwarmWire() !== swarm || !view.isPeer(peer)) {
      const message = `${peer} is not a member of our swarm ${view.ourSwarmWire() ?? "(none)"}`;
      throw new ReplicationError({code: "REPLICATION_ERROR_NOT_IN_SWARM", peer, swarm}, message);
    }
  }

  #errorReply(peer: string, err: unknown): PeerReply {
    if (err instanceof ReplicationError && err.code === "REPLICATION_ERROR_NOT_IN_SWARM") {
      return {type: "error", code: PEER_ERROR.NOT_IN_SWARM, message: err.message};
    }
    if (err instanceof Error && "code" in err && typeof err.code === "string" && err.code.startsWith("PROOF_ERROR")) {
      return {type: "error", code: err.code, message: err.message};
    }
    if (err instanceof ReplicationError && err.code === "REPLICATION_ERROR_BAD_MESSAGE") {
      return {type: "error", code: PEER_ERROR.BAD_MESSAGE, message: err.message};
    }
    if (err instanceof Error && "code" in err && typeof err.code === "string" && err.code.startsWith("STORAGE_ERROR")) {
      return {type: "error", code: PEER_ERROR.STORAGE, message: err.code};
    }
    this.#m.logger.error({peer, err: describeError(err)}, "peer request failed");
    return {type: "error", code: PEER_ERROR.INTERNAL, message: "internal error"};
  }
}
