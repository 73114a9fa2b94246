/**
 * Types, limits and error codes of the signed node record (see docs/PROTOCOL.md (Swarms)).
 *
 * Three shapes:
 *   - `NodeRecordFields`: what an operator signs, decoded (bytes, bigint amounts);
 *   - `NodeRecordJson`: the wire form inside the registry document (base64, decimal strings);
 *   - `NodeRecord`: a verified record, decoded, with its nodeId, signature and total stake.
 */
import {ParsError} from "../util/index.js";

/**
 * Layout version, the first byte of the signing payload: v1 without, v2 with the X25519 onion key,
 * v3 with the X25519 key and the TLS pin (an HTTPS node); v4 is v2 and v5 is v3 plus the BLS key
 * and its proof of possession.
 */
export const NODE_RECORD_PAYLOAD_VERSION = 1;
export const NODE_RECORD_PAYLOAD_VERSION_X25519 = 2;
export const NODE_RECORD_PAYLOAD_VERSION_TLS = 3;
export const NODE_RECORD_PAYLOAD_VERSION_BLS = 4;
export const NODE_RECORD_PAYLOAD_VERSION_TLS_BLS = 5;
/** BLS12-381 public key (compressed G1) and proof of possession (compressed G2), crypto/bls.ts. */
export const NODE_RECORD_BLS_PUBLIC_KEY_BYTES = 48;
export const NODE_RECORD_BLS_POP_BYTES = 96;
/** Length of the optional X25519 onion-hop public key. */
export const NODE_RECORD_X25519_BYTES = 32;
/** Length of the optional TLS pin: SHA-256 of the certificate's SubjectPublicKeyInfo DER. */
export const NODE_RECORD_TLS_PIN_BYTES = 32;
/** Longest host name (RFC 1123, without trailing dot). */
export const NODE_RECORD_MAX_HOST_CHARS = 253;
/** Longest stake address; addresses are printable ASCII without spaces (format checked by economics). */
export const NODE_RECORD_MAX_ADDRESS_CHARS = 128;
/** Structural cap (the u8 count in the payload); PIP-0008 §2.2 maxContributors = 10 is economics' rule. */
export const NODE_RECORD_MAX_CONTRIBUTORS = 255;
/** Amounts are u256 base units (32 bytes big-endian in the payload, decimal strings in JSON). */
export const NODE_RECORD_MAX_AMOUNT = 2n ** 256n - 1n;
/** Records timestamped further ahead of our clock than this are rejected (clock skew allowance). */
export const NODE_RECORD_MAX_FUTURE_SKEW_MS = 5 * 60_000;

export interface StakeShare {
  readonly address: string;
  /** Base units (u256). */
  readonly amount: bigint;
}

/** Same shape as economics' `checkStakeEligibility` input (PIP-0008 §2.2). */
export interface NodeStake {
  readonly operator: StakeShare;
  readonly contributors: readonly StakeShare[];
}

export type NodeVersion = readonly [major: number, minor: number, patch: number];

export interface NodeRecordFields {
  /** Pars network ID (7070 mainnet, 7071 testnet, 7072 devnet); binds the record to one network. */
  readonly networkId: number;
  /** FIPS 204 ML-DSA-65 public key, 1952 bytes: the node's identity and signing key. */
  readonly mlDsaPublicKey: Uint8Array;
  /** FIPS 203 ML-KEM-768 encapsulation key, 1184 bytes: the node's channel key. */
  readonly mlKemPublicKey: Uint8Array;
  /**
   * X25519 public key, 32 bytes: the node's static onion-hop key (src/onion/). Always written by
   * nodes since onion requests; absent in older records, which then sign payload v1.
   */
  readonly x25519PublicKey?: Uint8Array;
  /**
   * Present when the node serves HTTPS on `port`: SHA-256 of its TLS certificate's
   * SubjectPublicKeyInfo (DER), 32 bytes. Clients and peers pin it instead of trusting a CA.
   * Needs `x25519PublicKey` (payload v3); absent = plain HTTP.
   */
  readonly tlsSpkiSha256?: Uint8Array;
  /**
   * The node's BLS key (`staking/signer.key`, 48 bytes) and its proof of possession (96 bytes):
   * both or neither. It verifies the node's penalty reports and reward claims; the proof of
   * possession is what makes aggregating such signatures safe. Needs `x25519PublicKey` (payload v4/v5).
   */
  readonly blsPublicKey?: Uint8Array;
  readonly blsProofOfPossession?: Uint8Array;
  /** Public IPv4 address (dotted quad) or lowercase DNS host name. */
  readonly host: string;
  /** HTTP(S) storage RPC port. */
  readonly port: number;
  readonly stake: NodeStake;
  readonly version: NodeVersion;
  /** Unix ms when the record was signed; a newer record of the same node replaces an older one. */
  readonly timestamp: number;
}

export interface NodeRecord extends NodeRecordFields {
  /** Lowercase hex BLAKE2b-256(mlKemPublicKey ‖ mlDsaPublicKey). */
  readonly nodeId: string;
  /** ML-DSA-65 signature (3309 bytes) over the payload, context CTX.NODE_RECORD. */
  readonly signature: Uint8Array;
  /** operator.amount + sum(contributors.amount), as computed by economics. */
  readonly totalStake: bigint;
}

export interface StakeShareJson {
  address: string;
  /** Decimal string of base units, no sign, no leading zeros. */
  amount: string;
}

/** Wire form (JSON) of a signed node record. */
export interface NodeRecordJson {
  networkId: number;
  nodeId: string;
  mlDsaPublicKey: string;
  mlKemPublicKey: string;
  /** 64 lowercase hex chars; optional (older records). */
  x25519PublicKey?: string;
  /** Present when the node serves HTTPS: `spkiSha256` is 64 lowercase hex chars (the pin). */
  tls?: {spkiSha256: string};
  /** Present in records of nodes with a BLS key: 96 and 192 lowercase hex chars. */
  bls?: {publicKey: string; proofOfPossession: string};
  host: string;
  port: number;
  stake: {operator: StakeShareJson; contributors: StakeShareJson[]};
  version: [number, number, number];
  timestamp: number;
  signature: string;
}

export type NodeRecordErrorCode =
  | "NODE_RECORD_ERROR_MALFORMED"
  | "NODE_RECORD_ERROR_BAD_ENCODING"
  | "NODE_RECORD_ERROR_BAD_LENGTH"
  | "NODE_RECORD_ERROR_NODE_ID_MISMATCH"
  | "NODE_RECORD_ERROR_WRONG_NETWORK"
  | "NODE_RECORD_ERROR_STALE"
  | "NODE_RECORD_ERROR_FROM_FUTURE"
  | "NODE_RECORD_ERROR_STAKE_INELIGIBLE"
  | "NODE_RECORD_ERROR_BAD_SIGNATURE"
  | "NODE_RECORD_ERROR_BAD_PROOF_OF_POSSESSION"
  | "NODE_RECORD_ERROR_SUPERSEDED";

/** Why a record was not accepted. Records come from peers/registries: callers log and drop. */
export class NodeRecordError extends ParsError<{code: NodeRecordErrorCode}> {
  constructor(code: NodeRecordErrorCode, message: string) {
    super({code}, message);
    this.name = "NodeRecordError";
  }
}

export type NodeRecordResult =
  | {readonly ok: true; readonly record: NodeRecord}
  | {readonly ok: false; readonly code: NodeRecordErrorCode; readonly reason: string};
