import {isHex} from "./encoding.js";

/**
 * A user account ("user pubkey"): one network/type prefix byte and 32 key bytes. The prefix is part
 * of the account's identity (Session accepts any prefix). Prefixes with meaning here:
 * 05 Session ID (X25519, signs with a separate Ed25519 key), 03 closed group (Ed25519),
 * 07 Pars post-quantum account (hash of ML-KEM-768 ‖ ML-DSA-65 public keys; see docs/PROTOCOL.md).
 */
export interface Account {
  prefix: number;
  /** The 32 key bytes. */
  key: Buffer;
  /** 66-char lowercase hex of prefix ‖ key: the canonical account string (storage, hashes, swarms). */
  hex: string;
  /** prefix ‖ key, 33 bytes. */
  bytes: Buffer;
}

export const ACCOUNT_PREFIX_SESSION = 0x05;
export const ACCOUNT_PREFIX_GROUP = 0x03;
export const ACCOUNT_PREFIX_PQ = 0x07;

/**
 * Parses an account as Session does: 66 hex digits, or a 33-byte raw string. Returns null for
 * anything else (the caller picks the error text, which differs between methods).
 */
export function parseAccount(value: string): Account | null {
  let bytes: Buffer;
  if (value.length === 66 && isHex(value)) {
    bytes = Buffer.from(value, "hex");
  } else {
    const raw = Buffer.from(value, "latin1");
    if (value.length !== 33 || Buffer.from(value, "utf8").length !== 33) return null;
    bytes = raw;
  }
  return accountFromBytes(bytes);
}

export function accountFromBytes(bytes: Buffer): Account {
  return {prefix: bytes[0] ?? 0, key: bytes.subarray(1, 33), hex: bytes.toString("hex"), bytes};
}
