import {signedReceiptJson, type SignedReceipt} from "../receipts/index.js";
import {valueJson, withJson} from "../util/index.js";

/**
 * Response bodies that carry their own JSON text, so the hot answers (a store's signed entry, a
 * retrieve page) are written from pre-serialised parts instead of `JSON.stringify` of a fresh
 * nested object per request. The object stays complete: whatever does not ask for the text (a
 * batch sub-request, a WebSocket frame, an onion response) serialises it with `JSON.stringify` and
 * gets the same bytes. The text is computed when asked for, from the object's fields at that time,
 * so a field changed after the answer was built (`runRecursive`'s `extra`) is not lost.
 */

/** The text of a JSON response body (`JSON.stringify`'s bytes). */
export function responseJson(body: Record<string, unknown>): string {
  return valueJson(body) as string;
}

const keyTexts = new Map<string, string>();
const KEY_TEXTS_MAX = 4096;

/** `"key":`, cached: the same few keys (and swarm members' IDs) open every answer. */
function keyText(key: string): string {
  let text = keyTexts.get(key);
  if (text === undefined) {
    text = `${JSON.stringify(key)}:`;
    if (keyTexts.size < KEY_TEXTS_MAX) keyTexts.set(key, text);
  }
  return text;
}

/**
 * `JSON.stringify(o)` for a plain object, one level at a time: `field(key)` may give a key's value
 * text (it is then not read from `o`), otherwise the value goes through {@link valueJson}. Keys in
 * `Object.keys` order and values that serialise to nothing skipped, as `JSON.stringify` does.
 */
export function objectJson<T extends object>(o: T, field?: (key: string) => string | undefined): string {
  let out = "{";
  for (const key of Object.keys(o)) {
    const text = field?.(key) ?? valueJson((o as Record<string, unknown>)[key]);
    if (text === undefined) continue;
    out += out.length === 1 ? keyText(key) + text : `,${keyText(key)}${text}`;
  }
  return `${out}}`;
}

/** Serialises `o` with {@link objectJson} (its values' own serialisers apply). */
export function withObjectJson<T extends object>(o: T): T {
  return withJson(o, (x) => objectJson(x));
}

/**
 * A response entry holding `signed`'s fields: its `signature` and `signature_proof` are written
 * from the texts the signer made once per batch (the ~4.4 KB signature) and once per receipt, as
 * long as the entry still holds those very values.
 */
export function withSignedJson<T extends object>(entry: T, signed: SignedReceipt): T {
  const parts = signedReceiptJson(signed);
  if (parts === undefined) return entry;
  return withJson(entry, (e) =>
    objectJson(e, (key) => {
      const v = (e as Record<string, unknown>)[key];
      if (key === "signature" && v === signed.signature) return parts.signature;
      if (key === "signature_proof" && v === signed.signature_proof) return parts.proof;
      return undefined;
    }),
  );
}
