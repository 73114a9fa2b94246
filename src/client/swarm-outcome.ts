/**
 * Reading a recursive answer (`{swarm: {<node id>: entry, …}}`): which members confirmed with a
 * receipt that verifies against their key from the membership, which failed, which are unknown,
 * and which sent a receipt that does not verify.
 */
import type {PqBackend} from "../crypto/index.js";
import type {NodeInfo} from "./nodes.js";
import {verifyReceipt} from "./receipts.js";
import type {Entry} from "./requests.js";

export interface SwarmOutcome {
  /** Members whose entries succeeded and whose receipts verified. */
  confirmed: string[];
  /** Members that reported a failure (`{"failed": true, …}`), with their entries. */
  failed: Array<{nodeId: string; entry: Entry}>;
  /** Entries from node IDs the client has no key for: nothing proves them. */
  unverified: string[];
  /** Entries whose receipt does not verify (or lacks what the receipt needs), and why. */
  invalid: Array<{nodeId: string; reason: string}>;
  /** Every entry as the node sent it. */
  entries: Record<string, Entry>;
}

export interface OutcomeInputs {
  pq: PqBackend;
  /** The membership's key for a node ID, if known. */
  keyOf: (nodeId: string) => NodeInfo | undefined;
  receipt: (entry: Entry) => Uint8Array | null;
}

export function swarmOutcome(body: unknown, inputs: OutcomeInputs): SwarmOutcome | null {
  const swarm = (body as {swarm?: unknown} | null)?.swarm;
  if (typeof swarm !== "object" || swarm === null || Array.isArray(swarm)) return null;
  const out: SwarmOutcome = {confirmed: [], failed: [], unverified: [], invalid: [], entries: {}};
  for (const [nodeId, raw] of Object.entries(swarm as Record<string, unknown>)) {
    if (typeof raw !== "object" || raw === null) {
      out.invalid.push({nodeId, reason: "entry is not an object"});
      continue;
    }
    const entry = raw as Entry;
    out.entries[nodeId] = entry;
    if (entry.failed === true) {
      out.failed.push({nodeId, entry});
      continue;
    }
    const node = inputs.keyOf(nodeId);
    if (node === undefined) {
      out.unverified.push(nodeId);
      continue;
    }
    const receipt = inputs.receipt(entry);
    const why = receipt === null ? "entry lacks the fields its receipt covers" : verifyReceipt(inputs.pq, node, receipt, entry);
    if (why === null) out.confirmed.push(nodeId);
    else out.invalid.push({nodeId, reason: why});
  }
  return out;
}
