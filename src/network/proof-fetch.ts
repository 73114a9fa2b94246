/**
 * Fetches a node's newest StorageProof (`GET /proof/v1/latest`) in the clear through the node's
 * one peer client (peer/): the node is named by its ID and found in the membership, the request
 * has one deadline and a size cap. The proof is signed, so it needs no channel protection of its
 * own; the caller verifies it.
 */
import type {PeerClient} from "../peer/index.js";
import {ProofError} from "../proofs/index.js";

/** Fetches and parses the JSON proof of node `nodeId`; rejects with PROOF_ERROR_TRANSPORT. */
export type LatestProofFetcher = (nodeId: string, deadlineMs: number, signal: AbortSignal) => Promise<unknown>;

/** A proof is ~4.6 KB of JSON (the 3,309-byte signature in base64); anything far larger is refused unread. */
const MAX_PROOF_BYTES = 16 * 1024;

export function latestProofFetcher(peers: Pick<PeerClient, "request">): LatestProofFetcher {
  return async (nodeId, deadlineMs, signal) => {
    const res = await peers.request(nodeId, {
      method: "GET",
      path: "/proof/v1/latest",
      accept: "application/json",
      timeoutMs: deadlineMs,
      maxResponseBytes: MAX_PROOF_BYTES,
      // The poller asks again next round; a retry's wait (a 503's Retry-After) would only eat the deadline.
      maxAttempts: 1,
      signal,
    });
    if (!res.ok) throw Object.assign(transport(res.error.message), {cause: res.error});
    if (res.status !== 200) throw transport(`HTTP ${res.status}`);
    try {
      return JSON.parse(res.body.toString("utf8")) as unknown;
    } catch {
      throw transport("answer is not JSON");
    }
  };
}

function transport(message: string): ProofError {
  return new ProofError({code: "PROOF_ERROR_TRANSPORT"}, message);
}
