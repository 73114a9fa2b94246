import {ParsError} from "../util/index.js";

/**
 * A client-visible RPC failure: an HTTP status and Session's exact plain-text (or JSON) body.
 * Thrown inside method handlers; turned into a response by the dispatcher.
 */
export class RpcError extends ParsError<{code: "RPC_ERROR"; status: number}> {
  readonly body: string | Record<string, unknown>;

  constructor(status: number, body: string | Record<string, unknown>) {
    super({code: "RPC_ERROR", status}, typeof body === "string" ? body : `rpc error ${status}`);
    this.name = "RpcError";
    this.body = body;
  }

  get status(): number {
    return this.type.status;
  }
}

/**
 * A malformed parameter. Session answers these with 400 and "invalid request: <message>"; the
 * message texts here are Session's, word for word.
 */
export class ParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ParseError";
  }
}

export const HTTP = {
  OK: 200,
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  NOT_ACCEPTABLE: 406,
  GONE: 410,
  PAYLOAD_TOO_LARGE: 413,
  MISDIRECTED_REQUEST: 421,
  TOO_MANY_REQUESTS: 429,
  INTERNAL_SERVER_ERROR: 500,
  BAD_GATEWAY: 502,
  SERVICE_UNAVAILABLE: 503,
  GATEWAY_TIMEOUT: 504,
  /** Pars: no swarm member stored it and at least one had no room (Session answers 500). */
  INSUFFICIENT_STORAGE: 507,
} as const;
