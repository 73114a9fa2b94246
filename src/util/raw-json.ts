/**
 * Objects that carry their own JSON text (rpc/response-json.ts builds the hot answers this way):
 * the serialiser sits under a symbol, so `JSON.stringify`, a spread copy and a structured clone all
 * ignore it and see the plain object. Here, below every layer, so that replication/ can attach one
 * to the peers' entries it hands to the RPC's fan-out (each written with its batch signature's text
 * made once per reply).
 */
const RAW_JSON = Symbol("rawJson");

export type JsonOf<T> = (o: T) => string;

/** Attaches `json` as `o`'s serialiser: not enumerable, so a spread copy or a structured clone drops it. */
export function withJson<T extends object>(o: T, json: JsonOf<T>): T {
  Object.defineProperty(o, RAW_JSON, {value: json});
  return o;
}

/** Exactly `JSON.stringify(value)`, taking an attached serialiser where there is one. */
export function valueJson(value: unknown): string | undefined {
  if (typeof value === "object" && value !== null) {
    const json = (value as {[RAW_JSON]?: JsonOf<object>})[RAW_JSON];
    if (json !== undefined) return json(value);
  }
  return JSON.stringify(value);
}
