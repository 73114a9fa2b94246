import {ParsError} from "../util/index.js";

/**
 * Failures of the client library. Match on `err.code`:
 * - `CLIENT_ERROR_NO_NODES`: no seed answered, or the node list is empty.
 * - `CLIENT_ERROR_TRANSPORT`: every node tried failed at the transport level (connection, timeout,
 *   an answer that is not the protocol's).
 * - `CLIENT_ERROR_RPC`: a node answered the request with a non-2xx status (`status`, `body` as sent).
 * - `CLIENT_ERROR_RECEIPT_INVALID`: a node's signed receipt did not verify against the node key
 *   from the membership; `invalid` lists which node and why. The request may have taken effect:
 *   the answer cannot be trusted, not the request reversed.
 * - `CLIENT_ERROR_BAD_RESPONSE`: a 2xx answer without the fields the protocol promises.
 * - `CLIENT_ERROR_KEY_FILE`: a client key file is missing, malformed or would be overwritten.
 * - `CLIENT_ERROR_CLOSED`: the client was closed.
 * - `CLIENT_ERROR_CLAIM_QUORUM`: `aggregateClaim` found no claim message signed by ≥ 2/3 of the
 *   active stake (`signedStake`, `totalStake`; `failures` says why each other node did not count).
 * - `CLIENT_ERROR_CLAIM_INVALID`: a claim does not verify (`reason`: malformed, expired, wrong
 *   network, bad signature).
 */
export type ClientErrorType =
  | {code: "CLIENT_ERROR_NO_NODES"}
  | {code: "CLIENT_ERROR_TRANSPORT"; tried: readonly string[]}
  | {code: "CLIENT_ERROR_RPC"; method: string; status: number; body: unknown}
  | {code: "CLIENT_ERROR_RECEIPT_INVALID"; method: string; invalid: ReadonlyArray<{nodeId: string; reason: string}>}
  | {code: "CLIENT_ERROR_BAD_RESPONSE"; method: string}
  | {code: "CLIENT_ERROR_KEY_FILE"; path: string}
  | {code: "CLIENT_ERROR_CLOSED"}
  | {
      code: "CLIENT_ERROR_CLAIM_QUORUM";
      signedStake: bigint;
      totalStake: bigint;
      failures: ReadonlyArray<{nodeId: string; reason: string}>;
    }
  | {code: "CLIENT_ERROR_CLAIM_INVALID"; reason: "malformed" | "expired" | "wrong-network" | "bad-signature"};

export type ClientErrorCode = ClientErrorType["code"];

export class ClientError extends ParsError<ClientErrorType> {
  constructor(type: ClientErrorType, message?: string, cause?: unknown) {
    super(type, message);
    this.name = "ClientError";
    if (cause !== undefined) this.cause = cause;
  }
}
