/**
 * One node as listed in `get_swarm` / 421 bodies (`{"snodes": [SnodeEntry…], "swarm": "<hex>"}`),
 * Session's field set with the Ed25519/X25519 keys replaced by the PQ ones (docs/PROTOCOL.md,
 * Swarms, "get_swarm / 421 snode entries"). `t`/`hf` and the `swarm` string (`swarmIdToWire`) are added by rpc/.
 */

import {toBase64, toHex} from "../protocol/index.js";
import type {NodeRecord} from "./record-types.js";

export interface SnodeEntry {
  /** Lowercase hex BLAKE2b-256(ML-KEM pk ‖ ML-DSA pk): the node's short ID (map keys, `swarm` maps). */
  node_id: string;
  /** Base64 ML-DSA-65 public key (1952 B): verifies the node's response signatures. */
  pubkey_mldsa: string;
  /** Base64 ML-KEM-768 encapsulation key (1184 B): onion/channel encryption to the node. */
  pubkey_mlkem: string;
  /** Hex X25519 onion-hop key (32 B), Session's field and encoding; absent when the record has none. */
  pubkey_x25519?: string;
  /** The record's host: an IPv4 address or a host name. */
  ip: string;
  /** HTTPS port as a string (Session quirk, deprecated upstream but still read by clients). */
  port: string;
  /** HTTPS port as an integer. */
  port_https: number;
}

export function toSnodeEntry(record: NodeRecord): SnodeEntry {
  return {
    node_id: record.nodeId,
    pubkey_mldsa: toBase64(record.mlDsaPublicKey),
    pubkey_mlkem: toBase64(record.mlKemPublicKey),
    ...(record.x25519PublicKey === undefined ? {} : {pubkey_x25519: toHex(record.x25519PublicKey)}),
    ip: record.host,
    port: String(record.port),
    port_https: record.port,
  };
}
