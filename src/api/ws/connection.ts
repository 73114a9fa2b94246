/**
 * One client connection: bounded outbound queue, bounded concurrent RPCs, ping/pong liveness and
 * closing with a reason. Nothing here can make the node wait for the client: a send that finds the
 * queue over its limits closes the connection instead of buffering more.
 */
import type {WebSocket} from "ws";
import {WS_CLOSE, type WsCloseCode, type WsDropReason, type WsErrorCode} from "./errors.js";
import {errorFrame} from "./frames.js";
import type {WsOptions} from "./options.js";
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

function closeReason(text: string): string {
  const bytes = Buffer.from(text);
  if (bytes.length <= MAX_CLOSE_REASON_BYTES) return text;
  // Cut on a byte boundary, then drop a character the cut split.
  return bytes.subarray(0, MAX_CLOSE_REASON_BYTES).toString("utf8").replace(/\uFFFD$/, "");
}

export class WsConnection implements Subscriber {
  readonly subscriptions = new Map<string, Subscription>();
  /** Settles when the socket has closed (cleanly or not). */
  readonly closed: Promise<void>;
  #pendingFrames = 0;
  #inflight = 0;
  readonly #rpcQueue: Array<() => Promise<void>> = [];
  #closing = false;
  #pongTimer: NodeJS.Timeout | null = null;
  #killTimer: NodeJS.Timeout | null = null;
  readonly #onFlushed = (): void => {
    this.#pendingFrames -= 1;
  };

  constructor(
    readonly ws: WebSocket,
    readonly ip: string,
    private readonly limits: ConnectionLimits,
    private readonly events: ConnectionEvents,
  ) {
    this.closed = new Promise((resolve) => {
      ws.once("close", () => {
        this.#closing = true;
        this.#clearTimers();
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
   * `maxQueuedFrames` unflushed), the connection is closed instead and false returned.
   */
  send(frame: string): boolean {
    if (!this.isOpen) return false;
    const buffered = this.ws.bufferedAmount;
    if (buffered > this.limits.maxQueuedBytes || this.#pendingFrames >= this.limits.maxQueuedFrames) {
      const what = buffered > this.limits.maxQueuedBytes ? `${buffered} bytes` : `${this.#pendingFrames} frames`;
      this.fail("WS_ERROR_SLOW_CONSUMER", WS_CLOSE.POLICY_VIOLATION, `slow consumer: ${what} queued`);
      return false;
    }
    this.#pendingFrames += 1;
    this.ws.send(frame, this.#onFlushed);
    return true;
  }

  /** Sends a final error frame, closes with `closeCode` and destroys the socket after the grace period. */
  fail(code: WsErrorCode, closeCode: WsCloseCode, message: string): void {
    if (this.#closing) return;
    this.#closing = true;
    this.events.onDrop(this, code);
    if (this.ws.readyState === this.ws.OPEN) {
      this.ws.send(errorFrame({code, error: message, reason: message}));
      this.ws.close(closeCode, closeReason(message));
    }
    this.#armKillTimer();
  }

  /** The `ws` layer already sent a close frame (oversize frame, invalid UTF-8): just make sure the socket goes. */
  failedByProtocol(): void {
    if (this.#closing) return;
    this.#closing = true;
    this.events.onDrop(this, "WS_ERROR_PROTOCOL");
    this.#armKillTimer();
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
