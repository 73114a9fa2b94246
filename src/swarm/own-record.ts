/**
 * This node's own record: the fields an operator publishes (docs/PROTOCOL.md Swarms §3), built from
 * the identity and the configured host, port and stake, then signed with the node's ML-DSA key.
 * Used by `pars-storage record` and the devnet; the running node only reads others' records.
 */
import {blsProofOfPossession, type BlsKeyPair, type KeyPair, type PqBackend} from "../crypto/index.js";
import {InvalidArgumentError} from "../util/index.js";
import {signNodeRecord} from "./node-record.js";
import type {NodeRecordFields, NodeRecordJson, NodeVersion} from "./record-types.js";

/** A stake share as configured: the amount is a decimal string of base units. */
export interface StakeShareConfig {
  readonly address: string;
  readonly amount: string;
}

export interface OwnRecordInput {
  readonly networkId: number;
  /** `x25519` (the onion-hop key) is published whenever the identity has one. */
  readonly identity: {readonly mlDsa: KeyPair; readonly mlKem: KeyPair; readonly x25519?: KeyPair | undefined};
  /** The BLS key (`staking/signer.key`): published with its proof of possession when given. */
  readonly bls?: BlsKeyPair | null;
  /** The TLS pin (64 hex, SHA-256 of the certificate's SPKI) when the node serves HTTPS; else null/absent. */
  readonly tlsSpkiSha256?: string | null;
  readonly host: string;
  readonly port: number;
  readonly stake: {readonly operator: StakeShareConfig; readonly contributors: readonly StakeShareConfig[]};
  /** Software version, `major.minor.patch` (a pre-release suffix is ignored). */
  readonly version: string;
  readonly timestampMs: number;
}

/** The record fields; throws INVALID_ARGUMENT for a bad version or amount. */
export function ownRecordFields(input: OwnRecordInput): NodeRecordFields {
  const share = (s: StakeShareConfig): {address: string; amount: bigint} => ({address: s.address, amount: parseAmount(s.amount)});
  return {
    networkId: input.networkId,
    mlDsaPublicKey: input.identity.mlDsa.publicKey,
    mlKemPublicKey: input.identity.mlKem.publicKey,
    ...(input.identity.x25519 === undefined ? {} : {x25519PublicKey: input.identity.x25519.publicKey}),
    ...(typeof input.tlsSpkiSha256 === "string" ? {tlsSpkiSha256: parsePin(input.tlsSpkiSha256)} : {}),
    ...(input.bls === undefined || input.bls === null
      ? {}
      : {blsPublicKey: input.bls.publicKey, blsProofOfPossession: blsProofOfPossession(input.bls.secretKey)}),
    host: input.host,
    port: input.port,
    stake: {operator: share(input.stake.operator), contributors: input.stake.contributors.map(share)},
    version: parseVersion(input.version),
    timestamp: input.timestampMs,
  };
}

/** Signs `ownRecordFields(input)`; throws INVALID_ARGUMENT if a field breaks the record rules. */
export function signOwnRecord(input: OwnRecordInput, backend: PqBackend): NodeRecordJson {
  return signNodeRecord(ownRecordFields(input), input.identity.mlDsa.secretKey, backend);
}

/** `"1.2.3"` or `"1.2.3-rc.1"` → `[1, 2, 3]`. */
export function parseVersion(text: string): NodeVersion {
  const match = /^(\d{1,5})\.(\d{1,5})\.(\d{1,5})(?:[-+].*)?$/.exec(text);
  const parts = match === null ? [] : [Number(match[1]), Number(match[2]), Number(match[3])];
  const [major, minor, patch] = parts;
  if (major === undefined || minor === undefined || patch === undefined || parts.some((n) => n > 0xffff)) {
    throw new InvalidArgumentError(`version must be major.minor.patch with parts <= 65535, got ${JSON.stringify(text)}`);
  }
  return [major, minor, patch];
}

function parsePin(hex: string): Uint8Array {
  if (!/^[0-9a-f]{64}$/.test(hex)) throw new InvalidArgumentError(`TLS pin must be 64 lowercase hex characters, got ${JSON.stringify(hex)}`);
  return new Uint8Array(Buffer.from(hex, "hex"));
}

function parseAmount(text: string): bigint {
  if (!/^(0|[1-9][0-9]*)$/.test(text)) {
    throw new InvalidArgumentError(`stake amount must be a decimal string of base units, got ${JSON.stringify(text)}`);
  }
  return BigInt(text);
}
