/**
 * The reward claim message (docs/PROTOCOL.md (Rewards) §5): what every node's BLS claim signature
 * covers, built by the node (rewards/) and rebuilt and checked by the client library (client/), so
 * it is defined once, here. The signature is crypto/bls.ts's `blsSign` (luxd's ciphersuite, min-pk)
 * over these bytes. Fixed layout, big-endian:
 *
 *   tag "pars-rewards/v1/claim" (21 bytes ASCII) ‖ networkId u32 ‖ address length u8 ‖
 *   address (ASCII, lowercase) ‖ cumulative amount u256 (base units) ‖ expiry u64 (Unix ms)
 */

export const CLAIM_MESSAGE_TAG = "pars-rewards/v1/claim";

/** Longest claim address: the node record's stake-address limit. */
export const CLAIM_ADDRESS_MAX_CHARS = 128;
const U256_MAX = (1n << 256n) - 1n;
const TAG_BYTES = new TextEncoder().encode(CLAIM_MESSAGE_TAG);
// Printable ASCII without space: what a node record accepts as a stake address.
const ADDRESS_RE = /^[\x21-\x7e]+$/;

export interface ClaimMessage {
  readonly networkId: number;
  /** Lowercase (hex and bech32 addresses are case-insensitive; one spelling signs one message). */
  readonly address: string;
  /** Cumulative base units earned by `address` up to the newest final epoch. */
  readonly amount: bigint;
  /** Unix ms after which the signature is void (PIP-0008 §2.3 signatureExpiry). */
  readonly expiryMs: number;
}

/** The canonical spelling of a claim address, or null when it cannot be one. */
export function normalizeClaimAddress(address: string): string | null {
  if (address.length === 0 || address.length > CLAIM_ADDRESS_MAX_CHARS || !ADDRESS_RE.test(address)) return null;
  return address.toLowerCase();
}

export function encodeClaimMessage(m: ClaimMessage): Uint8Array {
  if (!Number.isInteger(m.networkId) || m.networkId < 0 || m.networkId > 0xffff_ffff) throw new RangeError("networkId must be a u32");
  if (normalizeClaimAddress(m.address) !== m.address) throw new RangeError("address must be a normalized claim address");
  if (m.amount < 0n || m.amount > U256_MAX) throw new RangeError("amount must be a u256");
  if (!Number.isSafeInteger(m.expiryMs) || m.expiryMs < 0) throw new RangeError("expiryMs must be a non-negative safe integer");
  const address = new TextEncoder().encode(m.address);
  const out = new Uint8Array(TAG_BYTES.length + 4 + 1 + address.length + 32 + 8);
  const view = new DataView(out.buffer);
  let at = 0;
  out.set(TAG_BYTES, at);
  at += TAG_BYTES.length;
  view.setUint32(at, m.networkId);
  at += 4;
  out[at++] = address.length;
  out.set(address, at);
  at += address.length;
  for (let i = 31; i >= 0; i--) out[at + i] = Number((m.amount >> BigInt(8 * (31 - i))) & 0xffn);
  at += 32;
  view.setBigUint64(at, BigInt(m.expiryMs));
  return out;
}

/** Decodes a claim message; null if it is not exactly one. */
export function decodeClaimMessage(bytes: Uint8Array): ClaimMessage | null {
  const fixed = TAG_BYTES.length + 4 + 1 + 32 + 8;
  if (bytes.length < fixed + 1) return null;
  for (let i = 0; i < TAG_BYTES.length; i++) if (bytes[i] !== TAG_BYTES[i]) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = TAG_BYTES.length;
  const networkId = view.getUint32(at);
  at += 4;
  const length = bytes[at++] ?? 0;
  if (bytes.length !== fixed + length) return null;
  const address = new TextDecoder().decode(bytes.subarray(at, at + length));
  if (normalizeClaimAddress(address) !== address) return null;
  at += length;
  let amount = 0n;
  for (let i = 0; i < 32; i++) amount = (amount << 8n) | BigInt(bytes[at + i] ?? 0);
  at += 32;
  const expiry = view.getBigUint64(at);
  if (expiry > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  return {networkId, address, amount, expiryMs: Number(expiry)};
}
