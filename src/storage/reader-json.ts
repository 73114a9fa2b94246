/**
 * A retrieve page's JSON, made from the stored rows (rpc/methods/retrieve.ts on the main thread,
 * reader-worker.ts on the reader thread): both must give the very bytes `JSON.stringify` gives for
 * the page's message objects (`{hash, timestamp, expiration, data: base64}`), which the
 * response-json tests pin.
 */
import type {StoredMessage} from "./interface.js";

/** Session's size of a message in a retrieve page, which `maxSize` limits (RetrieveQuery.sizeOf). */
export function pageSizeOf(m: StoredMessage): number {
  return 100 + m.hash.length + Math.floor((m.data.length * 4) / 3);
}

/** JSON.stringify's text of the page's messages, as the objects the retrieve answer holds would give. */
export function messagesJson(rows: readonly StoredMessage[]): string {
  let out = "[";
  for (let i = 0; i < rows.length; i++) {
    const m = rows[i] as StoredMessage;
    // Base64 needs no escaping; the hash does not either but goes through JSON.stringify anyway (43 chars).
    out += `${i === 0 ? "" : ","}{"hash":${JSON.stringify(m.hash)},"timestamp":${numberJson(m.timestamp)},"expiration":${numberJson(m.expiry)},"data":"${m.data.toString("base64")}"}`;
  }
  return `${out}]`;
}

/**
 * The whole answer of a page, `{"messages":[…],"more":…` followed by `tail`: the text of the
 * answer's other fields after `more` (`,"t":…,"hf":[…]}`, made by the caller, closing brace included).
 */
export function pageJson(rows: readonly StoredMessage[], more: boolean, tail: string): string {
  return `{"messages":${messagesJson(rows)},"more":${more}${tail}`;
}

/** String(n) for a finite number (JSON has no NaN or Infinity: null, as JSON.stringify writes them). */
export function numberJson(n: number): string {
  // A millisecond time is a heap number, whose String() takes V8's shortest-digits path; its two
  // halves below 10⁸ are small integers, printed (and cached) far faster, with the same digits.
  // floor(n / 10⁸) is exact for a safe integer: its quotient is below 2²⁷, where a double's
  // half-ulp is under the 10⁻⁸ that separates an integer n's quotient from the next integer.
  if (Number.isSafeInteger(n) && n >= 1e8) {
    const high = Math.floor(n / 1e8);
    const low = String(n - high * 1e8);
    return `${high}${"00000000".slice(low.length)}${low}`;
  }
  return Number.isFinite(n) ? String(n) : "null";
}
