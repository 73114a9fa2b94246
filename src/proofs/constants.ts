/**
 * Fixed parameters of the storage-proof protocol (docs/PROTOCOL.md (Storage proofs)). Every value here
 * is part of the wire format: changing one changes every root, so add a new version instead.
 */
import {ACCOUNT_BYTES, NODE_ID_BYTES} from "../protocol/identity.js";
const ascii = (s: string): Buffer => Buffer.from(s, "latin1");

/** Raw message hash length (Session hashes are BLAKE2b-256, sent as 43 chars of unpadded base64). */
export const MESSAGE_HASH_BYTES = 32;
/** Length of a message hash in its wire form. */
export const MESSAGE_HASH_CHARS = 43;
/** SHA-256 output, the size of every tree node. */
export const NODE_BYTES = 32;
/** Accounts are 33 raw bytes: the prefix byte (05, 07, 03, …) and the 32-byte key. */
/** Node IDs (BLAKE2b-256 of the node's keys) as raw bytes. */
/** Challenge nonces. */
export const NONCE_BYTES = 32;

/**
 * Buckets split the message set by the first 18 bits of the raw message hash (three base64
 * characters): ~40 leaves a bucket at a full node's 10 M messages, so an epoch's churn re-hashes
 * small trees instead of nearly every leaf.
 */
export const BUCKET_BITS = 18;
export const BUCKET_COUNT = 1 << BUCKET_BITS;
/** The top tree over 262,144 bucket roots is a perfect tree: every top path has 18 steps. */
export const TOP_PATH_LENGTH = BUCKET_BITS;

/** First bytes of every leaf entry (so a leaf can never be mistaken for another protocol's entry). */
export const LEAF_TAG = ascii("pars-storage/v1/proof-leaf");
/** First bytes hashed into a possession digest. */
export const POSSESSION_TAG = ascii("pars-storage/v1/possession");

/** Version byte opening every signed payload of this chapter. */
export const PAYLOAD_VERSION = 1;

/** Leaf entry: tag ‖ hash 32 ‖ account 33 ‖ namespace i16 ‖ expiry u64 ‖ size u32 ‖ SHA-256(data) 32. */
export const LEAF_ENTRY_BYTES = LEAF_TAG.length + MESSAGE_HASH_BYTES + ACCOUNT_BYTES + 2 + 8 + 4 + NODE_BYTES;
/** StorageProof payload: version ‖ nodeId ‖ swarmId u64 ‖ merkleRoot ‖ messageCount u64 ‖ usedBytes u64 ‖ timestamp u64. */
export const PROOF_PAYLOAD_BYTES = 1 + NODE_ID_BYTES + 8 + NODE_BYTES + 8 + 8 + 8;
/** StorageChallenge payload: version ‖ challengerId ‖ targetId ‖ messageHash ‖ nonce. */
export const CHALLENGE_PAYLOAD_BYTES = 1 + NODE_ID_BYTES + NODE_ID_BYTES + MESSAGE_HASH_BYTES + NONCE_BYTES;

/** Largest message data a leaf can describe (u32 size); Session's limit is far below (76,800 B). */
export const MAX_DATA_BYTES = 0xffff_ffff;
/** Longest bucket path accepted (a bucket of 2^32 leaves); real ones are ~log2(n / 262,144). */
export const MAX_BUCKET_PATH = 32;
