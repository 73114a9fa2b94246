/**
 * Byte encodings with the acceptance rules of Session's storage server (oxenc): hex is
 * case-insensitive with an even length; base64 uses the standard alphabet, padding optional but
 * only as the final one or two characters of a length that is a multiple of 4.
 */
const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;
const B64_RE = /^[A-Za-z0-9+/]*$/;

export function isHex(s: string): boolean {
  return HEX_RE.test(s);
}

export function isBase64(s: string): boolean {
  let body = s;
  if (s.length % 4 === 0 && s.endsWith("=")) {
    body = s.endsWith("==") ? s.slice(0, -2) : s.slice(0, -1);
  }
  // An unpadded length of 4k+1 can never be valid base64.
  return body.length % 4 !== 1 && B64_RE.test(body);
}

export function fromHex(s: string): Buffer {
  return Buffer.from(s, "hex");
}

export function fromBase64(s: string): Buffer {
  return Buffer.from(s, "base64");
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/**
 * Decodes base64 that must hold exactly `bytes` bytes: either unpadded, or padded to a multiple of
 * four. Returns null when the text is not exactly that.
 */
export function decodeFixedBase64(s: string, bytes: number): Buffer | null {
  const unpadded = Math.ceil((bytes * 4) / 3);
  const padded = Math.ceil(bytes / 3) * 4;
  if (!isBase64(s)) return null;
  if (s.length !== unpadded && !(s.length === padded && /=*$/.exec(s)?.[0].length === padded - unpadded)) {
    return null;
  }
  const out = fromBase64(s);
  return out.length === bytes ? out : null;
}

/** Decodes `bytes` bytes given as hex (2×bytes chars) or base64 (padded or not); null otherwise. */
export function decodeHexOrBase64(s: string, bytes: number): Buffer | null {
  if (s.length === bytes * 2 && isHex(s)) return fromHex(s);
  return decodeFixedBase64(s, bytes);
}
