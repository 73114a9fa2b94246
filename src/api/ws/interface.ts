import type {PqBackend} from "../../crypto/index.js";
import type {RequestPipeline} from "../../rpc/index.js";
import type {SwarmRouter} from "../../swarm/index.js";
import type {MessageStore} from "../../storage/index.js";
import type {Clock} from "../../util/index.js";
import type {WsDropReason} from "./errors.js";

export interface WsLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What the WebSocket endpoint uses from the rest of the node. */
export interface WsModules {
  /**
   * The node's request pipeline, shared with POST /storage_rpc/v1: RPC frames go through `handle`
   * (readiness, shape checks, dispatch), and every inbound frame takes its token from the per-IP
   * bucket with `allow`.
   */
  pipeline: Pick<RequestPipeline, "handle" | "allow">;
  /** `added` feeds the pushes (every new message, whatever its origin); `isRevoked` checks subaccounts. */
  store: Pick<MessageStore, "on" | "off" | "isRevoked">;
  pq: PqBackend;
  clock: Clock;
  /** Readiness and swarm ownership for subscriptions (subscribe errcode 6, the sweep); RPC frames ask the pipeline. */
  router: Pick<SwarmRouter, "isOurs" | "notReadyReasons">;
  logger: WsLogger;
}

export interface WsStats {
  /** Open connections (accepted and not yet closed). */
  connections: number;
  /** Subscriptions held over all connections (one per account per connection). */
  subscriptions: number;
  /** Message frames pushed since start. */
  pushes: number;
  /** Connections the node closed itself: limits, timeouts, protocol violations and shutdown (see `dropsByReason`). */
  drops: number;
  dropsByReason: Partial<Record<WsDropReason, number>>;
  /** RPC frames answered since start. */
  rpcRequests: number;
  /** Outbound bytes handed to sockets and not yet written to the kernel, over all connections (closing ones too). */
  queuedBytes: number;
  /** The node-wide limit on those bytes (`WsOptions.queueBudgetBytes`). */
  queueBudgetBytes: number;
  /** Connections closed because that budget was full (also in `dropsByReason` as `WS_ERROR_NODE_OVERLOADED`). */
  budgetSheddings: number;
}

/** Returned by `registerWebSocket`. */
export interface WsHandle {
  stats(): WsStats;
  /** Drops expired subscriptions and those of accounts no longer ours now (also runs on a timer); returns how many. */
  sweep(): number;
  /** Closes every connection (1001) and stops listening to the store; also runs from fastify's preClose. */
  close(): Promise<void>;
}
