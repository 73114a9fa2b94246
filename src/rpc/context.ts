import type {PqBackend} from "../crypto/index.js";
import type {Logger} from "../util/index.js";
import type {StoreQuote} from "../economics/index.js";
import type {ResponseSigner} from "../receipts/index.js";
import type {MessageStore} from "../storage/index.js";
import type {Clock} from "../util/index.js";
import type {SwarmRouter} from "../swarm/index.js";
import type {RequestVerifier} from "./auth.js";

/** Version numbers clients see. `version` is the Session storage-server RPC level we implement. */
export interface RpcVersionInfo {
  /** Session storage-server version whose client RPC this node speaks (clients gate features on it). */
  version: [number, number, number];
  /** Session hardfork/revision reported as `hf`. */
  hf: [number, number];
  /** This software's own version. */
  parsVersion: string;
}

export interface RpcOptions {
  /** Store default when neither ttl nor expiry is given (PIP-0008 sessionTTL). */
  defaultTtlMs: number;
}

/** PIP-0008 fees for stores (src/fees): quoted in every store entry, charged for new messages. */
export interface StoreFees {
  quote(dataBytes: number, newMailbox: boolean): StoreQuote;
  charge(quote: StoreQuote, dataBytes: number): void;
}

export interface RpcModules {
  store: MessageStore;
  clock: Clock;
  pq: PqBackend;
  router: SwarmRouter;
  signer: ResponseSigner;
  nodeId: string;
  logger: Logger;
  versions: RpcVersionInfo;
  /** Absent: store entries carry no `fee`. */
  fees?: StoreFees;
  /** Request signatures checked off the event loop (retrieve's); absent: on it. */
  verifier?: RequestVerifier;
}

export type RpcContext = RpcModules & {opts: RpcOptions};

