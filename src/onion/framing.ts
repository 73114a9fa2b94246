/**
 * Session's `/onion_req/v2` framing, used for the entry blob and for every decrypted layer:
 *
 *   [N: u32 little-endian][N bytes][UTF-8 JSON object]
 *
 * and the hop control object `{"ephemeral_key": hex, "kem_ct": base64, "enc_type": …, "hop_no"?: int}`
 * that names the key material of one layer. Every check here is on attacker-supplied bytes: each
 * failure is a message for an OnionError, never an exception of another kind.
 */
import {ML_KEM768_CIPHERTEXT_BYTES, X25519_PUBLIC_KEY_BYTES} from "../crypto/index.js";
import {decodeFixedBase64, isHex, toBase64, toHex} from "../protocol/index.js";
import {ONION_ENC_TYPE} from "./hop-crypto.js";

export const ONION_LENGTH_PREFIX_BYTES = 4;
export const ONION_MAX_HOPS = 15;
export const ACCEPTED_ENC_TYPES: readonly string[] = [ONION_ENC_TYPE];

export interface Framed {
  payload: Uint8Array;
  json: Record<string, unknown>;
}

/** The key material of one layer, as carried in a control object. */
export interface HopControl {
  ephemeralKey: Uint8Array;
  kemCt: Uint8Array;
  encType: string;
}

export function encodeFrame(payload: Uint8Array, json: Record<string, unknown>): Uint8Array {
  const prefix = Buffer.alloc(ONION_LENGTH_PREFIX_BYTES);
  prefix.writeUInt32LE(payload.length, 0);
  return new Uint8Array(Buffer.concat([prefix, payload, Buffer.from(JSON.stringify(json), "utf8")]));
}

const utf8 = new TextDecoder("utf-8", {fatal: true});

/** Splits a frame; returns a message saying what is wrong instead of throwing. */
export function decodeFrame(bytes: Uint8Array): Framed | string {
  if (bytes.length < ONION_LENGTH_PREFIX_BYTES) return `${bytes.length} bytes, too short for the 4-byte length prefix`;
  const length = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).readUInt32LE(0);
  const rest = bytes.length - ONION_LENGTH_PREFIX_BYTES;
  if (length > rest) return `length prefix ${length} exceeds the ${rest} bytes that follow it`;
  const payload = bytes.subarray(ONION_LENGTH_PREFIX_BYTES, ONION_LENGTH_PREFIX_BYTES + length);
  let json: unknown;
  try {
    json = JSON.parse(utf8.decode(bytes.subarray(ONION_LENGTH_PREFIX_BYTES + length)));
  } catch {
    return "the part after the payload is not UTF-8 JSON";
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) return "the JSON part is not an object";
  return {payload, json: json as Record<string, unknown>};
}

/** Reads ephemeral_key, kem_ct and enc_type; a message when one is missing or malformed. */
export function readHopControl(json: Record<string, unknown>): HopControl | string {
  const {ephemeral_key: ephemeralKey, kem_ct: kemCt, enc_type: encType} = json;
  if (typeof encType !== "string" || !ACCEPTED_ENC_TYPES.includes(encType)) {
    const given = typeof encType === "string" ? JSON.stringify(encType.slice(0, 64)) : "missing";
    return `enc_type ${given} is not supported; accepted: ${ACCEPTED_ENC_TYPES.join(", ")}`;
  }
  if (typeof ephemeralKey !== "string" || ephemeralKey.length !== 2 * X25519_PUBLIC_KEY_BYTES || !isHex(ephemeralKey)) {
    return `ephemeral_key must be ${2 * X25519_PUBLIC_KEY_BYTES} hex chars (an X25519 public key)`;
  }
  const kem = typeof kemCt === "string" ? decodeFixedBase64(kemCt, ML_KEM768_CIPHERTEXT_BYTES) : null;
  if (kem === null) return `kem_ct must be base64 of ${ML_KEM768_CIPHERTEXT_BYTES} bytes (an ML-KEM-768 ciphertext)`;
  return {ephemeralKey: new Uint8Array(Buffer.from(ephemeralKey, "hex")), kemCt: new Uint8Array(kem), encType};
}

/** The control object of a layer in the order the protocol writes it (vectors compare bytes). */
export function hopControlJson(control: HopControl): Record<string, unknown> {
  return {ephemeral_key: toHex(control.ephemeralKey), kem_ct: toBase64(control.kemCt), enc_type: control.encType};
}
