import {InvalidArgumentError} from "../../util/index.js";
import {CryptoError} from "../errors.js";
import type {PqBackend, PqBackendName} from "../interface.js";
import {createLiboqsBackend} from "./liboqs.js";
import {nobleBackend} from "./noble.js";
import {crossCheckPqBackend} from "./self-test.js";

export {
  checkMlDsa65KeyPair,
  checkMlKem768KeyPair,
  mlDsa65SecretKeyInRange,
  type KeyCheckFailure,
} from "./key-checks.js";
export {createLiboqsBackend, LIBOQS_DELEGATED_TO_NOBLE, type LiboqsBackendOptions} from "./liboqs.js";
export {
  checkContextKnownAnswers,
  loadCheckedLiboqsContextMlDsa65,
  loadLiboqsContextMlDsa65,
  type LiboqsContextMlDsa65,
} from "./liboqs-context.js";
export {nobleBackend, nobleMlDsa65, nobleMlKem768} from "./noble.js";
export {crossCheckPqBackend} from "./self-test.js";
export {
  ML_DSA65_SEED_BYTES,
  ML_DSA_MAX_CONTEXT_BYTES,
  ML_KEM768_ENCAPS_SEED_BYTES,
  ML_KEM768_SEED_BYTES,
} from "./checks.js";

export interface LoadPqBackendOptions {
  /**
   * Called with the reason when noble is used instead of liboqs: for everything ("auto", liboqs
   * unusable), or with "liboqs"/"auto" only for ML-DSA-65 with a context (context path unusable).
   */
  onFallback?: (reason: CryptoError) => void;
  /** Replaces `createLiboqsBackend` (tests inject failing or broken backends here). */
  liboqsFactory?: () => Promise<PqBackend>;
}

async function loadCheckedLiboqs(opts: LoadPqBackendOptions): Promise<PqBackend> {
  const factory = opts.liboqsFactory ?? (() => createLiboqsBackend({onContextFallback: opts.onFallback}));
  const backend = await factory();
  crossCheckPqBackend(backend, nobleBackend);
  return backend;
}

/**
 * Returns a post-quantum backend:
 * - "noble": the pure-JS reference, always available.
 * - "liboqs": liboqs (WebAssembly; ML-DSA-65 with a context only after its own known-answer test
 *   against noble, else delegated to noble and reported via `onFallback`); throws CRYPTO_ERROR_BACKEND_UNAVAILABLE if it cannot load and
 *   CRYPTO_ERROR_SELF_TEST_FAILED if it disagrees with noble (signatures both ways, with and
 *   without a context; KEM both ways; implicit rejection).
 * - "auto": liboqs if it loads and passes that self-test, else noble (reported via `onFallback`).
 */
export async function loadPqBackend(name: PqBackendName | "auto", opts: LoadPqBackendOptions = {}): Promise<PqBackend> {
  switch (name) {
    case "noble":
      return nobleBackend;
    case "liboqs":
      return loadCheckedLiboqs(opts);
    case "auto":
      try {
        return await loadCheckedLiboqs(opts);
      } catch (err) {
        const reason =
          err instanceof CryptoError
            ? err
            : new CryptoError({code: "CRYPTO_ERROR_BACKEND_UNAVAILABLE", backend: "liboqs"}, String(err), err);
        opts.onFallback?.(reason);
        return nobleBackend;
      }
    default:
      throw new InvalidArgumentError(`unknown post-quantum backend "${String(name)}" (expected noble, liboqs or auto)`);
  }
}
