/**
 * The membership as the channel sees it: node ID → registered public keys. The lookup is
 * injected (the swarm module's verified view in production); the keys it returns are re-hashed
 * here, so a lookup bug cannot bind one node's keys to another node's ID (identity misbinding).
 */
import {deriveNodeId} from "../../crypto/index.js";
import {ChannelError} from "./errors.js";

export interface PeerKeys {
  readonly mlDsaPublicKey: Uint8Array;
  readonly mlKemPublicKey: Uint8Array;
}

/** Registered keys of `nodeId`, or null if the node is not in the membership. */
export type PeerLookup = (nodeId: string) => PeerKeys | null;

export const NODE_ID_PATTERN = /^[0-9a-f]{64}$/;

function unknown(peer: string, detail: string): ChannelError {
  return new ChannelError({code: "CHANNEL_ERROR_UNKNOWN_PEER", peer, detail}, `peer ${peer}: ${detail}`);
}

/** The peer's keys; CHANNEL_ERROR_UNKNOWN_PEER if absent or not hashing to `nodeId`. */
export function resolvePeer(lookup: PeerLookup, nodeId: string): PeerKeys {
  const keys = lookup(nodeId);
  if (keys === null) throw unknown(nodeId, "not in the membership");
  let derived: string;
  try {
    derived = deriveNodeId(keys.mlKemPublicKey, keys.mlDsaPublicKey);
  } catch (err) {
    if (err instanceof Error && "code" in err && err.code === "INVALID_ARGUMENT") {
      throw unknown(nodeId, "membership keys have the wrong length");
    }
    throw err;
  }
  if (derived !== nodeId) throw unknown(nodeId, "membership keys do not hash to the node ID");
  return keys;
}

export function nodeIdBytes(nodeId: string): Uint8Array {
  return new Uint8Array(Buffer.from(nodeId, "hex"));
}

export function nodeIdHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}
