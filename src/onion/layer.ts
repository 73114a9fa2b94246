/**
 * Building an onion request (client) and opening one layer of it (node). Pure: no I/O, no
 * server state; the node side takes its keys as arguments, the client side the hops' public keys.
 */
import {randomBytes} from "node:crypto";
import {
  ML_KEM768_ENCAPS_SEED_BYTES,
  ML_KEM768_PUBLIC_KEY_BYTES,
  ML_KEM768_SECRET_KEY_BYTES,
  X25519_PUBLIC_KEY_BYTES,
  X25519_SECRET_KEY_BYTES,
  isBytes,
  nobleBackend,
  x25519KeyPair,
  x25519PublicKey,
  x25519SharedSecret,
  type MlKem768,
} from "../crypto/index.js";
import {NODE_ID_HEX_CHARS, isBase64, isHex, toBase64} from "../protocol/index.js";
import {InvalidArgumentError} from "../util/index.js";
import {OnionError, decryptError, parseError, responseError} from "./errors.js";
import {
  ACCEPTED_ENC_TYPES,
  ONION_MAX_HOPS,
  decodeFrame,
  encodeFrame,
  hopControlJson,
  readHopControl,
  type HopControl,
} from "./framing.js";
import {
  ONION_ENC_TYPE,
  ONION_NONCE_BYTES,
  deriveLayerKeys,
  layerInfo,
  mlKemPublicFromSecret,
  open,
  seal,
  sha3,
  xwingCombine,
  type LayerKeys,
} from "./hop-crypto.js";

/** A hop as the client knows it from the node's signed record. */
export interface HopPublicKeys {
  /** 64 lowercase hex chars. */
  nodeId: string;
  /** 32 bytes. */
  x25519: Uint8Array;
  /** 1184 bytes (the node's channel ML-KEM-768 key). */
  mlKem: Uint8Array;
}

/** What a node needs to open layers addressed to it. */
export interface OnionSecretKeys {
  nodeId: string;
  /** 32 bytes. */
  x25519Secret: Uint8Array;
  /** 2400 bytes (FIPS 203 decapsulation key; it holds the public key too). */
  mlKemSecret: Uint8Array;
}

/** A parsed entry blob: one layer's ciphertext and the key material to open it. */
export interface EntryBlob extends HopControl {
  ciphertext: Uint8Array;
  /** 0 when absent; Session's clamp to ≥ 0 applies. */
  hopNo: number;
}

export type OpenedLayer =
  | {kind: "relay"; destination: string; nextBlob: Uint8Array; hopNo: number}
  | {
      kind: "final";
      rpcBody: Uint8Array;
      hopNo: number;
      /** `{"status","body"}` sealed with the response key; base64 text unless the client sent `base64: false`. */
      encryptResponse(status: number, body: unknown): Uint8Array | string;
    };

export interface OnionResponse {
  status: number;
  body: unknown;
  /** Which hop of the path sealed it: the last one, or a relay refusing its decrypted layer. */
  hopIndex: number;
}

export interface BuildOptions {
  /** Embed a JSON body in the response instead of a JSON string (Session's `json`, default false). */
  json?: boolean;
  /** Response as base64 text (default) or raw bytes (Session's `base64`). */
  base64?: boolean;
  /** Randomness source; fixed only for test vectors. Per hop from the last: e_sk 32, m 32, nonce 12. */
  random?: (n: number) => Uint8Array;
  mlKem?: MlKem768;
}

export interface OpenOptions {
  /** Randomness for response nonces; fixed only for test vectors. */
  random?: (n: number) => Uint8Array;
  /** The ML-KEM-768 implementation (the node's PqBackend); noble when absent. */
  mlKem?: MlKem768;
}

export interface BuiltRequest {
  blob: Uint8Array;
  firstHop: string;
  decryptResponse(body: Uint8Array | string): OnionResponse;
}

const defaultRandom = (n: number): Uint8Array => new Uint8Array(randomBytes(n));
const NODE_ID_RE = /^[0-9a-f]{64}$/;

function nodeIdBytes(nodeId: string): Uint8Array {
  return new Uint8Array(Buffer.from(nodeId, "hex"));
}

// ---------------------------------------------------------------------------------- client side

function checkPath(path: readonly HopPublicKeys[]): void {
  if (path.length < 1 || path.length > ONION_MAX_HOPS) {
    throw new InvalidArgumentError(`buildOnionRequest: a path has 1 to ${ONION_MAX_HOPS} hops, got ${path.length}`);
  }
  path.forEach((hop, i) => {
    if (!NODE_ID_RE.test(hop.nodeId)) throw new InvalidArgumentError(`buildOnionRequest: hop ${i} nodeId must be 64 lowercase hex chars`);
    if (!isBytes(hop.x25519, X25519_PUBLIC_KEY_BYTES)) throw new InvalidArgumentError(`buildOnionRequest: hop ${i} x25519 must be 32 bytes`);
    if (!isBytes(hop.mlKem, ML_KEM768_PUBLIC_KEY_BYTES)) throw new InvalidArgumentError(`buildOnionRequest: hop ${i} mlKem must be 1184 bytes`);
  });
}

/**
 * The client's half of one hop: fresh X25519 + ML-KEM-768 encapsulation, then the layer keys.
 * Without a fixed `random` the KEM draws its own randomness: liboqs hands seeded encapsulation to
 * noble, which is several times slower.
 */
function encapsulateHop(hop: HopPublicKeys, random: ((n: number) => Uint8Array) | undefined, mlKem: MlKem768): {control: HopControl; keys: LayerKeys} {
  const ephemeral = x25519KeyPair(random?.(X25519_SECRET_KEY_BYTES));
  const ssX = x25519SharedSecret(ephemeral.secretKey, hop.x25519);
  if (ssX === null) throw new InvalidArgumentError(`buildOnionRequest: hop ${hop.nodeId} has an unusable X25519 key`);
  const {cipherText, sharedSecret: ssM} = mlKem.encapsulate(hop.mlKem, random?.(ML_KEM768_ENCAPS_SEED_BYTES));
  const ss = xwingCombine(ssM, ssX, ephemeral.publicKey, hop.x25519);
  const keys = deriveLayerKeys(ss, layerInfo(nodeIdBytes(hop.nodeId), sha3(hop.mlKem), cipherText));
  return {control: {ephemeralKey: ephemeral.publicKey, kemCt: cipherText, encType: ONION_ENC_TYPE}, keys};
}

function finalControl(opts: BuildOptions): Record<string, unknown> {
  const json: Record<string, unknown> = {headers: {}};
  if (opts.json !== undefined) json.json = opts.json;
  if (opts.base64 !== undefined) json.base64 = opts.base64;
  return json;
}

/** The bytes a response may arrive as: raw, or base64 text (as a string or as its bytes). */
function responseCandidates(body: Uint8Array | string): Uint8Array[] {
  const text = typeof body === "string" ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString("latin1");
  const out: Uint8Array[] = typeof body === "string" ? [] : [body];
  const trimmed = text.trim();
  if (trimmed.length > 0 && isBase64(trimmed)) out.push(new Uint8Array(Buffer.from(trimmed, "base64")));
  return out;
}

function readResponse(plaintext: Uint8Array, hopIndex: number): OnionResponse {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", {fatal: true}).decode(plaintext));
  } catch {
    throw responseError("the decrypted response is not UTF-8 JSON");
  }
  if (typeof parsed !== "object" || parsed === null || !("status" in parsed) || !Number.isInteger(parsed.status)) {
    throw responseError('the decrypted response is not {"status": int, "body": …}');
  }
  return {status: parsed.status as number, body: "body" in parsed ? parsed.body : undefined, hopIndex};
}

/**
 * Builds the entry blob for `path` (first hop first) carrying `rpcBody` (`{"method","params"}`) to
 * the last hop, and a decryptor for the answer. Throws InvalidArgumentError for a bad path.
 */
export function buildOnionRequest(path: HopPublicKeys[], rpcBody: Uint8Array, opts: BuildOptions = {}): BuiltRequest {
  checkPath(path);
  const mlKem = opts.mlKem ?? nobleBackend.mlKem768;
  const responseKeys: Uint8Array[] = new Array<Uint8Array>(path.length);
  let inner = rpcBody;
  let innerJson = finalControl(opts);
  let control: HopControl | null = null;
  for (let i = path.length - 1; i >= 0; i--) {
    const hop = path[i] as HopPublicKeys;
    const layer = encapsulateHop(hop, opts.random, mlKem);
    responseKeys[i] = layer.keys.response;
    inner = seal(layer.keys.request, (opts.random ?? defaultRandom)(ONION_NONCE_BYTES), encodeFrame(inner, innerJson));
    innerJson = {destination: hop.nodeId, ...hopControlJson(layer.control)};
    control = layer.control;
  }
  const blob = encodeFrame(inner, hopControlJson(control as HopControl));
  const decryptResponse = (body: Uint8Array | string): OnionResponse => {
    const candidates = responseCandidates(body);
    // The final hop answers with its key; a relay refusing its own decrypted layer with its key.
    for (let i = path.length - 1; i >= 0; i--) {
      for (const candidate of candidates) {
        const plaintext = open(responseKeys[i] as Uint8Array, candidate);
        if (plaintext !== null) return readResponse(plaintext, i);
      }
    }
    throw responseError("it does not decrypt with the key of any hop (a plain-text error from a hop?)");
  };
  return {blob, firstHop: (path[0] as HopPublicKeys).nodeId, decryptResponse};
}

// ------------------------------------------------------------------------------------ node side

/**
 * Parses an entry blob (the body of `/onion_req/v2`, or what a relay forwards). Throws OnionError
 * ONION_ERROR_PARSE or ONION_ERROR_MAX_HOPS; nothing is decrypted yet.
 */
export function parseEntryBlob(blob: Uint8Array): EntryBlob {
  if (!(blob instanceof Uint8Array)) throw parseError("the body is not bytes");
  const frame = decodeFrame(blob);
  if (typeof frame === "string") throw parseError(frame);
  const control = readHopControl(frame.json);
  if (typeof control === "string") throw parseError(control);
  const rawHopNo = frame.json.hop_no;
  if (rawHopNo !== undefined && !Number.isSafeInteger(rawHopNo)) throw parseError("hop_no must be an integer");
  const hopNo = Math.max(0, (rawHopNo as number | undefined) ?? 0);
  if (hopNo > ONION_MAX_HOPS) throw maxHopsError(hopNo);
  return {ciphertext: frame.payload, ...control, hopNo};
}

function maxHopsError(hopNo: number): OnionError {
  return new OnionError({code: "ONION_ERROR_MAX_HOPS", status: 400, body: "onion request max path length exceeded", hopNo});
}

interface PreparedNodeKeys {
  /** What the entry was made from: reused only for the same node ID and X25519 secret. */
  from: {nodeId: string; x25519Secret: Uint8Array};
  nodeId: Uint8Array;
  x25519Public: Uint8Array;
  mlKemPkHash: Uint8Array;
}

/** Keyed by the ML-KEM secret array: a node passes the same key arrays to every request. */
const preparedKeys = new WeakMap<Uint8Array, PreparedNodeKeys>();

function prepareKeys(keys: OnionSecretKeys): PreparedNodeKeys {
  const cached = preparedKeys.get(keys.mlKemSecret);
  if (cached !== undefined && cached.from.nodeId === keys.nodeId && cached.from.x25519Secret === keys.x25519Secret) return cached;
  if (!NODE_ID_RE.test(keys.nodeId)) throw new InvalidArgumentError("openLayer: nodeId must be 64 lowercase hex chars");
  if (!isBytes(keys.x25519Secret, X25519_SECRET_KEY_BYTES)) throw new InvalidArgumentError("openLayer: x25519Secret must be 32 bytes");
  if (!isBytes(keys.mlKemSecret, ML_KEM768_SECRET_KEY_BYTES)) throw new InvalidArgumentError("openLayer: mlKemSecret must be 2400 bytes");
  const entry = {
    from: {nodeId: keys.nodeId, x25519Secret: keys.x25519Secret},
    nodeId: nodeIdBytes(keys.nodeId),
    x25519Public: x25519PublicKey(keys.x25519Secret),
    mlKemPkHash: sha3(mlKemPublicFromSecret(keys.mlKemSecret)),
  };
  preparedKeys.set(keys.mlKemSecret, entry);
  return entry;
}

/** The node's half of one hop: both decapsulations, then the layer keys; null if either fails. */
function decapsulateHop(keys: OnionSecretKeys, prepared: PreparedNodeKeys, entry: EntryBlob, mlKem: MlKem768): LayerKeys | null {
  const ssX = x25519SharedSecret(keys.x25519Secret, entry.ephemeralKey);
  if (ssX === null) return null;
  let ssM: Uint8Array;
  try {
    // ML-KEM's implicit rejection: a tampered ct yields a pseudorandom secret, so the AEAD fails.
    ssM = mlKem.decapsulate(entry.kemCt, keys.mlKemSecret);
  } catch {
    return null;
  }
  const ss = xwingCombine(ssM, ssX, entry.ephemeralKey, prepared.x25519Public);
  return deriveLayerKeys(ss, layerInfo(prepared.nodeId, prepared.mlKemPkHash, entry.kemCt));
}

function replyEncryptor(responseKey: Uint8Array, random: (n: number) => Uint8Array) {
  return (status: number, body: unknown, base64 = true, json = false): Uint8Array | string => {
    const inner = typeof body === "string" || json ? body : JSON.stringify(body);
    const sealed = seal(responseKey, random(ONION_NONCE_BYTES), Buffer.from(JSON.stringify({status, body: inner}), "utf8"));
    return base64 ? toBase64(sealed) : sealed;
  };
}

/**
 * Opens the layer of `entry` addressed to this node. Throws OnionError: ONION_ERROR_DECRYPT when
 * it does not decrypt (plain "Invalid ciphertext"), ONION_ERROR_INVALID_LAYER (with
 * `encryptReply`) when the decrypted layer is malformed, ONION_ERROR_MAX_HOPS when relaying would
 * exceed ONION_MAX_HOPS. Keys of the wrong size are the caller's bug: InvalidArgumentError.
 */
export function openLayer(keys: OnionSecretKeys, entry: EntryBlob, opts: OpenOptions = {}): OpenedLayer {
  const prepared = prepareKeys(keys);
  if (!ACCEPTED_ENC_TYPES.includes(entry.encType)) throw parseError(`enc_type ${JSON.stringify(entry.encType)} is not supported`);
  const random = opts.random ?? defaultRandom;
  const layerKeys = decapsulateHop(keys, prepared, entry, opts.mlKem ?? nobleBackend.mlKem768);
  const plaintext = layerKeys === null ? null : open(layerKeys.request, entry.ciphertext);
  if (layerKeys === null || plaintext === null) throw decryptError();
  const reply = replyEncryptor(layerKeys.response, random);
  const invalid = (body: string): OnionError =>
    new OnionError({code: "ONION_ERROR_INVALID_LAYER", status: 400, body}, (s, b) => reply(s, b) as string);
  const frame = decodeFrame(plaintext);
  if (typeof frame === "string") throw invalid("Invalid json");
  const {json} = frame;
  if ("headers" in json) {
    if (json.json !== undefined && typeof json.json !== "boolean") throw invalid("Invalid onion layer: json must be a boolean");
    if (json.base64 !== undefined && typeof json.base64 !== "boolean") throw invalid("Invalid onion layer: base64 must be a boolean");
    const base64 = json.base64 !== false;
    const embed = json.json === true;
    return {
      kind: "final",
      rpcBody: frame.payload,
      hopNo: entry.hopNo,
      encryptResponse: (status, body) => reply(status, body, base64, embed),
    };
  }
  if ("host" in json) throw invalid("Invalid onion layer: relaying to external servers (host) is not supported");
  const destination = json.destination;
  if (typeof destination !== "string" || destination.length !== NODE_ID_HEX_CHARS || !isHex(destination)) {
    throw invalid(`Invalid onion layer: destination must be a node ID (${NODE_ID_HEX_CHARS} hex chars)`);
  }
  const next = readHopControl(json);
  if (typeof next === "string") throw invalid(`Invalid onion layer: ${next}`);
  if (entry.hopNo + 1 > ONION_MAX_HOPS) throw maxHopsError(entry.hopNo + 1);
  const nextBlob = encodeFrame(frame.payload, {...hopControlJson(next), hop_no: entry.hopNo + 1});
  return {kind: "relay", destination: destination.toLowerCase(), nextBlob, hopNo: entry.hopNo};
}
