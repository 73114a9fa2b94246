import {InvalidArgumentError} from "../util/index.js";

/**
 * A bounded least-recently-used map (Map keeps insertion order; a hit re-inserts the key).
 * `null` is a legal value, so callers can cache negative results; `get` returns `undefined` on miss.
 */
export class LruCache<K, V> {
  readonly #max: number;
  readonly #map = new Map<K, V>();

  constructor(maxEntries: number) {
    if (!Number.isInteger(maxEntries) || maxEntries < 1) {
      throw new InvalidArgumentError("LruCache maxEntries must be a positive integer");
    }
    this.#max = maxEntries;
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: K): V | undefined {
    if (!this.#map.has(key)) return undefined;
    const value = this.#map.get(key) as V;
    this.#map.delete(key);
    this.#map.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    if (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next();
      if (oldest.done !== true) this.#map.delete(oldest.value);
    }
  }

  clear(): void {
    this.#map.clear();
  }
}
