import {ParsError} from "../util/errors.js";

/**
 * Errors of the storage-proof module. Peer- or auditor-caused problems (`MALFORMED`,
 * `BAD_SIGNATURE`, `WRONG_TARGET`, `UNKNOWN_CHALLENGER`, `NOT_SWARM_PEER`) are answered with 403
 * (400 for `MALFORMED`) by the HTTP route, `STALE` (a pushed proof not newer than the one held) with
 * 409; `NOT_READY` and `BUSY` with 503, `RATE_LIMITED` with 429 (src/api/http/routes/proofs.ts).
 */
export type ProofErrorCode =
  | "PROOF_ERROR_MALFORMED"
  | "PROOF_ERROR_BAD_SIGNATURE"
  | "PROOF_ERROR_WRONG_TARGET"
  | "PROOF_ERROR_UNKNOWN_CHALLENGER"
  | "PROOF_ERROR_NOT_SWARM_PEER"
  | "PROOF_ERROR_STALE"
  | "PROOF_ERROR_NOT_READY"
  | "PROOF_ERROR_BUSY"
  | "PROOF_ERROR_RATE_LIMITED"
  | "PROOF_ERROR_TRANSPORT"
  | "PROOF_ERROR_CLOSED";

export type ProofErrorType = {code: ProofErrorCode; field?: string};

export class ProofError extends ParsError<ProofErrorType> {
  constructor(type: ProofErrorType, message: string) {
    super(type, message);
    this.name = "ProofError";
  }
}

export function malformed(field: string, message: string): ProofError {
  return new ProofError({code: "PROOF_ERROR_MALFORMED", field}, `${field}: ${message}`);
}
