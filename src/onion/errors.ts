import {ParsError} from "../util/index.js";

/**
 * Why an onion blob or layer was refused. `status` and `body` are what Session's storage server
 * answers in the same case (plain text), so the HTTP layer maps an OnionError without knowing the
 * reasons:
 * - `ONION_ERROR_PARSE`: the entry blob or its control object is malformed, or names an enc_type
 *   this node does not speak: 400 "Error parsing onion request: …".
 * - `ONION_ERROR_MAX_HOPS`: `hop_no` above ONION_MAX_HOPS: 400 "onion request max path length exceeded".
 * - `ONION_ERROR_DECRYPT`: the layer does not decrypt (wrong keys, tampered ciphertext, KEM
 *   ciphertext or ephemeral key): 400 "Invalid ciphertext". Nothing is encrypted back, since no
 *   key is shared with the sender.
 * - `ONION_ERROR_INVALID_LAYER`: the layer decrypted but its plaintext is malformed (framing,
 *   JSON, a bad next-hop control): 400 "Invalid json" / "Invalid onion layer: …". Session encrypts
 *   this one back to the client; `encryptReply` does that with this hop's response key.
 * - `ONION_ERROR_RESPONSE`: client side, a response that does not decrypt or is not
 *   `{"status","body"}` (502: the path answered something unusable).
 */
export type OnionErrorType =
  | {code: "ONION_ERROR_PARSE"; status: 400; body: string}
  | {code: "ONION_ERROR_MAX_HOPS"; status: 400; body: string; hopNo: number}
  | {code: "ONION_ERROR_DECRYPT"; status: 400; body: string}
  | {code: "ONION_ERROR_INVALID_LAYER"; status: 400; body: string}
  | {code: "ONION_ERROR_RESPONSE"; status: 502; body: string};

export type OnionErrorCode = OnionErrorType["code"];

export class OnionError extends ParsError<OnionErrorType> {
  /**
   * Set once the layer decrypted (ONION_ERROR_INVALID_LAYER): encrypts a `{"status","body"}` reply
   * with this hop's response key, base64 text as Session's default.
   */
  readonly encryptReply: ((status: number, body: unknown) => string) | undefined;

  constructor(type: OnionErrorType, encryptReply?: (status: number, body: unknown) => string) {
    super(type, type.body);
    this.name = "OnionError";
    this.encryptReply = encryptReply;
  }

  get status(): number {
    return this.type.status;
  }

  get body(): string {
    return this.type.body;
  }
}

export function parseError(what: string): OnionError {
  return new OnionError({code: "ONION_ERROR_PARSE", status: 400, body: `Error parsing onion request: ${what}`});
}

export function decryptError(): OnionError {
  return new OnionError({code: "ONION_ERROR_DECRYPT", status: 400, body: "Invalid ciphertext"});
}

export function responseError(what: string): OnionError {
  return new OnionError({code: "ONION_ERROR_RESPONSE", status: 502, body: `Invalid onion response: ${what}`});
}
