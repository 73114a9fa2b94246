export {InlineSigner, WorkerSigner} from "./context-signer.js";
export type {ContextSigner} from "./context-signer.js";
export {ResponseSigner} from "./response-signer.js";
export {storeReceipt, type StoreReceiptFee, type StoreReceiptFields} from "./receipts.js";
