/** RPC receipts: the signed receipt strings of Session's RPC and the batched response signer. */
export {defaultResponseSignerOptions, ResponseSigner, signedReceiptJson} from "./response-signer.js";
export type {SignedReceipt, SignedReceiptJson} from "./response-signer.js";
export {storeReceipt, type StoreReceiptFee, type StoreReceiptFields} from "./receipts.js";
