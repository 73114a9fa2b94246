/**
 * The node-wide budget of outbound WebSocket bytes. Each connection's queue is capped on its own
 * (`maxQueuedBytes`), but thousands of slow readers each just under that cap would still make the
 * node hold gigabytes for pushes; this caps the sum over all connections.
 *
 * What is counted: the wire bytes (header plus UTF-8 payload, `wireBytes`) of every frame handed
 * to a socket, from `ws.send` until its write callback (the bytes reached the kernel) or the
 * connection's close, whichever comes first. For ASCII frames (every push: base64, hex, numbers)
 * that is exactly `ws.bufferedAmount`, which counts a string's UTF-16 units rather than its bytes.
 * It is the memory the node holds for clients that do not read; bytes already in the kernel's
 * socket buffers are not the node's heap and are not counted.
 *
 * At the limit the budget never drops a frame silently: it closes the connection holding the
 * most bytes (the slowest reader) until the new frame fits, or the sending connection itself
 * when nobody holds more than it does. A closing connection's bytes stay in `totalBytes` until
 * its socket is gone (at most `closeGraceMs`) but no longer count against the limit, so one
 * overflow sheds one connection, not every connection while the first finishes closing.
 */

/** A connection as the budget sees it. */
export interface BudgetedQueue {
  /**
   * Closes the connection because the budget is full (it was the largest queue, `queuedBytes`).
   * Called after the budget already counts the connection as closing.
   */
  shed(queuedBytes: number): void;
}

interface Entry {
  bytes: number;
  /** The connection is closing: its bytes are on their way out and not held against the limit. */
  draining: boolean;
}

export class OutboundBudget<Q extends BudgetedQueue> {
  readonly #entries = new Map<Q, Entry>();
  #totalBytes = 0;
  #liveBytes = 0;
  #sheddings = 0;

  constructor(readonly limitBytes: number) {}

  /** Bytes handed to sockets and not yet flushed, over all connections (closing ones included). */
  get totalBytes(): number {
    return this.#totalBytes;
  }

  /** The part of `totalBytes` held by open connections: what the limit applies to. */
  get liveBytes(): number {
    return this.#liveBytes;
  }

  /** Connections closed because the budget was full, since start. */
  get sheddings(): number {
    return this.#sheddings;
  }

  /** Bytes `q` holds now (0 once it has left). */
  bytesOf(q: Q): number {
    return this.#entries.get(q)?.bytes ?? 0;
  }

  /** Starts counting for a new connection. */
  join(q: Q): void {
    if (!this.#entries.has(q)) this.#entries.set(q, {bytes: 0, draining: false});
  }

  /**
   * Makes room for a frame of `bytes` on `q`, shedding the largest other queue while the open
   * connections' bytes plus the frame exceed the limit. Returns false when `q` itself was shed
   * (it held the most, ties included): the frame must not be sent.
   */
  makeRoom(q: Q, bytes: number): boolean {
    const own = this.#entry(q);
    while (this.#liveBytes + bytes > this.limitBytes) {
      const victim = this.#largestAbove(own.bytes, q);
      this.#shed(victim ?? q);
      if (victim === undefined) return false;
    }
    return true;
  }

  /** `bytes` were handed to `q`'s socket. */
  queued(q: Q, bytes: number): void {
    const e = this.#entry(q);
    e.bytes += bytes;
    this.#totalBytes += bytes;
    if (!e.draining) this.#liveBytes += bytes;
  }

  /** `bytes` of `q` reached the kernel. A write callback arriving after `leave` changes nothing. */
  flushed(q: Q, bytes: number): void {
    const e = this.#entries.get(q);
    if (e === undefined) return;
    e.bytes -= bytes;
    this.#totalBytes -= bytes;
    if (!e.draining) this.#liveBytes -= bytes;
  }

  /** `q` is closing: its bytes stop counting against the limit (they stay in `totalBytes`). */
  drain(q: Q): void {
    const e = this.#entries.get(q);
    if (e === undefined || e.draining) return;
    e.draining = true;
    this.#liveBytes -= e.bytes;
  }

  /** `q`'s socket is gone, and with it whatever it still held. */
  leave(q: Q): void {
    const e = this.#entries.get(q);
    if (e === undefined) return;
    this.#entries.delete(q);
    this.#totalBytes -= e.bytes;
    if (!e.draining) this.#liveBytes -= e.bytes;
  }

  #shed(q: Q): void {
    const bytes = this.bytesOf(q);
    this.#sheddings += 1;
    this.drain(q);
    q.shed(bytes);
  }

  /** The open queue other than `except` holding the most bytes, if it holds more than `floor` (a scan, but only when shedding). */
  #largestAbove(floor: number, except: Q): Q | undefined {
    let best: Q | undefined;
    let bestBytes = floor;
    for (const [q, e] of this.#entries) {
      if (q !== except && !e.draining && e.bytes > bestBytes) {
        best = q;
        bestBytes = e.bytes;
      }
    }
    return best;
  }

  #entry(q: Q): Entry {
    const e = this.#entries.get(q);
    if (e === undefined) throw new Error("OutboundBudget: connection not joined (or already left)");
    return e;
  }
}
