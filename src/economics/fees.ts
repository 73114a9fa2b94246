import {InvalidArgumentError} from "../util/index.js";
import {multiplierForUtilization, scarcityMultiplier, type StorageLoad} from "./scarcity.js";
import {BYTES_PER_KB, assertSafeUint, parsToBase} from "./units.js";

/**
 * PIP-0008 §2.2 "Transaction Fees" and §6.1 "Fee Structure" for the storage node's operations.
 * See docs/economics.md "Fees".
 */

/** §6.1 Session Create: 0.001 PARS. */
export const SESSION_CREATE_FEE = parsToBase("0.001");
/** §6.1 Message Store: 0.0001 PARS per KB (KB = 1,024 bytes, partial KB rounds up). */
export const STORAGE_FEE_PER_KB = parsToBase("0.0001");
/** §6.1 Message Retrieve: free ("included in stake"). */
export const RETRIEVE_FEE = 0n;
/** §6.1 Session Close: free. */
export const SESSION_CLOSE_FEE = 0n;

/** The §6.1 table for the storage node's operations (base units; message store is per KB). */
export const FEE_STRUCTURE = Object.freeze({
  sessionCreate: SESSION_CREATE_FEE,
  messageStorePerKb: STORAGE_FEE_PER_KB,
  messageRetrieve: RETRIEVE_FEE,
  sessionClose: SESSION_CLOSE_FEE,
});

/** Billed kilobytes: ceil(bytes / 1,024); 0 bytes → 0 KB. */
export function billableKilobytes(bytes: number): bigint {
  assertSafeUint(bytes, "bytes");
  return (BigInt(bytes) + BigInt(BYTES_PER_KB) - 1n) / BigInt(BYTES_PER_KB);
}

/** Storage fee for `bytes`: billable KB × 0.0001 PARS × `multiplier` (the §4.2 scarcity multiplier). */
export function storageFee(bytes: number, multiplier: bigint = 1n): bigint {
  if (multiplier < 1n) throw new InvalidArgumentError(`multiplier must be ≥ 1, got ${multiplier}`);
  return billableKilobytes(bytes) * STORAGE_FEE_PER_KB * multiplier;
}

/** How full storage is: either used and capacity (one unit), or an integer utilization percentage. */
export type StorageUtilization = StorageLoad | {utilizationPct: number};

/** What `quoteStore` needs, with the utilization given one of the two `StorageUtilization` ways. */
export type StoreQuoteInput = StorageUtilization & {
  /** Length of the stored message body in bytes (decoded, not its base64 text). */
  dataBytes: number;
  /** True when this store creates the account's mailbox: it also pays the Session Create fee. */
  newMailbox: boolean;
};

export interface StoreQuote {
  kilobytes: bigint;
  /** Storage fee before scarcity: kilobytes × 0.0001 PARS. */
  baseFee: bigint;
  multiplier: bigint;
  /** baseFee × multiplier. */
  storageFee: bigint;
  /** 0.001 PARS when `newMailbox`, else 0; never multiplied (§4.2 prices storage only). */
  sessionCreateFee: bigint;
  total: bigint;
}

/** Prices one store: storage fee with the scarcity multiplier, plus the Session Create fee for a new mailbox. */
export function quoteStore(input: StoreQuoteInput): StoreQuote {
  const kilobytes = billableKilobytes(input.dataBytes);
  const baseFee = kilobytes * STORAGE_FEE_PER_KB;
  const multiplier = multiplierOf(input);
  const storage = baseFee * multiplier;
  const sessionCreateFee = input.newMailbox ? SESSION_CREATE_FEE : 0n;
  return {kilobytes, baseFee, multiplier, storageFee: storage, sessionCreateFee, total: storage + sessionCreateFee};
}

function multiplierOf(utilization: StorageUtilization): bigint {
  const hasPct = "utilizationPct" in utilization;
  const hasLoad = "storageUsed" in utilization || "storageCapacity" in utilization;
  if (hasPct === hasLoad) {
    throw new InvalidArgumentError("give either utilizationPct or storageUsed and storageCapacity");
  }
  if ("utilizationPct" in utilization) return multiplierForUtilization(utilization.utilizationPct);
  return scarcityMultiplier(utilization.storageUsed, utilization.storageCapacity);
}
