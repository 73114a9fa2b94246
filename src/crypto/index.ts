export {deriveAccountId07, pqKeysHash, PQ_ACCOUNT_ID_CHARS, PQ_ACCOUNT_PREFIX} from "./account.js";
export {asBuffer, equalBytes, isBytes} from "./bytes.js";
export {
  BLS_POP_DST,
  BLS_PUBLIC_KEY_BYTES,
  BLS_SECRET_KEY_BYTES,
  BLS_SIGNATURE_BYTES,
  BLS_SIGNATURE_DST,
  blsAggregatePublicKeys,
  blsAggregateSignatures,
  blsProofOfPossession,
  blsPublicKey,
  blsSecretKeyFromBytes,
  blsSign,
  blsVerify,
  blsVerifyAggregate,
  blsVerifyAggregateDistinct,
  blsVerifyProofOfPossession,
  generateBlsKeyPair,
  generateBlsSecretKey,
  isBlsPublicKey,
  isBlsSecretKey,
  isBlsSignature,
  type BlsKeyPair,
} from "./bls.js";
export {CTX, type ContextName} from "./contexts.js";
export {
  ED25519_KEY_CACHE_ENTRIES,
  ED25519_PUBLIC_KEY_BYTES,
  ED25519_SIGNATURE_BYTES,
  X25519_PUBLIC_KEY_BYTES,
  ed25519MatchesX25519,
  ed25519PkToX25519,
  hasSmallOrderEncoding,
  isCanonicalEncoding,
  verifyEd25519,
} from "./ed25519.js";
export {
  CryptoError,
  IdentityError,
  type CryptoErrorCode,
  type CryptoErrorType,
  type IdentityErrorCode,
  type IdentityErrorType,
  type IdentityKeyName,
} from "./errors.js";
export {
  BLAKE2B256_BYTES,
  blake2b256,
  initHashing,
  messageHash,
  sha256,
  sha256EntriesInto,
  sha256LeavesInto,
  sha256ParentsInto,
  sha256RootInto,
  toBase64NoPad,
} from "./hash.js";
export {
  KEY_FILE_BYTES,
  KEY_FILE_LAYOUT,
  KEY_FILE_MAGIC,
  KEY_FILE_MAX_READ_BYTES,
  KEY_FILE_V1,
  KEY_FILE_V1_BYTES,
  KEY_FILE_VERSION,
  decodeKeyFile,
  deriveNodeId,
  encodeKeyFile,
  generateIdentity,
  loadOrCreateIdentity,
  type DecodeKeyFileOptions,
  type IdentitySeeds,
  type KeyFileField,
  type LoadedIdentity,
  type NodeIdentity,
} from "./identity.js";
export * from "./interface.js";
export {loadOrCreateNodeKeys, readNodeKeys, type LoadedNodeKeys, type NodeKeyPaths} from "./node-keys.js";
export {LruCache} from "./lru-cache.js";
export {
  TLS_PIN_HEX_CHARS,
  TLS_PIN_MISMATCH,
  TLS_PIN_UNKNOWN,
  TlsPinError,
  isTlsPin,
  pinnedConnector,
  spkiSha256,
  spkiSha256OfKey,
  type PinnedConnectOptions,
  type TlsPinLookup,
} from "./tls-pin.js";
export {
  LIBOQS_DELEGATED_TO_NOBLE,
  ML_DSA65_SEED_BYTES,
  ML_DSA_MAX_CONTEXT_BYTES,
  ML_KEM768_ENCAPS_SEED_BYTES,
  ML_KEM768_SEED_BYTES,
  checkMlDsa65KeyPair,
  checkMlKem768KeyPair,
  createLiboqsBackend,
  crossCheckPqBackend,
  loadPqBackend,
  mlDsa65SecretKeyInRange,
  nobleBackend,
  type KeyCheckFailure,
  type LoadPqBackendOptions,
} from "./pq/index.js";
export {
  X25519_SECRET_KEY_BYTES,
  X25519_SHARED_SECRET_BYTES,
  x25519KeyPair,
  x25519PublicKey,
  x25519SharedSecret,
} from "./x25519.js";
export {EMPTY_ROOT, NODE_BYTES, leafHash, nodeHash, pathFromLevels, rootFromPath, rootOf, treeLevels} from "./merkle.js";
