/** The node-key signer: ML-DSA-65 signatures with the node's key, on a worker thread when it can run. */
export {InlineSigner, WorkerSigner} from "./context-signer.js";
export type {ContextSigner} from "./context-signer.js";
