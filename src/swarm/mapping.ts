/**
 * PIP-0008 swarm mapping, exactly as the PIP's Go code writes it (§3.1, §3.3):
 *
 *   swarmCount(n)      = 1 if n < 3 else ceil(n / 5)
 *   nodeSwarm(pk, c)   = BE-u64(SHA-256(ML-DSA-65 public key)[0..8]) mod c
 *   userSwarm(id, c)   = BE-u64(SHA-256(UTF-8 bytes of the account ID string)[0..8]) mod c
 *
 * Swarm IDs are `bigint` in 0..count-1 (they come from a u64). On the wire a swarm ID is written
 * the way Session writes it (`util::int_to_string(swarm_id, 16)`): lowercase hex, no `0x`, no
 * zero padding ("0", "1a"). Session's "no swarm" value is `ffffffffffffffff` (2^64 - 1); our IDs
 * are always < count <= 2^53, so the sentinel can never collide with a real swarm.
 */
import {createHash} from "node:crypto";
import {InvalidArgumentError} from "../util/index.js";

/** PIP-0008 §3.3 `MinNodesPerSwarm`. */
export const MIN_NODES_PER_SWARM = 3;
/** PIP-0008 §3.3 `MaxNodesPerSwarm`. */
export const MAX_NODES_PER_SWARM = 10;
/** PIP-0008 §3.3 `TargetNodesPerSwarm`. */
export const TARGET_NODES_PER_SWARM = 5;
/** Session's `INVALID_SWARM_ID`: answered as `swarm` when no swarm is known. */
export const NO_SWARM_ID = 2n ** 64n - 1n;
/** Account IDs are a 1-byte prefix (`05`, `07`, ...) plus 32 bytes, as 66 hex characters. */
export const ACCOUNT_ID_HEX_CHARS = 66;

const ACCOUNT_ID_RE = /^[0-9a-fA-F]{66}$/;
const SWARM_ID_WIRE_RE = /^(0|[1-9a-f][0-9a-f]{0,15})$/;

/** PIP-0008 §3.3 `calculateSwarmCount`: 1 below 3 nodes, else ceil(n / 5). */
export function swarmCount(nodeCount: number): number {
  if (!Number.isSafeInteger(nodeCount) || nodeCount < 0) {
    throw new InvalidArgumentError(`nodeCount must be a non-negative safe integer, got ${nodeCount}`);
  }
  if (nodeCount < MIN_NODES_PER_SWARM) return 1;
  return Math.ceil(nodeCount / TARGET_NODES_PER_SWARM);
}

/** BE-u64 of the first 8 bytes of SHA-256(bytes). */
export function sha256Prefix64(bytes: Uint8Array): bigint {
  const digest = createHash("sha256").update(bytes).digest();
  return digest.readBigUInt64BE(0);
}

/** PIP-0008 §3.1 `calculateSwarmID` over the node's 1952-byte ML-DSA-65 public key. */
export function nodeSwarm(mlDsaPublicKey: Uint8Array, count: number): bigint {
  return sha256Prefix64(mlDsaPublicKey) % checkedCount(count);
}

/**
 * PIP-0008 §3.1 `userToSwarm`. The PIP hashes the account ID *string*, so the prefix (`05`
 * Session X25519, `07` Pars PQ, `03` groups, ...) is part of the hashed bytes. The string is
 * first normalised to lowercase so `05AB…` and `05ab…` land in the same swarm; anything that is
 * not 66 hex characters is rejected (the RPC layer must normalise testnet 64-char keys first).
 */
export function userSwarm(accountId: string, count: number): bigint {
  const normalised = normaliseAccountId(accountId);
  return sha256Prefix64(new TextEncoder().encode(normalised)) % checkedCount(count);
}

/** Lowercases a 66-hex-char account ID; throws INVALID_ARGUMENT otherwise. */
export function normaliseAccountId(accountId: string): string {
  if (!ACCOUNT_ID_RE.test(accountId)) {
    throw new InvalidArgumentError(`account ID must be ${ACCOUNT_ID_HEX_CHARS} hex characters`);
  }
  return accountId.toLowerCase();
}

/** Session's wire form of a swarm ID: lowercase hex, no `0x`, no padding. */
export function swarmIdToWire(swarmId: bigint): string {
  if (swarmId < 0n || swarmId > NO_SWARM_ID) {
    throw new InvalidArgumentError(`swarm ID out of u64 range: ${swarmId}`);
  }
  return swarmId.toString(16);
}

/** Inverse of `swarmIdToWire`; returns null for anything that is not canonical u64 hex. */
export function swarmIdFromWire(text: string): bigint | null {
  if (!SWARM_ID_WIRE_RE.test(text)) return null;
  return BigInt(`0x${text}`);
}

function checkedCount(count: number): bigint {
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new InvalidArgumentError(`swarm count must be a positive safe integer, got ${count}`);
  }
  return BigInt(count);
}
