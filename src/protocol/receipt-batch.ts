/**
 * The header a node signs over a batch of receipts (docs/PROTOCOL.md Client RPC, "Receipts"):
 * node ID (32 bytes) ‖ t (u64 BE, ms) ‖ n (u32 BE, receipts in the batch) ‖ Merkle root (32 bytes).
 * The node builds it to sign (receipts/) and a client rebuilds it to verify (client/), so it is
 * written once here.
 */
export const RECEIPT_BATCH_HEADER_BYTES = 32 + 8 + 4 + 32;

export function batchHeader(nodeId: string, t: number, n: number, root: Uint8Array): Buffer {
  const out = Buffer.alloc(RECEIPT_BATCH_HEADER_BYTES);
  Buffer.from(nodeId, "hex").copy(out, 0);
  out.writeBigUInt64BE(BigInt(t), 32);
  out.writeUInt32BE(n, 40);
  Buffer.from(root).copy(out, 44);
  return out;
}
