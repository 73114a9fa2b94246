/**
 * Which swarm peers are known to be unreachable. A forward to a peer marked down is not attempted
 * (it is persisted at once and answered as `unreachable`, with the failure that marked it down as
 * the reason), so clients do not wait on a dead peer for
 * every write; once `probeMs` has passed, the next forward tries it again. Any sign of life (a
 * delivered request, or an authenticated frame from the peer) marks it up.
 */
import type {Clock} from "../util/index.js";

export class PeerHealth {
  readonly #probeMs: number;
  readonly #clock: Clock;
  /** Peer → until when forwards skip it. */
  readonly #downUntil = new Map<string, number>();
  /** Peer → what failed when it was last marked down ("connect ECONNREFUSED", "timeout", …). */
  readonly #reasons = new Map<string, string>();

  constructor(probeMs: number, clock: Clock) {
    this.#probeMs = probeMs;
    this.#clock = clock;
  }

  markDown(peer: string, reason = "unreachable"): void {
    this.#downUntil.set(peer, this.#clock.now() + this.#probeMs);
    this.#reasons.set(peer, reason);
  }

  /** Returns true if the peer was marked down before. */
  markUp(peer: string): boolean {
    this.#reasons.delete(peer);
    return this.#downUntil.delete(peer);
  }

  /** What failed when the peer was marked down; null if it is not. */
  downReason(peer: string): string | null {
    return this.#reasons.get(peer) ?? null;
  }

  /** Down, and not yet due for a probe. */
  isDown(peer: string): boolean {
    const until = this.#downUntil.get(peer);
    return until !== undefined && this.#clock.now() < until;
  }

  /** Known to have failed (whether or not a probe is due). */
  wasDown(peer: string): boolean {
    return this.#downUntil.has(peer);
  }
}
