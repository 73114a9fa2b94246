/**
 * Sizes of the identifiers every part of the protocol shares (docs/PROTOCOL.md, identity and
 * accounts): a node ID is BLAKE2b-256(ML-KEM-768 pk ‖ ML-DSA-65 pk), an account is its prefix byte
 * and 32 key bytes.
 */
export const NODE_ID_BYTES = 32;
export const NODE_ID_HEX_CHARS = 2 * NODE_ID_BYTES;
export const ACCOUNT_BYTES = 33;
