/**
 * What the relay needs from the hop-layer module (src/onion/, docs/PROTOCOL.md "Onion requests"):
 * parse an entry blob, open this node's layer. Injected, so the relay's own logic (limits,
 * counters, relaying, final-hop dispatch) is tested with a stand-in layer and the node wires the
 * real one.
 */
export type OpenedLayer =
  | {kind: "relay"; destination: string; nextBlob: Uint8Array; hopNo: number}
  | {kind: "final"; rpcBody: Uint8Array; hopNo: number; encryptResponse(status: number, body: unknown): Uint8Array | string};

export interface OnionLayers<Entry = unknown> {
  /** Throws on a malformed blob (the error's message is the reason sent back). */
  parseEntryBlob(blob: Uint8Array): Entry;
  /** Throws when the layer does not decrypt with this node's keys. */
  openLayer(entry: Entry): OpenedLayer;
}
