import type {PqBackend} from "../../crypto/index.js";

/** Signs with the node's ML-DSA-65 key (structurally `ContextSigner` from src/signing/). */
export interface HandshakeSigner {
  sign(message: Uint8Array, context: Uint8Array): Promise<Uint8Array>;
}

/** Signs on the calling thread (~8-16 ms per handshake with noble; tests and small nodes). */
export function inlineHandshakeSigner(pq: PqBackend, secretKey: Uint8Array): HandshakeSigner {
  return {
    sign: (message, context) => {
      try {
        return Promise.resolve(pq.mlDsa65.sign(secretKey, message, context));
      } catch (err) {
        return Promise.reject(err instanceof Error ? err : new Error(String(err)));
      }
    },
  };
}
