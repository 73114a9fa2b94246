import {ParsError} from "../util/index.js";

/**
 * Failures of the replication layer above the channel. Match on `err.code`:
 * - `REPLICATION_ERROR_BAD_MESSAGE`: a peer message (request or reply) does not follow the v1
 *   format of docs/PROTOCOL.md (Replication) §3 (the sender is at fault).
 * - `REPLICATION_ERROR_PEER_REFUSED`: the peer answered with an `error` message (`peerCode`).
 * - `REPLICATION_ERROR_NOT_IN_SWARM`: anti-entropy asked by a node that is not in our swarm.
 * A peer that answers an HTTP status instead of a sealed reply, or a node not in our membership,
 * is a PeerClientError of peer/ (PEER_CLIENT_ERROR_STATUS, PEER_CLIENT_ERROR_UNKNOWN_PEER).
 */
export type ReplicationErrorType =
  | {code: "REPLICATION_ERROR_BAD_MESSAGE"; detail: string}
  | {code: "REPLICATION_ERROR_PEER_REFUSED"; peer: string; peerCode: string}
  | {code: "REPLICATION_ERROR_NOT_IN_SWARM"; peer: string; swarm: string};

export class ReplicationError extends ParsError<ReplicationErrorType> {
  constructor(type: ReplicationErrorType, message?: string, cause?: unknown) {
    super(type, message);
    this.name = "ReplicationError";
    if (cause !== undefined) this.cause = cause;
  }
}

export function badMessage(detail: string): ReplicationError {
  return new ReplicationError({code: "REPLICATION_ERROR_BAD_MESSAGE", detail}, `bad peer message: ${detail}`);
}

/** Error codes a node puts in an `error` reply (the `code` field). */
export const PEER_ERROR = {
  /** The request does not parse (REPLICATION_ERROR_BAD_MESSAGE on our side). */
  BAD_MESSAGE: "bad_message",
  /** Anti-entropy from a node that is not in our swarm (as our membership sees it). */
  NOT_IN_SWARM: "not_in_swarm",
  /** Storage refused the write (full, closed). */
  STORAGE: "storage",
  /** A storage-proof message to a node that does not run storage proofs. */
  NO_PROOFS: "no_proofs",
  /** Anything else. */
  INTERNAL: "internal",
} as const;
