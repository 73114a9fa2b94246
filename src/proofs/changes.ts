/**
 * Which messages changed since the last refresh. Inserts and deletes arrive as the store's
 * `added`/`removed` events (after commit, in memory: nothing is written on the store's path);
 * expiry updates come from the `proof_changes` log kept by a trigger (migration 0003), because
 * the store emits no event for them. A refresh re-reads exactly these messages. Nothing here needs
 * to survive a restart: the change log of migration 0008 holds every change since the persisted
 * commitment (persisted.ts).
 */
import type {StoredMessage} from "../storage/index.js";

export interface StoreEventSource {
  on(event: "added", listener: (messages: StoredMessage[]) => void): void;
  on(event: "removed", listener: (hashes: string[]) => void): void;
  off(event: "added", listener: (messages: StoredMessage[]) => void): void;
  off(event: "removed", listener: (hashes: string[]) => void): void;
}

export interface TakenChanges {
  readonly hashes: ReadonlySet<string>;
  /** More than `maxChanges` happened: the next refresh rebuilds everything instead. */
  readonly overflow: boolean;
}

export class ChangeTracker {
  #hashes = new Set<string>();
  #overflow = false;
  #source: StoreEventSource | null = null;

  constructor(private readonly maxChanges: number) {}

  readonly #onAdded = (messages: StoredMessage[]): void => this.mark(messages.map((m) => m.hash));
  readonly #onRemoved = (hashes: string[]): void => this.mark(hashes);

  attach(source: StoreEventSource): void {
    this.#source = source;
    source.on("added", this.#onAdded);
    source.on("removed", this.#onRemoved);
  }

  detach(): void {
    this.#source?.off("added", this.#onAdded);
    this.#source?.off("removed", this.#onRemoved);
    this.#source = null;
  }

  mark(hashes: Iterable<string>): void {
    if (this.#overflow) return;
    for (const h of hashes) this.#hashes.add(h);
    if (this.#hashes.size > this.maxChanges) {
      this.#overflow = true;
      this.#hashes = new Set();
    }
  }

  /** Whether `hash` changed since the last take (always true after an overflow: unknown). */
  has(hash: string): boolean {
    return this.#overflow || this.#hashes.has(hash);
  }

  /** The changes so far; the tracker starts over. */
  take(): TakenChanges {
    const taken = {hashes: this.#hashes, overflow: this.#overflow};
    this.#hashes = new Set();
    this.#overflow = false;
    return taken;
  }
}
