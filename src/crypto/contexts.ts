/**
 * FIPS 204 context strings. Every ML-DSA-65 signature in the Pars storage protocol is made with
 * exactly one of these, so a signature made for one purpose can never be replayed as another.
 * They are part of the wire protocol: see docs/PROTOCOL.md. Never change one in place; add a v2.
 */
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

export const CTX = {
  /** `07` accounts signing client RPC requests (same message strings as Session's Ed25519 ones). */
  REQUEST_AUTH: enc("pars-storage/v1/request"),
  /** `07` accounts signing a 36-byte subaccount token (instead of Session's Ed25519 token sig). */
  SUBACCOUNT_TOKEN: enc("pars-storage/v1/subaccount"),
  /** Node record published in the membership (swarms). */
  NODE_RECORD: enc("pars-storage/v1/node-record"),
  /** Peer channel handshake transcripts (replication). */
  CHANNEL_HANDSHAKE: enc("pars-storage/v1/channel"),
  /** StorageProof (PIP-0008 §3.4). */
  STORAGE_PROOF: enc("pars-storage/v1/storage-proof"),
  /** StorageChallenge (PIP-0008 §3.4) signed by the challenger. */
  STORAGE_CHALLENGE: enc("pars-storage/v1/storage-challenge"),
  /** Answer to a StorageChallenge signed by the target. */
  CHALLENGE_ANSWER: enc("pars-storage/v1/challenge-answer"),
  /** A relaying node's header on an onion request it forwards to the next hop (onion-relay/relay-auth.ts). */
  ONION_RELAY: enc("pars-storage/v1/onion-relay"),
} as const;

export type ContextName = keyof typeof CTX;

/**
 * The one node signature made with the EMPTY FIPS 204 context: response batch headers, signed as
 * `RESPONSE_BATCH_TAG ‖ header` (tag 30 bytes, header 76 bytes). It was chosen when liboqs could
 * sign only with the empty context (~15x faster than noble with one); liboqs now signs contexts as
 * fast (pq/liboqs-context.ts), but this is wire format and stays. Domain separation still holds: FIPS 204 signs M' = 0x00 ‖ len(ctx) ‖ ctx ‖ M, so an
 * empty-context signature (second byte 0x00) never matches any context-bound signature above, and
 * among empty-context messages this node signs only tag-prefixed, fixed-length batch headers.
 */
export const RESPONSE_BATCH_TAG = enc("pars-storage/v1/response-batch");
export const EMPTY_CONTEXT = new Uint8Array(0);
