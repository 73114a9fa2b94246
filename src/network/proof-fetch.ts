/**
 * Fetches a node's newest StorageProof (`GET /proof/v1/latest`) in the clear, as the proof
 * transport (src/proofs/transport.ts) posts proofs and challenges: undici `request` with headers,
 * body and overall deadlines, and that module's size-capped body reader. The proof is signed, so
 * the channel needs no protection of its own; the caller verifies it.
 */
import {request} from "undici";
import {ProofError} from "../proofs/index.js";
import {readCappedText} from "../proofs/index.js";

/** Fetches and parses the JSON proof at `url`; rejects with PROOF_ERROR_TRANSPORT (or an abort). */
export type LatestProofFetcher = (baseUrl: string, deadlineMs: number, signal: AbortSignal) => Promise<unknown>;

/** A proof is ~4.6 KB of JSON (the 3,309-byte signature in base64); anything far larger is refused unread. */
const MAX_PROOF_BYTES = 16 * 1024;

export const fetchLatestProof: LatestProofFetcher = async (baseUrl, deadlineMs, signal) => {
  const res = await request(`${baseUrl}/proof/v1/latest`, {
    method: "GET",
    headers: {accept: "application/json"},
    headersTimeout: deadlineMs,
    bodyTimeout: deadlineMs,
    signal: AbortSignal.any([signal, AbortSignal.timeout(deadlineMs)]),
  });
  // Errors surface through the reads below; destroying an unread body must not emit an unhandled "error".
  res.body.on("error", () => undefined);
  if (res.statusCode !== 200) {
    res.body.destroy();
    throw transport(`HTTP ${res.statusCode}`);
  }
  const text = await readCappedText(res.body, MAX_PROOF_BYTES);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw transport("answer is not JSON");
  }
};

function transport(message: string): ProofError {
  return new ProofError({code: "PROOF_ERROR_TRANSPORT"}, message);
}
