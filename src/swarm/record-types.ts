/**
 * Types, limits and error codes of the signed node record (see docs/PROTOCOL.md (Swarms)).
 *
 * Three shapes:
 *   - `NodeRecordFields`: what an operator signs, decoded (bytes, bigint amounts);
 *   - `NodeRecordJson`: the wire form inside the registry document (base64, decimal strings);
 *   - `NodeRecord`: a verified record, decoded, with its nodeId, signature and total stake.
 */
import {ParsError} from "../util/index.js";

/** Layout version, the first byte of the signing payload: v1 without, v2 with the X25519 onion key. */
export const NODE_RECORD_PAYLOAD_VERSION = 1;
export const NODE_RECORD_PAYLOAD_VERSION_X25519 = 2;
/** Length of the optional X25519 onion-hop public key. */
export const NODE_RECORD_X25519_BYTES = 32;
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
