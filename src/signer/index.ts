/** The node-key signer: ML-DSA-65 signatures with the node's key, on a worker thread when it can run. */
export {InlineSigner, InlineVerifier, WorkerSigner} from "./context-signer.js";
export type {ContextSigner, SignatureVerifier} from "./context-signer.js";
