/** A transport-independent RPC answer: JSON body (object) or a plain-text error. */
export interface RpcResponse {
  status: number;
  body: Record<string, unknown> | string;
}

/** A peer's entry in a recursive response (its own signed entry, or a failure entry). */
export type PeerEntry = Record<string, unknown>;

/** How a request reached us: straight from a client (fan out) or forwarded by a swarm peer. */
export interface Origin {
  recurse: boolean;
}
