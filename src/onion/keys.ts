/**
 * Where the layer keys come from: a node's loaded identity (node side) and a published snode
 * entry or `/network/v1/nodes` entry (client side). Both refuse what cannot be an onion hop.
 */
import {ML_KEM768_PUBLIC_KEY_BYTES, X25519_PUBLIC_KEY_BYTES, type KeyPair} from "../crypto/index.js";
import {decodeFixedBase64} from "../protocol/index.js";
import {InvalidArgumentError} from "../util/index.js";
import type {HopPublicKeys, OnionSecretKeys} from "./layer.js";

const NODE_ID_RE = /^[0-9a-f]{64}$/;
const X25519_HEX_RE = new RegExp(`^[0-9a-f]{${2 * X25519_PUBLIC_KEY_BYTES}}$`);

/** The secret keys `openLayer` needs, from a node identity; throws when it has no X25519 key (a PQID v1 file). */
export function onionSecretKeys(identity: {nodeId: string; mlKem: KeyPair; x25519?: KeyPair | undefined}): OnionSecretKeys {
  if (identity.x25519 === undefined) {
    throw new InvalidArgumentError("onionSecretKeys: the identity has no X25519 key (loadOrCreateIdentity adds one)");
  }
  return {nodeId: identity.nodeId, x25519Secret: identity.x25519.secretKey, mlKemSecret: identity.mlKem.secretKey};
}

/**
 * A hop from a `get_swarm`/421 snode entry or a `/network/v1/nodes` entry (`node_id`,
 * `pubkey_mlkem` base64, `pubkey_x25519` hex); null when the entry lacks a usable key (a node whose
 * record predates onion keys). Takes the fields as published, so the caller need not trust types.
 */
export function hopFromEntry(entry: {node_id?: unknown; pubkey_mlkem?: unknown; pubkey_x25519?: unknown}): HopPublicKeys | null {
  const {node_id: nodeId, pubkey_mlkem: mlKem, pubkey_x25519: x25519} = entry;
  if (typeof nodeId !== "string" || !NODE_ID_RE.test(nodeId)) return null;
  if (typeof x25519 !== "string" || !X25519_HEX_RE.test(x25519)) return null;
  const kem = typeof mlKem === "string" ? decodeFixedBase64(mlKem, ML_KEM768_PUBLIC_KEY_BYTES) : null;
  if (kem === null) return null;
  return {nodeId, x25519: new Uint8Array(Buffer.from(x25519, "hex")), mlKem: new Uint8Array(kem)};
}
