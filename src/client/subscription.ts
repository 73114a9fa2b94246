/**
 * A WebSocket subscription (docs/PROTOCOL.md WebSocket §3, §4) that stays up: it connects to a
 * member of the account's swarm, subscribes, renews before the node's 65-minute expiry, and after
 * a close, an error or `subscription_ended` reconnects (to another member after a wrong-swarm
 * refusal) with back-off and subscribes again. Pushes are a convenience on top of the mailbox:
 * what arrived while disconnected is fetched with `retrieve` and `last_hash` (PROTOCOL WebSocket §6).
 */
import {WebSocket} from "undici";
import {backoffDelayMs, clockTimers, type Clock, type ClockTimers, type TimerHandle} from "../util/index.js";
import type {ClientAccount} from "./account.js";
import {shuffled} from "./directory.js";
import {ClientError} from "./errors.js";
import type {NodeInfo} from "./nodes.js";
import {subscribeParams} from "./requests.js";
import type {SwarmRouter} from "./router.js";
import type {HttpClient} from "./transport.js";

export interface PushedMessage {
  account: string;
  hash: string;
  namespace: number;
  timestamp: number;
  expiry: number;
  /** Present when the subscription asked for data. */
  data?: Buffer;
}

export type SubscriptionState = "connecting" | "subscribed" | "reconnecting" | "closed";

export interface SubscriptionOptions {
  /** Namespaces to watch (default [0]). */
  namespaces?: number[];
  /** Include message data in pushes (default true). */
  data?: boolean;
  onMessage: (msg: PushedMessage) => void;
  /** Connection problems, refusals (the subscription keeps retrying unless closed). */
  onError?: (err: Error) => void;
  onState?: (state: SubscriptionState, node: string | null) => void;
}

export interface SubscriptionModules {
  account: ClientAccount;
  router: SwarmRouter;
  clock: Clock;
  /** Gives the pinned dispatcher of a wss:// node (HttpClient); without it only ws:// works. */
  http?: Pick<HttpClient, "dispatcherFor">;
}

/** Renew well before the node's 65-minute subscription expiry. */
export const RENEW_INTERVAL_MS = 55 * 60_000;
const RECONNECT_BACKOFF = {initialMs: 500, maxMs: 30_000} as const;
/** The monitor's "wrong swarm" errcode (Session MonitorResponse). */
const ERRCODE_WRONG_SWARM = 6;

export class Subscription {
  #ws: WebSocket | null = null;
  #timer: TimerHandle | null = null;
  #failures = 0;
  #closed = false;
  /** Why the current connection is being dropped, reported once when it closes. */
  #dropReason: Error | null = null;
  #readyResolve!: () => void;
  readonly #timers: ClockTimers;
  /** Resolves once the first subscription is confirmed. */
  readonly ready: Promise<void>;

  constructor(
    private readonly opts: SubscriptionOptions,
    private readonly m: SubscriptionModules,
  ) {
    this.#timers = clockTimers(m.clock);
    this.ready = new Promise((resolve) => (this.#readyResolve = resolve));
    void this.#connect();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#clearTimer();
    this.#ws?.close();
    this.#ws = null;
    this.opts.onState?.("closed", null);
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    let node: NodeInfo | undefined;
    try {
      node = shuffled(await this.m.router.swarmOf(this.m.account.id), Math.random)[0];
    } catch (err) {
      this.#retry(err as Error);
      return;
    }
    if (node === undefined || this.#closed) return this.#retry(new Error("the swarm has no members"));
    this.opts.onState?.("connecting", node.nodeId);
    const url = `${node.url.replace(/^http/, "ws")}/ws`;
    // wss:// goes through the node's pinned Pool: its certificate must show the record's key.
    const ws = new WebSocket(url, this.m.http === undefined ? undefined : {dispatcher: this.m.http.dispatcherFor(url, node.tlsPin)});
    this.#ws = ws;
    ws.addEventListener("open", () => this.#subscribe(ws));
    ws.addEventListener("message", (ev) => this.#onFrame(ws, node, String(ev.data)));
    ws.addEventListener("error", () => undefined); // the close event follows and reconnects
    ws.addEventListener("close", () => {
      if (this.#ws !== ws) return;
      this.#ws = null;
      const reason = this.#dropReason ?? new Error(`connection to ${node.nodeId.slice(0, 12)}… closed`);
      this.#dropReason = null;
      this.#retry(reason);
    });
  }

  #subscribe(ws: WebSocket): void {
    const params = subscribeParams(this.m.account, this.opts.namespaces ?? [0], this.opts.data ?? true, this.m.clock.now());
    ws.send(JSON.stringify({id: "sub", type: "subscribe", params}));
  }

  #onFrame(ws: WebSocket, node: NodeInfo, text: string): void {
    let f: Record<string, unknown>;
    try {
      f = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    if (f.type === "message") this.#push(f);
    else if (f.type === "subscribe" && f.success === true) this.#subscribed(ws, node);
    else if (f.type === "error" && f.id === "sub") this.#refused(ws, f);
    else if (f.type === "subscription_ended") this.#drop(ws, new Error(`subscription ended: ${String(f.reason)}`));
  }

  #push(f: Record<string, unknown>): void {
    if (typeof f.hash !== "string" || typeof f.account !== "string") return;
    const msg: PushedMessage = {
      account: f.account,
      hash: f.hash,
      namespace: Number(f.namespace),
      timestamp: Number(f.timestamp),
      expiry: Number(f.expiry),
      ...(typeof f.data === "string" ? {data: Buffer.from(f.data, "base64")} : {}),
    };
    this.opts.onMessage(msg);
  }

  #subscribed(ws: WebSocket, node: NodeInfo): void {
    this.#failures = 0;
    this.opts.onState?.("subscribed", node.nodeId);
    this.#readyResolve();
    this.#clearTimer();
    this.#timer = this.#timers.setTimeout(() => this.#subscribe(ws), RENEW_INTERVAL_MS);
  }

  #refused(ws: WebSocket, f: Record<string, unknown>): void {
    if (f.errcode === ERRCODE_WRONG_SWARM) this.m.router.forget(this.m.account.id);
    const err = new ClientError({code: "CLIENT_ERROR_RPC", method: "subscribe", status: 0, body: f}, `subscribe refused: ${String(f.error)}`);
    this.#drop(ws, err);
  }

  /** Ends this connection; its close event schedules the reconnect. */
  #drop(ws: WebSocket, err: Error): void {
    this.#dropReason = err;
    ws.close();
  }

  #retry(err: Error): void {
    if (this.#closed) return;
    this.opts.onError?.(err);
    this.opts.onState?.("reconnecting", null);
    this.#failures++;
    this.#clearTimer();
    this.#timer = this.#timers.setTimeout(() => void this.#connect(), backoffDelayMs(RECONNECT_BACKOFF, this.#failures));
  }

  #clearTimer(): void {
    if (this.#timer !== null) this.#timers.clearTimeout(this.#timer);
    this.#timer = null;
  }
}
