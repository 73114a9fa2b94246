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
  /**
   * Response batch headers (src/receipts/response-signer.ts), the 76-byte header alone. They once
   * used the empty context with this string as a message prefix, the one exception to "every
   * signature has a context"; liboqs now signs contexts as fast, so the exception is gone.
   */
  RESPONSE_BATCH: enc("pars-storage/v1/response-batch"),
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
  /** A node's epoch report (fees charged, challenge verdicts) for reward accounting (rewards/report.ts). */
  EPOCH_REPORT: enc("pars-storage/v1/epoch-report"),
} as const;

export type ContextName = keyof typeof CTX;
