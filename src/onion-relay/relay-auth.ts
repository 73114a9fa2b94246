/**
 * Relay authentication: how the next hop tells a member node relaying an onion request (not
 * charged to any client's token bucket) from a client (charged at the entry hop). The relaying
 * node signs a short header with its ML-DSA-65 identity key; the next hop finds the signer in the
 * membership and verifies (docs/PROTOCOL.md "Onion requests", relay authentication).
 *
 * Signed message (104 bytes), context CTX.ONION_RELAY:
 *   to node ID (32) ‖ from node ID (32) ‖ time ms (u64 BE) ‖ SHA-256(blob) (32)
 * Headers: `x-pars-relay-from` (64 hex), `x-pars-relay-time` (decimal ms), `x-pars-relay-sig`
 * (base64 signature). Accepted within ±RELAY_AUTH_WINDOW_MS of our clock, each signature once.
 */
import {createHash} from "node:crypto";
import {CTX, type PqBackend} from "../crypto/index.js";
import type {ContextSigner} from "../signing/index.js";
import type {Clock} from "../util/index.js";

export const RELAY_FROM_HEADER = "x-pars-relay-from";
export const RELAY_TIME_HEADER = "x-pars-relay-time";
export const RELAY_SIG_HEADER = "x-pars-relay-sig";
/** How far a relay header's time may be from ours (clock skew plus the time the hop takes). */
export const RELAY_AUTH_WINDOW_MS = 60_000;
/** Signatures remembered for replay detection; past it the oldest are forgotten first. */
export const RELAY_AUTH_SEEN_MAX = 65_536;

const NODE_ID_HEX = /^[0-9a-f]{64}$/;

export type RelayHeaders = Partial<Record<typeof RELAY_FROM_HEADER | typeof RELAY_TIME_HEADER | typeof RELAY_SIG_HEADER, string>>;

export type RelayCheck =
  | {kind: "client"}
  | {kind: "relay"; from: string}
  | {kind: "invalid"; reason: string};

export interface RelayAuthModules {
  pq: PqBackend;
  signer: ContextSigner;
  clock: Clock;
  ourNodeId: string;
  /** A member's ML-DSA-65 public key, from the membership; null if the node is not a member. */
  memberKey: (nodeId: string) => Uint8Array | null;
}

export class RelayAuth {
  readonly #m: RelayAuthModules;
  /** Signature digest → when it may be forgotten (insertion order ≈ time order). */
  readonly #seen = new Map<string, number>();

  constructor(modules: RelayAuthModules) {
    this.#m = modules;
  }

  /** The headers for forwarding `blob` to `to`. */
  async headers(to: string, blob: Uint8Array): Promise<Record<string, string>> {
    const time = Math.floor(this.#m.clock.now());
    const sig = await this.#m.signer.sign(message(to, this.#m.ourNodeId, time, blob), CTX.ONION_RELAY);
    return {
      [RELAY_FROM_HEADER]: this.#m.ourNodeId,
      [RELAY_TIME_HEADER]: String(time),
      [RELAY_SIG_HEADER]: Buffer.from(sig).toString("base64"),
    };
  }

  /**
   * Classifies an arrival. Cheap checks (shape, membership, time, replay) come before the
   * ML-DSA verification, so only a header naming a member with a current time costs one.
   */
  check(headers: RelayHeaders, blob: Uint8Array): RelayCheck {
    const from = headers[RELAY_FROM_HEADER];
    if (from === undefined) return {kind: "client"};
    const time = Number(headers[RELAY_TIME_HEADER] ?? Number.NaN);
    const sigB64 = headers[RELAY_SIG_HEADER] ?? "";
    if (!NODE_ID_HEX.test(from) || !Number.isSafeInteger(time) || time < 0 || sigB64 === "") return {kind: "invalid", reason: "malformed relay header"};
    const key = this.#m.memberKey(from);
    if (key === null) return {kind: "invalid", reason: "relay is not a member"};
    const now = this.#m.clock.now();
    if (Math.abs(now - time) > RELAY_AUTH_WINDOW_MS) return {kind: "invalid", reason: "relay header expired"};
    const sig = Buffer.from(sigB64, "base64");
    const digest = createHash("sha256").update(sig).digest("base64");
    if (this.#seen.has(digest)) return {kind: "invalid", reason: "relay header replayed"};
    if (!this.#m.pq.mlDsa65.verify(key, message(this.#m.ourNodeId, from, time, blob), sig, CTX.ONION_RELAY)) {
      return {kind: "invalid", reason: "bad relay signature"};
    }
    this.#remember(digest, now);
    return {kind: "relay", from};
  }

  #remember(digest: string, now: number): void {
    for (const [d, until] of this.#seen) {
      if (until > now && this.#seen.size < RELAY_AUTH_SEEN_MAX) break;
      this.#seen.delete(d);
    }
    this.#seen.set(digest, now + 2 * RELAY_AUTH_WINDOW_MS);
  }
}

function message(to: string, from: string, time: number, blob: Uint8Array): Uint8Array {
  const out = Buffer.alloc(104);
  out.write(to, 0, "hex");
  out.write(from, 32, "hex");
  out.writeBigUInt64BE(BigInt(time), 64);
  createHash("sha256").update(blob).digest().copy(out, 72);
  return out;
}
