import type {StoreEvents} from "./interface.js";
import type {Logger} from "../util/index.js";
import type {WriteOutcome} from "./write-batcher.js";

type Listeners = {[E in keyof StoreEvents]: Set<StoreEvents[E]>};

/** The store's `added`/`removed` listeners; a throwing listener is logged and skipped. */
export class StoreEventHub {
  readonly #listeners: Listeners = {added: new Set(), removed: new Set(), tombstones: new Set(), revocations: new Set()};
  readonly #logger: Logger;

  constructor(logger: Logger) {
    this.#logger = logger;
  }

  on<E extends keyof StoreEvents>(event: E, listener: StoreEvents[E]): void {
    this.#listeners[event].add(listener);
  }

  off<E extends keyof StoreEvents>(event: E, listener: StoreEvents[E]): void {
    this.#listeners[event].delete(listener);
  }

  /** Per committed write, in commit order: its removals, additions, tombstones, then revocations. */
  emitOutcomes(outcomes: Array<WriteOutcome<unknown>>): void {
    for (const o of outcomes) {
      if (o.removed !== undefined && o.removed.length > 0) this.emit("removed", o.removed);
      if (o.added !== undefined && o.added.length > 0) this.emit("added", o.added);
      if (o.tombstones !== undefined) this.emit("tombstones", o.tombstones);
      if (o.revocations !== undefined && o.revocations.length > 0) this.emit("revocations", o.revocations);
    }
  }

  emit<E extends keyof StoreEvents>(event: E, payload: Parameters<StoreEvents[E]>[0]): void {
    for (const listener of this.#listeners[event]) {
      try {
        (listener as (p: typeof payload) => void)(payload);
      } catch (err) {
        this.#logger.error({err, event}, "store event listener threw");
      }
    }
  }
}
