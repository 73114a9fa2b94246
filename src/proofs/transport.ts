/**
 * How challenges and proofs reach peers (docs/PROTOCOL.md (Storage proofs) §9.2). Between members,
 * `channelProofTransport` sends them as peer messages (`proof_challenge`, `proof_push`) sealed in
 * the ML-KEM-768 peer channel that replication uses, authenticated both ways by it; a peer whose
 * version does not know these messages gets the signed JSON over its HTTP routes instead
 * (`peerProofTransport`: /proof/v1/*, through the node's one peer client, in the clear unless the
 * peer has a TLS pin), which is also what auditors outside the membership use.
 * `sealedProofEndpoint` is the receiving side: the same checks as the HTTP routes, plus the
 * channel's peer must be the challenge's challenger or the pushed proof's node.
 */
import type {PeerClient, PeerResult} from "../peer/index.js";
import {answerToJson, type ChallengeAnswer} from "./answer.js";
import {ProofError} from "./errors.js";
import type {PublicKeys} from "./keys.js";
import type {StorageProof} from "./storage-proof.js";

export interface PeerInfo {
  readonly nodeId: string;
  readonly keys: PublicKeys;
}

export interface ProofTransport {
  /** Posts a challenge body; resolves with the answer body (JSON text) or rejects. */
  sendChallenge(peer: PeerInfo, body: string, deadlineMs: number): Promise<string>;
  /** Posts our latest StorageProof (JSON text). */
  sendProof(peer: PeerInfo, body: string, deadlineMs: number): Promise<void>;
}

/** Answers are ~15 KB; anything far larger is refused unread. */
const MAX_ANSWER_BYTES = 256 * 1024;

/** Challenges and proofs through `peers.request`; failures reject with PROOF_ERROR_TRANSPORT. */
export function peerProofTransport(peers: Pick<PeerClient, "request">): ProofTransport {
  const post = async (peer: PeerInfo, path: string, body: string, deadlineMs: number, ok: (status: number) => boolean): Promise<string> => {
    const res = await peers.request(peer.nodeId, {
      path,
      body: Buffer.from(body, "utf8"),
      contentType: "application/json",
      timeoutMs: deadlineMs,
      maxResponseBytes: MAX_ANSWER_BYTES,
      // One attempt: a challenge's answer time is judged, and a retry's wait would eat the deadline.
      maxAttempts: 1,
    });
    const text = answerText(res);
    if (res.ok && !ok(res.status)) throw new ProofError({code: "PROOF_ERROR_TRANSPORT"}, `HTTP ${res.status}: ${text.slice(0, 200)}`);
    return text;
  };
  return {
    sendChallenge: (peer, body, deadlineMs) => post(peer, "/proof/v1/challenge", body, deadlineMs, (s) => s === 200),
    async sendProof(peer, body, deadlineMs) {
      await post(peer, "/proof/v1/peer-proof", body, deadlineMs, (s) => s === 200 || s === 204);
    },
  };
}

/** The response body as text; a request that got no response rejects with what failed (its PeerClientError as cause). */
function answerText(res: PeerResult): string {
  if (!res.ok) throw Object.assign(new ProofError({code: "PROOF_ERROR_TRANSPORT"}, res.error.message), {cause: res.error});
  return res.body.toString("utf8");
}

/** The storage-proof peer messages (replication/wire.ts) this transport sends. */
export type SealedProofRequest = {type: "proof_challenge"; request: Record<string, unknown>} | {type: "proof_push"; proof: Record<string, unknown>};

/** Replication's PeerTransport, as far as proofs use it: one sealed request, its opened and decoded reply. */
export interface SealedPeerRequests {
  request(peer: string, req: SealedProofRequest, opts?: {signal?: AbortSignal}): Promise<{type: string}>;
}

/** How long a peer that did not know the proof messages is spoken to over HTTP before the channel is tried again. */
export const HTTP_FALLBACK_MS = 10 * 60_000;

/**
 * Challenges and proofs sealed in the peer channel; a peer that answers that it does not know the
 * message type (an older version) is served by `fallback` (the HTTP routes) for HTTP_FALLBACK_MS.
 * Failures reject with PROOF_ERROR_TRANSPORT (the channel's or the peer's error as cause or message).
 */
export function channelProofTransport(channel: SealedPeerRequests, fallback: ProofTransport, now: () => number): ProofTransport {
  const httpUntil = new Map<string, number>();
  const viaHttp = (peer: string): boolean => {
    const until = httpUntil.get(peer);
    if (until === undefined) return false;
    if (until > now()) return true;
    httpUntil.delete(peer);
    return false;
  };
  /** The reply, or null when the peer does not know the message (it is remembered as HTTP-only). */
  const exchange = async (peer: PeerInfo, req: SealedProofRequest, deadlineMs: number): Promise<{type: string} | null> => {
    let reply: {type: string; code?: unknown; message?: unknown};
    try {
      reply = await channel.request(peer.nodeId, req, {signal: AbortSignal.timeout(deadlineMs)});
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw Object.assign(new ProofError({code: "PROOF_ERROR_TRANSPORT"}, `peer channel: ${message}`), {cause: err});
    }
    if (reply.type !== "error") return reply;
    const message = typeof reply.message === "string" ? reply.message : "";
    if (reply.code === "bad_message" && message.includes(`unknown request type ${req.type}`)) {
      httpUntil.set(peer.nodeId, now() + HTTP_FALLBACK_MS);
      return null;
    }
    throw new ProofError({code: "PROOF_ERROR_TRANSPORT"}, `peer refused: ${String(reply.code)}: ${message.slice(0, 200)}`);
  };
  const unexpected = (reply: {type: string}): ProofError => new ProofError({code: "PROOF_ERROR_TRANSPORT"}, `unexpected reply ${reply.type}`);
  return {
    async sendChallenge(peer, body, deadlineMs) {
      if (viaHttp(peer.nodeId)) return fallback.sendChallenge(peer, body, deadlineMs);
      const started = now();
      const reply = await exchange(peer, {type: "proof_challenge", request: JSON.parse(body) as Record<string, unknown>}, deadlineMs);
      if (reply === null) return fallback.sendChallenge(peer, body, Math.max(1, deadlineMs - (now() - started)));
      if (reply.type !== "proof_answer_ok") throw unexpected(reply);
      return JSON.stringify((reply as {type: string; answer: unknown}).answer);
    },
    async sendProof(peer, body, deadlineMs) {
      if (viaHttp(peer.nodeId)) return fallback.sendProof(peer, body, deadlineMs);
      const reply = await exchange(peer, {type: "proof_push", proof: JSON.parse(body) as Record<string, unknown>}, deadlineMs);
      if (reply === null) return fallback.sendProof(peer, body, deadlineMs);
      if (reply.type !== "proof_push_ok") throw unexpected(reply);
    },
  };
}

/** What the receiving side uses of the ProofService (the HTTP routes' ProofApi). */
export interface ProofAnswerer {
  answer(body: unknown): Promise<ChallengeAnswer>;
  acceptPeerProof(body: unknown): StorageProof;
}

/**
 * The channel side of the proof routes: the same checks as POST /proof/v1/challenge and
 * /proof/v1/peer-proof (the ProofService's), and the channel's authenticated peer must be the one
 * the signed object names (a member cannot relay another's challenge or push another's proof).
 * `allow(peer)` is the HTTP routes' per-IP challenge limit, kept per node ID (false:
 * PROOF_ERROR_RATE_LIMITED); it meters pushes too, which over HTTP share the RPC's per-IP limit.
 * Throws ProofError; replication's peer handler answers it as an `error` reply with its code.
 */
export function sealedProofEndpoint(proofs: ProofAnswerer, allow: (peer: string) => boolean = () => true): {
  answer(peer: string, request: Record<string, unknown>): Promise<Record<string, unknown>>;
  acceptPeerProof(peer: string, proof: Record<string, unknown>): void;
} {
  const limit = (peer: string): void => {
    if (!allow(peer)) throw new ProofError({code: "PROOF_ERROR_RATE_LIMITED"}, "too many requests");
  };
  const named = (v: unknown, field: string): unknown => (typeof v === "object" && v !== null ? (v as Record<string, unknown>)[field] : undefined);
  return {
    async answer(peer, request) {
      limit(peer);
      const challenger = named(request.challenge, "challengerId");
      if (typeof challenger === "string" && challenger !== peer) {
        throw new ProofError({code: "PROOF_ERROR_BAD_SIGNATURE"}, `the challenge names challenger ${challenger}, the channel's peer is ${peer}`);
      }
      return answerToJson(await proofs.answer(request)) as unknown as Record<string, unknown>;
    },
    acceptPeerProof(peer, proof) {
      limit(peer);
      if (typeof proof.nodeId === "string" && proof.nodeId !== peer) {
        throw new ProofError({code: "PROOF_ERROR_NOT_SWARM_PEER"}, `the proof is node ${proof.nodeId}'s, the channel's peer is ${peer}`);
      }
      proofs.acceptPeerProof(proof);
    },
  };
}

/** For a node without peers (membership source "none"): there is nobody to send to. */
export const noPeerTransport: ProofTransport = {
  sendChallenge: () => Promise.reject(new ProofError({code: "PROOF_ERROR_TRANSPORT"}, "this node has no peers")),
  sendProof: () => Promise.reject(new ProofError({code: "PROOF_ERROR_TRANSPORT"}, "this node has no peers")),
};
