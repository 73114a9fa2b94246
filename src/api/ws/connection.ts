/**
 * One client connection: bounded outbound queue, bounded concurrent RPCs, ping/pong liveness and
 * closing with a reason. Nothing here can make the node wait for the client: a send that finds the
 * queue over its limits, or the node-wide outbound budget full, closes a connection instead of
 * buffering more.
 */
import type {WebSocket} from "ws";
import {WS_CLOSE, type WsCloseCode, type WsDropReason, type WsErrorCode} from "./errors.js";
import {errorFrame} from "./frames.js";
import type {WsOptions} from "./options.js";
import type {BudgetedQueue, OutboundBudget} from "./outbound-budget.js";
import type {Subscriber, Subscription} from "./subscriptions.js";

/** RFC 6455 §5.5: a close frame's payload is ≤ 125 bytes, 2 of them the code. */
const MAX_CLOSE_REASON_BYTES = 123;

export type ConnectionLimits = Pick<
  WsOptions,
  "maxQueuedBytes" | "maxQueuedFrames" | "maxInflightRpc" | "pongTimeoutMs" | "closeGraceMs"
>;

export interface ConnectionEvents {
  /** The node decided to close this connection (called once, before the close frame is sent). */
  onDrop(conn: WsConnection, reason: WsDropReason): void;
}

/**
 * The bytes a text frame with `payloadBytes` of UTF-8 puts on the wire: the payload plus the
 * RFC 6455 §5.2 header of an unmasked server frame (2 bytes, 4 from 126 bytes, 10 from 64 KiB),
 * which `ws` buffers alongside it.
 */
export function wireBytes(payloadBytes: number): number {
  return payloadBytes + (payloadBytes < 126 ? 2 : payloadBytes < 65_536 ? 4 : 10);
}

function closeReason(text: string): string {
  const bytes = Buffer.from(text);
  if (bytes.length <= MAX_CLOSE_REASON_BYTES) return text;
  // Cut on a byte boundary, then drop a character the cut split.
  return bytes.subarray(0, MAX_CLOSE_REASON_BYTES).toString("utf8").replace(/\uFFFD$/, "");
}

export class WsConnection implements Subscriber, BudgetedQueue {
  readonly subscriptions = new Map<string, Subscription>();
  /** Settles when the socket has closed (cleanly or not). */
  readonly closed: Promise<void>;
  #pendingFrames = 0;
  #inflight = 0;
  readonly #rpcQueue: Array<() => Promise<void>> = [];
  #closing = false;
  #pongTimer: NodeJS.Timeout | null = null;
  #killTimer: NodeJS.Timeout | null = null;

  constructor(
    readonly ws: WebSocket,
    readonly ip: string,
    private readonly limits: ConnectionLimits,
    private readonly events: ConnectionEvents,
    private readonly budget: OutboundBudget<WsConnection>,
  ) {
    budget.join(this);
    this.closed = new Promise((resolve) => {
      ws.once("close", () => {
        this.#closing = true;
        this.#clearTimers();
        budget.leave(this);
        resolve();
      });
    });
    ws.on("pong", () => this.#clearPongTimer());
  }

  get isOpen(): boolean {
    return !this.#closing && this.ws.readyState === this.ws.OPEN;
  }

  /** Frames handed to `ws` but not yet written to the kernel. */
  get pendingFrames(): number {
    return this.#pendingFrames;
  }

  /**
   * Queues one frame. If the client is not keeping up (more than `maxQueuedBytes` buffered or
   * `maxQueuedFrames` unflushed), the connection is closed instead and false returned. If the
   * node-wide outbound budget cannot take the frame, the largest queue is closed to make room,
   * which may be this one (then false too): a frame is either queued or its connection closed.
   */
  send(frame: string): boolean {
    if (!this.isOpen) return false;
    const buffered = this.ws.bufferedAmount;
    if (buffered > this.limits.maxQueuedBytes || this.#pendingFrames >= this.limits.maxQueuedFrames) {
      const what = buffered > this.limits.maxQueuedBytes ? `${buffered} bytes` : `${this.#pendingFrames} frames`;
      this.fail("WS_ERROR_SLOW_CONSUMER", WS_CLOSE.POLICY_VIOLATION, `slow consumer: ${what} queued`);
      return false;
    }
    const bytes = wireBytes(Buffer.byteLength(frame));
    if (!this.budget.makeRoom(this, bytes)) return false;
    this.#pendingFrames += 1;
    this.#write(frame, bytes, () => {
      this.#pendingFrames -= 1;
    });
    return true;
  }

  /** The node-wide outbound budget is full and this connection holds the most of it. */
  shed(queuedBytes: number): void {
    const message = `node overloaded: outbound budget of ${this.budget.limitBytes} bytes full, ${queuedBytes} bytes queued here`;
    this.fail("WS_ERROR_NODE_OVERLOADED", WS_CLOSE.TRY_AGAIN_LATER, message);
  }

  /** Sends a final error frame, closes with `closeCode` and destroys the socket after the grace period. */
  fail(code: WsErrorCode, closeCode: WsCloseCode, message: string): void {
    if (this.#closing) return;
    this.#closing = true;
    this.budget.drain(this);
    this.events.onDrop(this, code);
    if (this.ws.readyState === this.ws.OPEN) {
      const frame = errorFrame({code, error: message, reason: message});
      this.#write(frame, wireBytes(Buffer.byteLength(frame)));
      this.ws.close(closeCode, closeReason(message));
    }
    this.#armKillTimer();
  }

  /** The `ws` layer already sent a close frame (oversize frame, invalid UTF-8): just make sure the socket goes. */
  failedByProtocol(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.budget.drain(this);
    this.events.onDrop(this, "WS_ERROR_PROTOCOL");
    this.#armKillTimer();
  }

  /** Hands a frame to `ws`, counting its bytes in the budget until `ws` has written them to the kernel. */
  #write(frame: string, bytes: number, onFlushed?: () => void): void {
    this.budget.queued(this, bytes);
    this.ws.send(frame, () => {
      this.budget.flushed(this, bytes);
      onFlushed?.();
    });
  }

  /** Pings unless a ping is outstanding; no pong within `pongTimeoutMs` closes the connection. */
  ping(): void {
    if (!this.isOpen || this.#pongTimer !== null) return;
    this.#pongTimer = setTimeout(() => {
      this.#pongTimer = null;
      this.fail("WS_ERROR_PING_TIMEOUT", WS_CLOSE.POLICY_VIOLATION, `ping timeout: no pong within ${this.limits.pongTimeoutMs} ms`);
    }, this.limits.pongTimeoutMs);
    this.ws.ping();
  }

  /**
   * Runs an RPC when fewer than `maxInflightRpc` run; otherwise queues it and stops reading from
   * the socket (TCP pushes back on the client) until one finishes. Only frames already received
   * can queue, so the queue is bounded by what one socket read delivers.
   */
  runRpc(task: () => Promise<void>): void {
    if (this.#inflight >= this.limits.maxInflightRpc) {
      this.#rpcQueue.push(task);
      this.#pause();
      return;
    }
    this.#start(task);
  }

  #start(task: () => Promise<void>): void {
    this.#inflight += 1;
    if (this.#inflight >= this.limits.maxInflightRpc) this.#pause();
    void task().finally(() => {
      this.#inflight -= 1;
      // A closed connection's queued requests would be answered to nobody.
      if (!this.isOpen) this.#rpcQueue.length = 0;
      const next = this.#rpcQueue.shift();
      if (next !== undefined) this.#start(next);
      else if (this.ws.isPaused && this.isOpen) this.ws.resume();
    });
  }

  #pause(): void {
    if (!this.ws.isPaused) this.ws.pause();
  }

  #armKillTimer(): void {
    this.#clearPongTimer();
    this.#killTimer ??= setTimeout(() => this.ws.terminate(), this.limits.closeGraceMs);
  }

  #clearPongTimer(): void {
    if (this.#pongTimer !== null) clearTimeout(this.#pongTimer);
    this.#pongTimer = null;
  }

  #clearTimers(): void {
    this.#clearPongTimer();
    if (this.#killTimer !== null) clearTimeout(this.#killTimer);
    this.#killTimer = null;
  }
}
