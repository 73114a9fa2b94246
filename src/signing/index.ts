export {InlineSigner, WorkerSigner} from "./context-signer.js";
export type {ContextSigner} from "./context-signer.js";
export {ResponseSigner} from "./response-signer.js";
