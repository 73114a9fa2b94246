/**
 * Strict text encodings for node records. Node's Buffer decoders are lenient (they skip invalid
 * characters and missing padding), which would let two different strings denote the same bytes,
 * so every decoder here accepts only the canonical form and returns null otherwise.
 */
import {Buffer} from "node:buffer";

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const LOWER_HEX_RE = /^(?:[0-9a-f]{2})*$/;

/** Canonical padded base64 -> bytes; null for anything else (also non-canonical trailing bits). */
export function fromBase64Strict(text: string): Uint8Array | null {
  if (!BASE64_RE.test(text)) return null;
  const bytes = Buffer.from(text, "base64");
  if (bytes.toString("base64") !== text) return null;
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Lowercase hex -> bytes; null for odd length, uppercase or non-hex characters. */
export function fromHexStrict(text: string): Uint8Array | null {
  if (!LOWER_HEX_RE.test(text)) return null;
  const bytes = Buffer.from(text, "hex");
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

