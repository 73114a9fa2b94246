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
 */
export type ClientErrorType =
  | {code: "CLIENT_ERROR_NO_NODES"}
  | {code: "CLIENT_ERROR_TRANSPORT"; tried: readonly string[]}
  | {code: "CLIENT_ERROR_RPC"; method: string; status: number; body: unknown}
  | {code: "CLIENT_ERROR_RECEIPT_INVALID"; method: string; invalid: ReadonlyArray<{nodeId: string; reason: string}>}
  | {code: "CLIENT_ERROR_BAD_RESPONSE"; method: string}
  | {code: "CLIENT_ERROR_KEY_FILE"; path: string}
  | {code: "CLIENT_ERROR_CLOSED"};

export type ClientErrorCode = ClientErrorType["code"];

export class ClientError extends ParsError<ClientErrorType> {
  constructor(type: ClientErrorType, message?: string, cause?: unknown) {
    super(type, message);
    this.name = "ClientError";
    if (cause !== undefined) this.cause = cause;
  }
}
