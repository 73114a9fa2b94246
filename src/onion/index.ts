/**
 * Onion requests with hybrid post-quantum hops (`/onion_req/v2`, docs/PROTOCOL.md "Onion
 * requests"): the client builds the layered blob, each node opens its own layer. Pure (no I/O, no
 * server imports) so a client library can use it as is.
 */
export {OnionError, type OnionErrorCode, type OnionErrorType} from "./errors.js";
export {ACCEPTED_ENC_TYPES, ONION_LENGTH_PREFIX_BYTES, ONION_MAX_HOPS} from "./framing.js";
export {
  ONION_AEAD_OVERHEAD_BYTES,
  ONION_ENC_TYPE,
  ONION_KDF_LABEL,
  ONION_NONCE_BYTES,
  XWING_LABEL,
  xwingCombine,
} from "./hop-crypto.js";
export {hopFromEntry, onionSecretKeys} from "./keys.js";
export {
  buildOnionRequest,
  openLayer,
  parseEntryBlob,
  type BuildOptions,
  type BuiltRequest,
  type EntryBlob,
  type HopPublicKeys,
  type OnionResponse,
  type OnionSecretKeys,
  type OpenOptions,
  type OpenedLayer,
} from "./layer.js";
