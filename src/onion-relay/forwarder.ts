/**
 * The relay's one way out: POST an onion blob to a member node, named by node ID, through the
 * peer client (src/peer/), which finds the address only in the membership (never an address from
 * the request: no SSRF) and shares its per-peer pools with replication. The result says which way
 * it failed so the relay can answer Session's statuses.
 */
import type {PeerCall, PeerResult} from "../peer/index.js";

export const ONION_PATH = "/onion_req/v2";

export interface ForwardOptions {
  timeoutMs: number;
  maxResponseBytes: number;
  headers: Record<string, string>;
}

export type ForwardResult =
  | {kind: "response"; status: number; body: Buffer; contentType: string | null}
  | {kind: "unknown_node"}
  | {kind: "timeout"}
  | {kind: "unreachable"; reason: string}
  | {kind: "too_large"};

export type Forward = (nodeId: string, blob: Uint8Array, opts: ForwardOptions) => Promise<ForwardResult>;

/** The part of the peer client a relay uses. */
export interface PeerRequester {
  request(nodeId: string, call: PeerCall): Promise<PeerResult>;
}

/**
 * Forwards through `peers`. One attempt only: a retry would carry a relay header the next hop
 * has already seen (refused as a replay), and the hop's own timeout bounds the wait.
 */
export function peerForward(peers: PeerRequester): Forward {
  return async (nodeId, blob, opts) => {
    const res = await peers.request(nodeId, {
      path: ONION_PATH,
      body: blob,
      headers: opts.headers,
      timeoutMs: opts.timeoutMs,
      maxResponseBytes: opts.maxResponseBytes,
      maxAttempts: 1,
    });
    if (res.ok) return {kind: "response", status: res.status, body: res.body, contentType: res.contentType ?? null};
    switch (res.error.code) {
      case "PEER_CLIENT_ERROR_UNKNOWN_PEER":
        return {kind: "unknown_node"};
      case "PEER_CLIENT_ERROR_TIMEOUT":
        return {kind: "timeout"};
      case "PEER_CLIENT_ERROR_RESPONSE_TOO_LARGE":
        return {kind: "too_large"};
      default:
        return {kind: "unreachable", reason: res.error.message};
    }
  };
}
