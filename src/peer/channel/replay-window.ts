/**
 * Sliding anti-replay window over sequence numbers (RFC 6479 style): a ring bitmap of `size` bits
 * (a multiple of 32) remembers which of the last `size` sequence numbers below the highest one
 * were received. `check` is read-only so a frame is only `commit`ted after it authenticated; a
 * forged frame can therefore never move the window.
 */
export type WindowVerdict = "ok" | "replay" | "too-old";

export class ReplayWindow {
  readonly size: number;
  readonly #bits: Uint32Array;
  /** Highest sequence number committed, or -1 before the first one. */
  #highest = -1;

  constructor(size: number) {
    if (!Number.isInteger(size) || size <= 0 || size % 32 !== 0) {
      throw new RangeError(`replay window size must be a positive multiple of 32, got ${size}`);
    }
    this.size = size;
    this.#bits = new Uint32Array(size / 32);
  }

  get highest(): number {
    return this.#highest;
  }

  check(seq: number): WindowVerdict {
    if (seq > this.#highest) return "ok";
    if (this.#highest - seq >= this.size) return "too-old";
    return this.#isSet(seq) ? "replay" : "ok";
  }

  /** Records `seq`; call only after `check(seq) === "ok"` and a successful AEAD open. */
  commit(seq: number): void {
    if (seq > this.#highest) this.#advance(seq);
    const slot = seq % this.size;
    this.#bits[slot >>> 5]! |= 1 << (slot & 31);
  }

  #isSet(seq: number): boolean {
    const slot = seq % this.size;
    return ((this.#bits[slot >>> 5]! >>> (slot & 31)) & 1) === 1;
  }

  /** Clears the bits of every sequence number in (highest, seq] that leaves the ring. */
  #advance(seq: number): void {
    const gap = seq - this.#highest;
    if (gap >= this.size) {
      this.#bits.fill(0);
    } else {
      for (let s = this.#highest + 1; s <= seq; s++) {
        const slot = s % this.size;
        this.#bits[slot >>> 5]! &= ~(1 << (slot & 31));
      }
    }
    this.#highest = seq;
  }
}
