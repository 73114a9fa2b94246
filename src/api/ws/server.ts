/**
 * The WebSocket endpoint's state: connections, per-IP counts, the subscription index, the
 * node-wide outbound budget, the store listener and the ping and sweep timers. Transport-facing
 * glue lives in plugin.ts.
 */
import type {RawData, WebSocket} from "ws";
import {parseAccount} from "../../protocol/index.js";
import type {StoredMessage} from "../../storage/index.js";
import {TOO_MANY_REQUESTS} from "../../rpc/index.js";
import {WsConnection} from "./connection.js";
import type {WsContext} from "./context.js";
import {WS_CLOSE, type WsCloseCode, type WsDropReason, type WsErrorCode} from "./errors.js";
import {errorFrame, parseClientFrame, rpcReply, subscriptionEndedFrame, type ClientFrame, type ParsedFrame} from "./frames.js";
import {handlePingFrame} from "./handlers/ping.js";
import {handleRpcFrame} from "./handlers/rpc.js";
import {handleSubscribeFrame} from "./handlers/subscribe.js";
import {handleUnsubscribeFrame} from "./handlers/unsubscribe.js";
import type {WsHandle, WsModules, WsStats} from "./interface.js";
import {validateWsOptions, type WsOptions} from "./options.js";
import {OutboundBudget} from "./outbound-budget.js";
import {pushMessages} from "./push.js";
import {SubscriptionIndex} from "./subscriptions.js";

interface Refusal {
  code: WsErrorCode;
  closeCode: WsCloseCode;
  message: string;
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString("utf8");
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data).toString("utf8");
}

export class WsServer {
  readonly #ctx: WsContext;
  readonly #conns = new Map<WebSocket, WsConnection>();
  readonly #perIp = new Map<string, number>();
  readonly #drops: Partial<Record<WsDropReason, number>> = {};
  readonly #budget: OutboundBudget<WsConnection>;
  readonly #timers: NodeJS.Timeout[];
  readonly #onAdded = (messages: StoredMessage[]): void => pushMessages(this.#ctx, messages);
  #closing: Promise<void> | null = null;

  constructor(opts: WsOptions, modules: WsModules) {
    validateWsOptions(opts);
    this.#budget = new OutboundBudget(opts.queueBudgetBytes);
    this.#ctx = {
      opts,
      modules,
      index: new SubscriptionIndex(opts),
      counters: {pushes: 0, rpcRequests: 0},
      allow: (ip) => modules.pipeline.allow(ip),
    };
    modules.store.on("added", this.#onAdded);
    this.#timers = [setInterval(() => this.#pingAll(), opts.pingIntervalMs), setInterval(() => this.sweep(), opts.sweepIntervalMs)];
    for (const t of this.#timers) t.unref();
  }

  get handle(): WsHandle {
    return {stats: () => this.stats(), sweep: () => this.sweep(), close: () => this.close()};
  }

  /** A freshly upgraded socket: admitted, or told why not and closed. */
  accept(ws: WebSocket, ip: string): void {
    const conn = new WsConnection(ws, ip, this.#ctx.opts, {onDrop: (c, reason) => this.#onDrop(c, reason)}, this.#budget);
    const refusal = this.#refusal(ip);
    if (refusal !== null) {
      conn.fail(refusal.code, refusal.closeCode, refusal.message);
      return;
    }
    this.#conns.set(ws, conn);
    this.#perIp.set(ip, (this.#perIp.get(ip) ?? 0) + 1);
    ws.on("message", (data, isBinary) => this.#onMessage(conn, data, isBinary));
    void conn.closed.then(() => this.#forget(conn));
  }

  /** `error` on an upgraded socket: `ws` rejected an inbound frame (too big, bad UTF-8) and is closing. */
  onSocketError(err: Error & {code?: string}, ws: WebSocket): void {
    this.#ctx.modules.logger.debug({err: err.message, code: err.code}, "websocket protocol error");
    const conn = this.#conns.get(ws);
    if (conn === undefined) ws.terminate();
    else conn.failedByProtocol();
  }

  stats(): WsStats {
    const drops = Object.values(this.#drops).reduce((a, b) => a + b, 0);
    return {
      connections: this.#conns.size,
      subscriptions: this.#ctx.index.size,
      pushes: this.#ctx.counters.pushes,
      drops,
      dropsByReason: {...this.#drops},
      rpcRequests: this.#ctx.counters.rpcRequests,
      queuedBytes: this.#budget.totalBytes,
      queueBudgetBytes: this.#budget.limitBytes,
      budgetSheddings: this.#budget.sheddings,
    };
  }

  sweep(): number {
    const {clock, router} = this.#ctx.modules;
    // While not ready (e.g. no membership yet) ownership is unknown: only expire.
    const ready = router.notReadyReasons().length === 0;
    const isOurs = (hex: string): boolean => {
      const account = parseAccount(hex);
      return !ready || account === null || router.isOurs(account);
    };
    const ended = this.#ctx.index.sweep(clock.now(), isOurs);
    for (const e of ended) e.conn.send(subscriptionEndedFrame(e.account, e.why));
    return ended.length;
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#ctx.modules.store.off("added", this.#onAdded);
      for (const t of this.#timers) clearInterval(t);
      const all = [...this.#conns.values()];
      for (const conn of all) conn.fail("WS_ERROR_SHUTTING_DOWN", WS_CLOSE.GOING_AWAY, "node shutting down");
      await Promise.all(all.map((c) => c.closed));
    })();
    return this.#closing;
  }

  #refusal(ip: string): Refusal | null {
    const {opts} = this.#ctx;
    if (this.#closing !== null) return {code: "WS_ERROR_SHUTTING_DOWN", closeCode: WS_CLOSE.GOING_AWAY, message: "node shutting down"};
    if (this.#conns.size >= opts.maxConnections) {
      return {code: "WS_ERROR_SERVER_FULL", closeCode: WS_CLOSE.TRY_AGAIN_LATER, message: "too many connections on this node"};
    }
    if ((this.#perIp.get(ip) ?? 0) >= opts.maxConnectionsPerIp) {
      const message = `too many connections from this address (at most ${opts.maxConnectionsPerIp})`;
      return {code: "WS_ERROR_TOO_MANY_CONNECTIONS", closeCode: WS_CLOSE.TRY_AGAIN_LATER, message};
    }
    return null;
  }

  /**
   * Every inbound frame takes a rate-limit token, whatever its type, before anything else (so an
   * RPC frame enters the pipeline already charged); malformed ones are answered and the
   * connection stays.
   */
  #onMessage(conn: WsConnection, data: RawData, isBinary: boolean): void {
    if (!conn.isOpen) return;
    const allowed = this.#ctx.allow(conn.ip);
    const parsed: ParsedFrame = isBinary
      ? {ok: false, code: "WS_ERROR_BAD_FRAME", error: "binary frames are not supported: send JSON text frames"}
      : parseClientFrame(rawText(data));
    if (!parsed.ok) {
      conn.send(errorFrame({id: parsed.id, code: parsed.code, error: parsed.error}));
    } else if (!allowed) {
      this.#refuseRateLimited(conn, parsed.frame);
    } else {
      this.#dispatch(conn, parsed.frame);
    }
  }

  #refuseRateLimited(conn: WsConnection, frame: ClientFrame): void {
    // As HTTP answers: 429 "Too Many Requests\n" for RPCs; an error frame for everything else.
    if (frame.type === "rpc") conn.send(rpcReply(frame.id, TOO_MANY_REQUESTS));
    else conn.send(errorFrame({id: frame.id, code: "WS_ERROR_RATE_LIMITED", error: "Too Many Requests"}));
  }

  #dispatch(conn: WsConnection, frame: ClientFrame): void {
    try {
      switch (frame.type) {
        case "rpc":
          return handleRpcFrame(this.#ctx, conn, frame);
        case "subscribe":
          return handleSubscribeFrame(this.#ctx, conn, frame);
        case "unsubscribe":
          return handleUnsubscribeFrame(this.#ctx, conn, frame);
        case "ping":
          return handlePingFrame(conn, frame);
      }
    } catch (err) {
      this.#ctx.modules.logger.error({err: err instanceof Error ? err.stack : String(err), type: frame.type}, "ws frame handler threw");
      conn.send(errorFrame({id: frame.id, code: "WS_ERROR_INTERNAL", error: "request failed"}));
    }
  }

  #pingAll(): void {
    for (const conn of this.#conns.values()) conn.ping();
  }

  #onDrop(conn: WsConnection, reason: WsDropReason): void {
    this.#drops[reason] = (this.#drops[reason] ?? 0) + 1;
    // Sheddings mean the node as a whole is short of memory for pushes: operators should see them.
    if (reason === "WS_ERROR_NODE_OVERLOADED") {
      const b = this.#budget;
      this.#ctx.modules.logger.warn(
        {ip: conn.ip, queuedBytes: b.totalBytes, queueBudgetBytes: b.limitBytes, sheddings: b.sheddings},
        "ws outbound budget full: closed the connection with the largest queue",
      );
    }
  }

  #forget(conn: WsConnection): void {
    this.#conns.delete(conn.ws);
    this.#ctx.index.removeAll(conn);
    const n = (this.#perIp.get(conn.ip) ?? 1) - 1;
    if (n <= 0) this.#perIp.delete(conn.ip);
    else this.#perIp.set(conn.ip, n);
  }
}
