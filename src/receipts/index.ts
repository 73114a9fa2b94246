/** RPC receipts: the signed receipt strings of Session's RPC and the batched response signer. */
export {defaultResponseSignerOptions, ResponseSigner} from "./response-signer.js";
export {storeReceipt, type StoreReceiptFee, type StoreReceiptFields} from "./receipts.js";
