/**
 * Initiator nonces of accepted Init messages, each kept until its Init could no longer pass the
 * timestamp check (timestamp + window). Together the two checks reject every replayed Init: a
 * replay inside the window hits the cache, one after it fails the timestamp check.
 *
 * Only Inits whose signature verified are added, so only registered peers can fill it; when it is
 * full of live entries the handshake is refused (`CHANNEL_ERROR_BUSY`) rather than evicting a live
 * entry, which would reopen the replay.
 */
export class NonceCache {
  readonly #expiresAt = new Map<string, number>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#expiresAt.size;
  }

  has(nonce: Uint8Array, nowMs: number): boolean {
    const expiry = this.#expiresAt.get(key(nonce));
    return expiry !== undefined && expiry >= nowMs;
  }

  /** Remembers `nonce` until `expiresAtMs`; false if the cache is full of unexpired entries. */
  add(nonce: Uint8Array, expiresAtMs: number, nowMs: number): boolean {
    if (this.#expiresAt.size >= this.#capacity) this.sweep(nowMs);
    if (this.#expiresAt.size >= this.#capacity) return false;
    this.#expiresAt.set(key(nonce), expiresAtMs);
    return true;
  }

  /** Drops expired entries. */
  sweep(nowMs: number): void {
    for (const [k, expiry] of this.#expiresAt) if (expiry < nowMs) this.#expiresAt.delete(k);
  }

  /** True when `add` would fail (checked before the expensive signature verification). */
  isFull(nowMs: number): boolean {
    if (this.#expiresAt.size < this.#capacity) return false;
    this.sweep(nowMs);
    return this.#expiresAt.size >= this.#capacity;
  }
}

const key = (nonce: Uint8Array): string => Buffer.from(nonce.buffer, nonce.byteOffset, nonce.byteLength).toString("base64");
