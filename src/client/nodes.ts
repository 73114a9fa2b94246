/**
 * What the client knows of a node, read from the node list (`GET /network/v1/nodes/compact` or the
 * full `/network/v1/nodes`) or a `get_swarm`/421 snode entry, and the seed URL forms it accepts.
 * A node is kept only if its ID is BLAKE2b-256(ML-KEM pk ‖ ML-DSA pk) of the keys listed with it:
 * receipts are verified against exactly these keys.
 */
import {isTlsPin, pqKeysHash, ML_DSA65_PUBLIC_KEY_BYTES, ML_KEM768_PUBLIC_KEY_BYTES} from "../crypto/index.js";
import {decodeHexOrBase64, toHex} from "../protocol/index.js";
import {InvalidArgumentError} from "../util/index.js";

export interface NodeInfo {
  /** 64 hex. */
  nodeId: string;
  /** Base URL of the node's client routes: `https://…` when the entry carries a TLS pin, else `http://…`. */
  url: string;
  /**
   * SHA-256 (hex) of the node's TLS certificate SubjectPublicKeyInfo, from the entry's
   * `tls.spki_sha256`: every connection to an https:// node must show this key (HttpClient).
   */
  tlsPin?: string;
  /** Wire swarm ID (hex), when the source said. */
  swarm: string | null;
  mlDsaPublicKey: Uint8Array;
  mlKemPublicKey: Uint8Array;
  /** The node's X25519 key for onion layers, once nodes publish one. */
  x25519PublicKey?: Uint8Array;
}

/** `pars://` is PIP-0008 §5.3's seed form: the scheme is whatever the node's own list entry says. */
export const PARS_DEFAULT_PORT = 22025;

/**
 * Origins to try for a seed, in order: `pars://host[:port]` → `https://host:port` then
 * `http://host:port` (the node's list entry then says which it is, see NodeDirectory);
 * `http(s)://` kept as given.
 */
export function seedOrigins(seed: string): string[] {
  let url: URL;
  try {
    url = new URL(seed);
  } catch {
    throw new InvalidArgumentError(`not a seed URL: ${seed} (expected pars://host:port or http(s)://host:port)`);
  }
  if (url.protocol === "pars:") {
    const hostPort = `${url.hostname}:${url.port === "" ? PARS_DEFAULT_PORT : url.port}`;
    return [`https://${hostPort}`, `http://${hostPort}`];
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new InvalidArgumentError(`unsupported seed scheme: ${seed}`);
  return [url.origin];
}

function hostUrl(host: string, port: number, scheme = "http"): string {
  return `${scheme}://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

function keys(dsa: unknown, kem: unknown): {mlDsaPublicKey: Buffer; mlKemPublicKey: Buffer} | null {
  if (typeof dsa !== "string" || typeof kem !== "string") return null;
  const mlDsaPublicKey = decodeHexOrBase64(dsa, ML_DSA65_PUBLIC_KEY_BYTES);
  const mlKemPublicKey = decodeHexOrBase64(kem, ML_KEM768_PUBLIC_KEY_BYTES);
  return mlDsaPublicKey === null || mlKemPublicKey === null ? null : {mlDsaPublicKey, mlKemPublicKey};
}

function x25519(v: unknown): Uint8Array | undefined {
  if (typeof v !== "string") return undefined;
  return decodeHexOrBase64(v, 32) ?? undefined;
}

/** The entry's `tls: {spki_sha256}`: undefined when absent (plain http), null when malformed. */
function tlsPinOf(tls: unknown): string | undefined | null {
  if (tls === undefined || tls === null) return undefined;
  const pin = (tls as {spki_sha256?: unknown}).spki_sha256;
  return isTlsPin(pin) ? pin : null;
}

/** Checks the ID against the keys; null for anything malformed or mismatched. */
function checked(nodeId: unknown, host: string, port: number, swarm: unknown, k: ReturnType<typeof keys>, x: Uint8Array | undefined, tls: unknown): NodeInfo | null {
  if (k === null || typeof nodeId !== "string" || !/^[0-9a-f]{64}$/.test(nodeId)) return null;
  if (toHex(pqKeysHash(k.mlKemPublicKey, k.mlDsaPublicKey)) !== nodeId) return null;
  // A malformed pin drops the entry: falling back to plain http would strip the TLS it announces.
  const tlsPin = tlsPinOf(tls);
  if (tlsPin === null) return null;
  return {
    nodeId,
    url: hostUrl(host, port, tlsPin === undefined ? "http" : "https"),
    ...(tlsPin === undefined ? {} : {tlsPin}),
    swarm: typeof swarm === "string" ? swarm : null,
    ...k,
    ...(x === undefined ? {} : {x25519PublicKey: x}),
  };
}

const validPort = (p: unknown): p is number => Number.isInteger(p) && (p as number) > 0 && (p as number) < 65536;

/** One entry of the node list (full or compact form). */
export function nodeFromListEntry(e: unknown): NodeInfo | null {
  if (typeof e !== "object" || e === null) return null;
  const r = e as Record<string, unknown>;
  if (typeof r.host !== "string" || !validPort(r.port)) return null;
  return checked(r.node_id, r.host, r.port, r.swarm, keys(r.pubkey_mldsa, r.pubkey_mlkem), x25519(r.pubkey_x25519), r.tls);
}

/** One `get_swarm`/421 snode entry (Session's field names: `ip`, `port_https`). */
export function nodeFromSnode(e: unknown, swarm: string | null): NodeInfo | null {
  if (typeof e !== "object" || e === null) return null;
  const r = e as Record<string, unknown>;
  const port = r.port_https ?? Number(r.port);
  if (typeof r.ip !== "string" || !validPort(port)) return null;
  return checked(r.node_id, r.ip, port, swarm, keys(r.pubkey_mldsa, r.pubkey_mlkem), x25519(r.pubkey_x25519), r.tls);
}

/** Nodes of a node-list body; malformed entries are skipped. */
export function nodesFromList(body: unknown): NodeInfo[] {
  const list = (body as {nodes?: unknown} | null)?.nodes;
  if (!Array.isArray(list)) return [];
  return list.map(nodeFromListEntry).filter((n): n is NodeInfo => n !== null);
}

/** Members of a get_swarm/421 body and its swarm ID; null when the body is not one. */
export function swarmFromBody(body: unknown): {swarm: string; members: NodeInfo[]} | null {
  const b = body as {snodes?: unknown; swarm?: unknown} | null;
  if (b === null || typeof b !== "object" || !Array.isArray(b.snodes) || typeof b.swarm !== "string") return null;
  const swarm = b.swarm;
  return {swarm, members: b.snodes.map((e) => nodeFromSnode(e, swarm)).filter((n): n is NodeInfo => n !== null)};
}
