/**
 * `pars-storage/client`: the client library (docs/client.md). It imports only util/, protocol/ and
 * crypto/ of the package (checked by .dependency-cruiser.cjs and test/e2e/client-entry.test.ts), so
 * loading it never loads the node's server code.
 */
export {
  Ed25519Account,
  Ed25519Key,
  PqAccount,
  SUBACCOUNT_FLAGS,
  SUBACCOUNT_TOKEN_BYTES,
  SubaccountAccount,
  generateAccount,
  type AuthFields,
  type ClientAccount,
  type TokenIssuer,
} from "./account.js";
export {ParsClient, type ParsClientModules, type ParsClientOptions, type RecursiveResult, type StoreResult, type StoredMessage} from "./client.js";
export {COMPACT_NODES_PATH, FULL_NODES_PATH, NodeDirectory} from "./directory.js";
export {ClientError, type ClientErrorCode, type ClientErrorType} from "./errors.js";
export {decodeClientKey, encodeClientKey, readClientKeyFile, writeClientKeyFile, type KeyFileAccount} from "./key-file.js";
export {PARS_DEFAULT_PORT, seedOrigins, type NodeInfo} from "./nodes.js";
export {storeReceipt, verifyReceipt, type ReceiptKey} from "./receipts.js";
export {
  bulkOf,
  deleteAllRequest,
  deleteBeforeRequest,
  deleteRequest,
  expireAllRequest,
  expireRequest,
  getExpiriesRequest,
  retrieveRequest,
  sigMessage,
  storeRequest,
  subscribeParams,
  tokensRequest,
  type ExpireArgs,
  type Namespace,
  type PreparedRequest,
  type RetrieveArgs,
  type StoreArgs,
} from "./requests.js";
export {ONION_PATH, OnionTransport, defaultOnionTransportOptions, onionCapable, type OnionTransportOptions} from "./onion-transport.js";
export {Subscription, type PushedMessage, type SubscriptionOptions, type SubscriptionState} from "./subscription.js";
export {swarmOutcome, type SwarmOutcome} from "./swarm-outcome.js";
export {DirectTransport, HttpClient, TransportFailure, type RpcAnswer, type RpcBody, type RpcTransport} from "./transport.js";
export {initHashing, loadPqBackend, nobleBackend, type PqBackend} from "../crypto/index.js";
export {CLAIM_PATH, aggregateClaim, hasClaimQuorum, verifyClaim, type AggregateClaimOptions, type AggregatedClaim, type ClaimNode} from "./claims.js";
