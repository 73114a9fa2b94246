/**
 * How challenges and proofs reach peers: `peerProofTransport` posts them in the clear to the
 * peer's /proof/v1/* routes through the node's one peer client (peer/), which finds the peer by
 * node ID in the membership; both are signed, so they need no channel protection of their own.
 */
import type {PeerClient, PeerResult} from "../peer/index.js";
import {ProofError} from "./errors.js";
import type {PublicKeys} from "./keys.js";

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

/** For a node without peers (membership source "none"): there is nobody to send to. */
export const noPeerTransport: ProofTransport = {
  sendChallenge: () => Promise.reject(new ProofError({code: "PROOF_ERROR_TRANSPORT"}, "this node has no peers")),
  sendProof: () => Promise.reject(new ProofError({code: "PROOF_ERROR_TRANSPORT"}, "this node has no peers")),
};
