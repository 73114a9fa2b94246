/**
 * Cross-check of a candidate backend against the reference (noble): the cheapest evidence that a
 * fast backend computes the standard algorithms. Runs in ~30 ms (dominated by noble's signing).
 */
import {CTX} from "../contexts.js";
import {equalBytes} from "../bytes.js";
import {CryptoError} from "../errors.js";
import type {PqBackend} from "../interface.js";

const MESSAGE = new TextEncoder().encode("pars-storage backend self-test");
const EMPTY = new Uint8Array(0);

function fail(candidate: PqBackend, check: string): never {
  throw new CryptoError(
    {code: "CRYPTO_ERROR_SELF_TEST_FAILED", backend: candidate.name, check},
    `post-quantum backend "${candidate.name}" failed its self-test against noble: ${check}`,
  );
}

function checkSignatures(candidate: PqBackend, reference: PqBackend): void {
  const c = candidate.mlDsa65;
  const r = reference.mlDsa65;
  const keys = c.keygen();
  for (const context of [EMPTY, CTX.REQUEST_AUTH]) {
    const label = context.length === 0 ? "empty context" : "with context";
    const mine = c.sign(keys.secretKey, MESSAGE, context);
    if (!r.verify(keys.publicKey, MESSAGE, mine, context)) fail(candidate, `noble rejects its signature (${label})`);
    const theirs = r.sign(keys.secretKey, MESSAGE, context);
    if (!c.verify(keys.publicKey, MESSAGE, theirs, context)) fail(candidate, `it rejects noble's signature (${label})`);
    const tampered = mine.slice();
    tampered[100] = (tampered[100] ?? 0) ^ 1;
    if (c.verify(keys.publicKey, MESSAGE, tampered, context)) fail(candidate, `it accepts a tampered signature (${label})`);
  }
  const sig = c.sign(keys.secretKey, MESSAGE, CTX.REQUEST_AUTH);
  if (c.verify(keys.publicKey, MESSAGE, sig, CTX.NODE_RECORD)) fail(candidate, "it accepts a signature under another context");
}

function checkKem(candidate: PqBackend, reference: PqBackend): void {
  const c = candidate.mlKem768;
  const r = reference.mlKem768;
  const mine = c.keygen();
  const toMine = r.encapsulate(mine.publicKey);
  if (!equalBytes(c.decapsulate(toMine.cipherText, mine.secretKey), toMine.sharedSecret)) {
    fail(candidate, "it cannot decapsulate noble's ciphertext to its own key");
  }
  const theirs = r.keygen();
  const toTheirs = c.encapsulate(theirs.publicKey);
  if (!equalBytes(r.decapsulate(toTheirs.cipherText, theirs.secretKey), toTheirs.sharedSecret)) {
    fail(candidate, "noble cannot decapsulate its ciphertext");
  }
  const bad = toMine.cipherText.slice();
  bad[0] = (bad[0] ?? 0) ^ 1;
  // FIPS 203 implicit rejection: both must return the same K̄ = J(z ‖ c), not the real secret.
  const rejected = c.decapsulate(bad, mine.secretKey);
  if (equalBytes(rejected, toMine.sharedSecret) || !equalBytes(rejected, r.decapsulate(bad, mine.secretKey))) {
    fail(candidate, "implicit rejection of a modified ciphertext differs from noble");
  }
}

/** Throws CRYPTO_ERROR_SELF_TEST_FAILED unless `candidate` interoperates with `reference`. */
export function crossCheckPqBackend(candidate: PqBackend, reference: PqBackend): void {
  checkSignatures(candidate, reference);
  checkKem(candidate, reference);
}
