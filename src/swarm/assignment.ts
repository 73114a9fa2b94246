/**
 * Node -> swarm assignment in either mode. Both modes use the PIP-0008 swarm count and map users
 * with `userSwarm(account, count)`; they differ only in where nodes go:
 *   - `pip0008` (default): nodeSwarm(pk, count), swarms can be empty or oversized;
 *   - `balanced`: contiguous slices of the key-digest order, 3..5 nodes per swarm when n >= 3.
 */
import {createHash} from "node:crypto";
import {CONFIG_DEFAULTS} from "../config/index.js";
import {InvalidArgumentError} from "../util/index.js";
import {balancedAssignment} from "./balanced.js";
import {swarmCount} from "./mapping.js";

export type SwarmMode = "pip0008" | "balanced";
export const SWARM_MODES: readonly SwarmMode[] = ["pip0008", "balanced"];
/** The config setting `swarm.mode` (its default is the schema's). */
export const DEFAULT_SWARM_MODE: SwarmMode = CONFIG_DEFAULTS.swarm.mode;

/** The part of a node record the assignment depends on. */
export interface SwarmMember {
  /** Lowercase hex node ID; unique within a membership list. */
  readonly nodeId: string;
  /** FIPS 204 ML-DSA-65 public key (1952 bytes); unique within a membership list. */
  readonly mlDsaPublicKey: Uint8Array;
}

export interface SwarmAssignment {
  readonly mode: SwarmMode;
  readonly count: number;
  /** nodeId -> swarm ID in 0..count-1; every member is present. */
  readonly swarmOf: ReadonlyMap<string, bigint>;
}

/**
 * Assigns every member to a swarm. Throws INVALID_ARGUMENT on a duplicated node ID or ML-DSA key
 * (the membership parser removes those first; a duplicate here is a caller bug).
 */
export function assignSwarms(members: readonly SwarmMember[], mode: SwarmMode): SwarmAssignment {
  const count = swarmCount(members.length);
  const digests = digestMembers(members);
  if (mode === "balanced") {
    return {mode, count, swarmOf: balancedAssignment(digests, count)};
  }
  if (mode !== "pip0008") throw new InvalidArgumentError(`unknown swarm mode ${String(mode)}`);
  const swarmOf = new Map<string, bigint>();
  const bigCount = BigInt(count);
  for (const {nodeId, keyDigestHex} of digests) {
    // Same value as nodeSwarm(pk, count): BE-u64 of the first 8 digest bytes, mod count.
    swarmOf.set(nodeId, BigInt(`0x${keyDigestHex.slice(0, 16)}`) % bigCount);
  }
  return {mode, count, swarmOf};
}

function digestMembers(members: readonly SwarmMember[]): Array<{nodeId: string; keyDigestHex: string}> {
  const seenIds = new Set<string>();
  const seenKeys = new Set<string>();
  return members.map(({nodeId, mlDsaPublicKey}) => {
    const keyDigestHex = createHash("sha256").update(mlDsaPublicKey).digest("hex");
    if (seenIds.has(nodeId)) throw new InvalidArgumentError(`duplicate node ID ${nodeId}`);
    if (seenKeys.has(keyDigestHex)) throw new InvalidArgumentError(`duplicate ML-DSA key (node ${nodeId})`);
    seenIds.add(nodeId);
    seenKeys.add(keyDigestHex);
    return {nodeId, keyDigestHex};
  });
}
