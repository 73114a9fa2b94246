/**
 * Onion counters for GET /health (`onion`). Every request that reaches the handler counts once in
 * `entered` and then once in exactly one of `relayed`, `final` or `failed[reason]`; `fromClients`
 * is the part of `entered` that came straight from a client (this node was the entry hop).
 */
export type OnionFailure =
  | "parse_error"
  | "invalid_ciphertext"
  | "invalid_layer"
  | "internal"
  | "max_hops"
  | "unknown_next_hop"
  | "timeout"
  | "unreachable"
  | "response_too_large"
  | "busy"
  | "rate_limited"
  | "not_ready"
  | "refused"
  | "relay_auth";

export interface OnionCountersSnapshot {
  entered: number;
  fromClients: number;
  relayed: number;
  final: number;
  inFlightRelays: number;
  failed: Partial<Record<OnionFailure, number>>;
}

export class OnionCounters {
  entered = 0;
  fromClients = 0;
  relayed = 0;
  final = 0;
  inFlightRelays = 0;
  readonly #failed = new Map<OnionFailure, number>();

  fail(reason: OnionFailure): void {
    this.#failed.set(reason, (this.#failed.get(reason) ?? 0) + 1);
  }

  snapshot(): OnionCountersSnapshot {
    const {entered, fromClients, relayed, final, inFlightRelays} = this;
    return {entered, fromClients, relayed, final, inFlightRelays, failed: Object.fromEntries(this.#failed)};
  }
}
