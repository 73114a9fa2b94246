/** Bounded batches and checks of messages received from peers. */
import {messageHash} from "../crypto/index.js";
import type {StoredMessage, Tombstone} from "../storage/index.js";
import {batchBytesOf} from "./options.js";
import {MAX_LIST_TOMBSTONES} from "./wire.js";

export interface BatchLimits {
  readonly maxBatchMessages: number;
  readonly maxBatchBytes: number;
}

/** Splits messages into batches of at most `maxBatchMessages` and about `maxBatchBytes` (never empty). */
export function splitBatches(messages: readonly StoredMessage[], limits: BatchLimits): StoredMessage[][] {
  const batches: StoredMessage[][] = [];
  let current: StoredMessage[] = [];
  let bytes = 0;
  for (const m of messages) {
    const size = batchBytesOf(m.data.length);
    if (current.length > 0 && (current.length >= limits.maxBatchMessages || bytes + size > limits.maxBatchBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/**
 * Messages whose hash is Session's hash of their account, namespace and data: a peer cannot make
 * us store data under another message's hash (and so block the real one, hashes being unique).
 */
export function authenticMessages(messages: readonly StoredMessage[]): StoredMessage[] {
  return messages.filter((m) => messageHash(Buffer.from(m.account, "hex"), m.namespace, m.data) === m.hash);
}

/** What one push carries. */
export interface Batch {
  messages: StoredMessage[];
  tombstones: Tombstone[];
}

/** Fills batches one item at a time; an add that would overflow hands back the full batch first. */
export class BatchBuilder {
  readonly #limits: BatchLimits;
  #batch: Batch = {messages: [], tombstones: []};
  #bytes = 0;

  constructor(limits: BatchLimits) {
    this.#limits = limits;
  }

  addMessage(m: StoredMessage): Batch | null {
    const size = batchBytesOf(m.data.length);
    const full = this.#batch.messages.length >= this.#limits.maxBatchMessages || this.#bytes + size > this.#limits.maxBatchBytes;
    const out = full && !this.#empty() ? this.take() : null;
    this.#batch.messages.push(m);
    this.#bytes += size;
    return out;
  }

  addTombstone(t: Tombstone): Batch | null {
    const out = this.#batch.tombstones.length >= MAX_LIST_TOMBSTONES ? this.take() : null;
    this.#batch.tombstones.push(t);
    return out;
  }

  /** The current batch (null if empty); starts a new one. */
  take(): Batch | null {
    if (this.#empty()) return null;
    const out = this.#batch;
    this.#batch = {messages: [], tombstones: []};
    this.#bytes = 0;
    return out;
  }

  #empty(): boolean {
    return this.#batch.messages.length + this.#batch.tombstones.length === 0;
  }
}
