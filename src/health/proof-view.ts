/**
 * The newest valid StorageProof of every membership node, as this node knows it: fetched from the
 * nodes (`GET /proof/v1/latest`), pushed by swarm peers, or our own. A fetched proof must be the
 * node's own (a node could otherwise serve a live node's proof to look alive) and is verified
 * against the ML-DSA key the membership holds for it; proofs dated beyond the clock-skew allowance
 * are refused. Only a proof that would replace the one held is verified, so polling a node whose
 * proof has not changed costs no signature check (~3 ms each with noble).
 */
import type {PqBackend} from "../crypto/index.js";
import type {PublicKeys} from "../proofs/index.js";
import {proofFromJson, verifyProofSignature, type StorageProof} from "../proofs/index.js";
import type {Clock} from "../util/index.js";

export type OfferResult =
  | {readonly kind: "accepted"}
  /** Not newer than the proof held for that node: ignored, nothing verified. */
  | {readonly kind: "kept"}
  | {readonly kind: "rejected"; readonly reason: string};

export interface ProofViewOptions {
  /** Proofs dated more than this after our clock are refused. */
  readonly maxClockSkewMs: number;
}

export interface ProofViewModules {
  /** The membership's keys of a node, or null when it is not a member. */
  readonly memberKeys: (nodeId: string) => PublicKeys | null;
  readonly pq: PqBackend;
  readonly clock: Clock;
}

const KEPT: OfferResult = Object.freeze({kind: "kept"});
const ACCEPTED: OfferResult = Object.freeze({kind: "accepted"});

export class NetworkProofView {
  readonly #opts: ProofViewOptions;
  readonly #m: ProofViewModules;
  readonly #proofs = new Map<string, StorageProof>();
  #version = 0;

  constructor(opts: ProofViewOptions, modules: ProofViewModules) {
    this.#opts = opts;
    this.#m = modules;
  }

  /** Increases whenever a proof is added or removed: callers cache what they derive by it. */
  get version(): number {
    return this.#version;
  }

  get size(): number {
    return this.#proofs.size;
  }

  get(nodeId: string): StorageProof | null {
    return this.#proofs.get(nodeId) ?? null;
  }

  /** A proof body fetched from `nodeId`: decoded, checked to be that node's, verified if newer. Never throws. */
  offerJson(nodeId: string, body: unknown): OfferResult {
    let proof: StorageProof;
    try {
      proof = proofFromJson(body);
    } catch (err) {
      return rejected(err instanceof Error ? err.message : String(err));
    }
    if (proof.nodeId !== nodeId) return rejected(`served the proof of another node (${proof.nodeId})`);
    const early = this.#precheck(proof);
    if (early !== null) return early;
    const keys = this.#m.memberKeys(nodeId);
    if (keys === null) return rejected("not in the membership");
    if (!verifyProofSignature(proof, keys.mlDsa, this.#m.pq)) return rejected("signature does not verify with the membership's key");
    return this.#set(proof);
  }

  /** A proof whose signature was already checked against the membership (our own, or a pushed peer proof). */
  noteVerified(proof: StorageProof): OfferResult {
    if (this.#m.memberKeys(proof.nodeId) === null) return rejected("not in the membership");
    return this.#precheck(proof) ?? this.#set(proof);
  }

  /** Drops the proofs of nodes that left the membership. */
  retain(nodeIds: ReadonlySet<string>): void {
    for (const id of [...this.#proofs.keys()]) {
      if (!nodeIds.has(id)) {
        this.#proofs.delete(id);
        this.#version++;
      }
    }
  }

  /** Refuses proofs from the future; keeps the held proof unless this one is strictly newer. */
  #precheck(proof: StorageProof): OfferResult | null {
    const now = this.#m.clock.now();
    if (proof.timestamp > now + this.#opts.maxClockSkewMs) {
      return rejected(`timestamp ${proof.timestamp} is more than ${this.#opts.maxClockSkewMs} ms ahead of ours (${now})`);
    }
    const held = this.#proofs.get(proof.nodeId);
    return held !== undefined && proof.timestamp <= held.timestamp ? KEPT : null;
  }

  #set(proof: StorageProof): OfferResult {
    this.#proofs.set(proof.nodeId, proof);
    this.#version++;
    return ACCEPTED;
  }
}

function rejected(reason: string): OfferResult {
  return {kind: "rejected", reason};
}
