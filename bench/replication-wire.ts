/**
 * Micro-benchmark of the peer reply that carries a batch's entries back to the entry node
 * (`rpc_batch_ok`, docs/PROTOCOL.md Replication §3.2): encoded by the peer, decoded by the entry
 * node, with every entry carrying its ~4.4 KB ML-DSA batch signature, and with the signature sent
 * once (shared signatures). Entries are shaped like real store entries of a 50-receipt batch.
 * `node dist/bench/replication-wire.js` runs it alone.
 */
import {randomBytes} from "node:crypto";
import {pathToFileURL} from "node:url";
import {decodePeerReply, encodePeerMessage, type RpcResult} from "../src/replication/wire.js";
import {median, round} from "./util.js";

export interface ReplicationWireRow {
  name: string;
  /** Encode + decode per entry, in µs (median of the reps). */
  usPerEntry: number;
  bytesPerEntry: number;
}

const ML_DSA_65_SIGNATURE_BYTES = 3309;

function batchResults(n: number): RpcResult[] {
  const signature = randomBytes(ML_DSA_65_SIGNATURE_BYTES).toString("base64");
  const path = Array.from({length: Math.ceil(Math.log2(n))}, () => randomBytes(32).toString("base64"));
  const t = Date.now();
  return Array.from({length: n}, (_, i) => ({
    status: 200,
    body: {hash: randomBytes(32).toString("base64").slice(0, 43), signature, signature_proof: {t, n, i, path}, expiry: t + 86_400_000, t},
  }));
}

function measure(results: RpcResult[], share: boolean, reps: number, rounds: number): {us: number; bytes: number} {
  const times: number[] = [];
  let bytes = 0;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    for (let k = 0; k < rounds; k++) {
      const encoded = encodePeerMessage({type: "rpc_batch_ok", results, ...(share ? {shareSignatures: true} : {})});
      bytes = encoded.length;
      decodePeerReply(encoded);
    }
    times.push(((performance.now() - t0) * 1000) / rounds / results.length);
  }
  return {us: median(times), bytes: bytes / results.length};
}

export function benchReplicationWire({entries = 50, reps = 9, rounds = 20} = {}): ReplicationWireRow[] {
  const results = batchResults(entries);
  const rows: ReplicationWireRow[] = [];
  for (const share of [false, true]) {
    const {us, bytes} = measure(results, share, reps, rounds);
    rows.push({name: share ? "shared signatures" : "signature per entry", usPerEntry: round(us, 1), bytesPerEntry: Math.round(bytes)});
  }
  return rows;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of benchReplicationWire()) process.stdout.write(`${r.name.padEnd(20)} ${String(r.usPerEntry).padStart(7)} µs/entry ${String(r.bytesPerEntry).padStart(6)} B/entry\n`);
}
