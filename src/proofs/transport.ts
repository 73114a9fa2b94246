/**
 * How challenges and proofs reach peers. `httpTransport` posts them in the clear to the peer's
 * /proof/v1/* routes with undici (both are signed, so the channel needs no protection of its own);
 * the replication module's encrypted peer channel can implement the same interface later.
 */
import {request} from "undici";
import type {PublicKeys} from "./keys.js";
import {ProofError} from "./errors.js";

export interface PeerInfo {
  readonly nodeId: string;
  readonly keys: PublicKeys;
  /** Base URL of the peer's HTTP API, e.g. http://203.0.113.7:22025 */
  readonly url: string;
}

export interface ProofTransport {
  /** Posts a challenge body; resolves with the answer body (JSON text) or rejects. */
  sendChallenge(peer: PeerInfo, body: string, deadlineMs: number): Promise<string>;
  /** Posts our latest StorageProof (JSON text). */
  sendProof(peer: PeerInfo, body: string, deadlineMs: number): Promise<void>;
}

/** Answers are ~15 KB; anything far larger is refused unread. */
const MAX_ANSWER_BYTES = 256 * 1024;

async function post(url: string, body: string, deadlineMs: number): Promise<{status: number; text: string}> {
  const res = await request(url, {
    method: "POST",
    body,
    headers: {"content-type": "application/json"},
    headersTimeout: deadlineMs,
    bodyTimeout: deadlineMs,
    signal: AbortSignal.timeout(deadlineMs),
  });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_ANSWER_BYTES) {
      res.body.destroy();
      throw new ProofError({code: "PROOF_ERROR_TRANSPORT"}, `answer larger than ${MAX_ANSWER_BYTES} bytes`);
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  return {status: res.statusCode, text};
}

export const httpTransport: ProofTransport = {
  async sendChallenge(peer, body, deadlineMs) {
    const {status, text} = await post(`${peer.url}/proof/v1/challenge`, body, deadlineMs);
    if (status !== 200) throw new ProofError({code: "PROOF_ERROR_TRANSPORT"}, `HTTP ${status}: ${text.slice(0, 200)}`);
    return text;
  },
  async sendProof(peer, body, deadlineMs) {
    const {status, text} = await post(`${peer.url}/proof/v1/peer-proof`, body, deadlineMs);
    if (status !== 204 && status !== 200) throw new ProofError({code: "PROOF_ERROR_TRANSPORT"}, `HTTP ${status}: ${text.slice(0, 200)}`);
  },
};
