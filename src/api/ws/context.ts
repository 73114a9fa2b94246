import type {WsConnection} from "./connection.js";
import type {WsModules} from "./interface.js";
import type {WsOptions} from "./options.js";
import type {SubscriptionIndex} from "./subscriptions.js";

/** What every frame handler and the push path share. */
export interface WsContext {
  readonly opts: WsOptions;
  readonly modules: WsModules;
  readonly index: SubscriptionIndex<WsConnection>;
  readonly counters: {pushes: number; rpcRequests: number};
  /** Takes one token from the client IP's bucket; false means refuse. */
  allow(ip: string): boolean;
}
