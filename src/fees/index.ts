/** Fees in use: store quotes (FeeService) and what this node charged per epoch (FeeLedger); the pure formulas are economics/. */
export {FeeService, networkOrOwnLoad, quoteJson} from "./fee-service.js";
export type {FeeQuoteJson, FeeServiceModules, StorageLoadSource} from "./fee-service.js";
export {FeeLedger, defaultFeeLedgerOptions, type FeeLedgerModules, type FeeLedgerOptions, type FeeLedgerStore} from "./fee-ledger.js";
