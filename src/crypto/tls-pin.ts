/**
 * TLS pinning by key (docs/PROTOCOL.md Swarms §3.4): a node that serves HTTPS publishes, in its
 * signed record, SHA-256 of its certificate's SubjectPublicKeyInfo (DER). Clients and peers trust
 * that pin, not a CA: the record's ML-DSA signature vouches for the pin, the pin for the TLS key.
 * Certificates are self-signed, so chain, name and validity dates are deliberately not checked;
 * only the key is.
 *
 * Pure: node:crypto and undici's connector, no server code, so the client library can use it.
 */
import {X509Certificate, createHash, type KeyObject} from "node:crypto";
import type {TLSSocket} from "node:tls";
import {buildConnector} from "undici";

/** Length of a pin in lowercase hex (SHA-256). */
export const TLS_PIN_HEX_CHARS = 64;
const PIN_RE = new RegExp(`^[0-9a-f]{${TLS_PIN_HEX_CHARS}}$`);

/** Error code (undici's connect error, `err.code`) when a peer's certificate does not match its pin. */
export const TLS_PIN_MISMATCH = "TLS_PIN_ERROR_MISMATCH";
/** Error code when a connection is refused because no pin is known for the address. */
export const TLS_PIN_UNKNOWN = "TLS_PIN_ERROR_UNKNOWN";

export function isTlsPin(text: unknown): text is string {
  return typeof text === "string" && PIN_RE.test(text);
}

/** Lowercase hex SHA-256 of a public key's SubjectPublicKeyInfo DER. */
export function spkiSha256OfKey(key: KeyObject): string {
  return createHash("sha256").update(key.export({type: "spki", format: "der"})).digest("hex");
}

/** The pin of a certificate (PEM text, DER bytes or a parsed X509Certificate). */
export function spkiSha256(cert: X509Certificate | string | Uint8Array): string {
  const parsed = cert instanceof X509Certificate ? cert : new X509Certificate(typeof cert === "string" ? cert : Buffer.from(cert));
  return spkiSha256OfKey(parsed.publicKey);
}

/** A pin check failed: the socket is closed before a byte of the request is sent. */
export class TlsPinError extends Error {
  constructor(
    readonly code: typeof TLS_PIN_MISMATCH | typeof TLS_PIN_UNKNOWN,
    message: string,
  ) {
    super(message);
    this.name = "TlsPinError";
  }
}

/** The pin for `host:port`, or null when none is known (the connection is then refused). */
export type TlsPinLookup = (host: string, port: number) => string | null;

export interface PinnedConnectOptions {
  /** TCP and TLS handshake deadline (undici's `timeout`). Default undici's 10 s. */
  readonly timeoutMs?: number;
}

/**
 * An undici `connect` function (`new Pool(origin, {connect})`, `new Agent({connect})`) that, for
 * https origins, accepts the server only if SHA-256(SPKI) of its certificate equals the pin for
 * the address: `pin` is one fixed pin (one node's Pool) or a lookup (one Agent for many nodes).
 * Plain http origins pass through unchanged. A mismatch or an unknown pin fails the connect with
 * a TlsPinError (`code` TLS_PIN_ERROR_MISMATCH / _UNKNOWN). TLS session resumption is off, so
 * every connection shows its certificate and is checked.
 */
export function pinnedConnector(pin: string | TlsPinLookup, opts: PinnedConnectOptions = {}): buildConnector.connector {
  if (typeof pin === "string" && !isTlsPin(pin)) throw new TypeError(`a TLS pin is ${TLS_PIN_HEX_CHARS} lowercase hex characters`);
  const lookup: TlsPinLookup = typeof pin === "string" ? () => pin : pin;
  // rejectUnauthorized: false because certificates are self-signed; the pin below replaces the CA.
  const base = buildConnector({
    rejectUnauthorized: false,
    maxCachedSessions: 0,
    ...(opts.timeoutMs === undefined ? {} : {timeout: opts.timeoutMs}),
  });
  return (options, callback) => {
    if (options.protocol !== "https:") return base(options, callback);
    const port = Number(options.port === "" ? 443 : options.port);
    const expected = lookup(options.hostname, port);
    if (expected === null || !isTlsPin(expected)) {
      callback(new TlsPinError(TLS_PIN_UNKNOWN, `no TLS pin known for ${options.hostname}:${port}`), null);
      return;
    }
    return base(options, (err, socket) => {
      if (err !== null) return callback(err, null);
      const problem = checkPin(socket as TLSSocket, expected);
      if (problem === null) return callback(null, socket);
      socket.destroy();
      callback(new TlsPinError(TLS_PIN_MISMATCH, `${options.hostname}:${port}: ${problem}`), null);
    });
  };
}

function checkPin(socket: TLSSocket, expected: string): string | null {
  const cert = typeof socket.getPeerX509Certificate === "function" ? socket.getPeerX509Certificate() : undefined;
  if (cert === undefined) return "the server sent no certificate";
  const actual = spkiSha256OfKey(cert.publicKey);
  return actual === expected ? null : `certificate key SHA-256 ${actual} is not the pinned ${expected}`;
}
