/**
 * Receipt of a store entry: everything the node asserts about the store, so that no field of the
 * entry can be altered without breaking the node's signature (an entry node relays the other
 * members' entries and must not be able to change their `expiry` or `fee`). Session signs the
 * message hash alone; Pars signs, in ASCII separated by single spaces,
 *   hash expiry status fee
 * where status is `new` or `already` and fee is `-` when the entry carries none, else its six
 * fields in their JSON order: unit base_fee multiplier storage_fee session_create_fee total.
 * No field can contain a space, so the string splits back into its fields unambiguously.
 * docs/PROTOCOL.md (Client RPC §3) is the specification; test/fixtures/signing has the vectors.
 */
export interface StoreReceiptFee {
  unit: string;
  base_fee: string;
  multiplier: number;
  storage_fee: string;
  session_create_fee: string;
  total: string;
}

export interface StoreReceiptFields {
  hash: string;
  expiry: number;
  already: boolean;
  fee?: StoreReceiptFee;
}

export function storeReceipt(entry: StoreReceiptFields): Buffer {
  const fee = entry.fee === undefined ? ["-"] : feeFields(entry.fee);
  const status = entry.already ? "already" : "new";
  return Buffer.from([entry.hash, String(entry.expiry), status, ...fee].join(" "));
}

function feeFields(f: StoreReceiptFee): string[] {
  return [f.unit, f.base_fee, String(f.multiplier), f.storage_fee, f.session_create_fee, f.total];
}
