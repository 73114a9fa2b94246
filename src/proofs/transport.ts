/**
 * How challenges and proofs reach peers. `httpTransport` posts them in the clear to the peer's
 * /proof/v1/* routes with undici (both are signed, so the channel needs no protection of its own);
 * the replication module's encrypted peer channel can implement the same interface later.
 */
import {request, type Dispatcher} from "undici";
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
  const text = await readCappedText(res.body, MAX_ANSWER_BYTES);
  return {status: res.statusCode, text};
}

/**
 * A response body as UTF-8 text, refused (PROOF_ERROR_TRANSPORT, body destroyed) as soon as it
 * exceeds `maxBytes`: a peer cannot make us buffer more than we expect of a signed proof message.
 */
export async function readCappedText(body: Dispatcher.ResponseData["body"], maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      body.destroy();
      throw new ProofError({code: "PROOF_ERROR_TRANSPORT"}, `answer larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
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
