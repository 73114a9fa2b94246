/**
 * What the relay needs from the hop-layer module (src/onion/, docs/PROTOCOL.md "Onion requests"):
 * parse an entry blob, open this node's layer. Injected, so the relay's own logic (limits,
 * counters, relaying, final-hop dispatch) is tested with a stand-in layer and the node wires the
 * real one.
 */
export type OpenedLayer =
  | {kind: "relay"; destination: string; nextBlob: Uint8Array; hopNo: number}
  | {kind: "final"; rpcBody: Uint8Array; hopNo: number; encryptResponse(status: number, body: unknown): Uint8Array | string};

/**
 * What the layer module throws (its OnionError): Session's status and plain body for the case, and,
 * when the layer decrypted but its content is bad, `encryptReply` to answer the client sealed.
 */
export interface LayerRefusal {
  code: "ONION_ERROR_PARSE" | "ONION_ERROR_MAX_HOPS" | "ONION_ERROR_DECRYPT" | "ONION_ERROR_INVALID_LAYER" | (string & {});
  status: number;
  body: string;
  encryptReply?: ((status: number, body: unknown) => string) | undefined;
}

export interface OnionLayers<Entry = unknown> {
  /** Throws a LayerRefusal on a malformed blob or a hop_no past the limit. */
  parseEntryBlob(blob: Uint8Array): Entry;
  /** Throws a LayerRefusal when the layer does not decrypt with this node's keys or is malformed. */
  openLayer(entry: Entry): OpenedLayer;
}

export function isLayerRefusal(err: unknown): err is LayerRefusal {
  if (typeof err !== "object" || err === null) return false;
  const e = err as Record<string, unknown>;
  return typeof e.code === "string" && e.code.startsWith("ONION_ERROR_") && typeof e.status === "number" && typeof e.body === "string";
}
