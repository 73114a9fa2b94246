/**
 * ML-DSA-65 WITH a FIPS 204 context string in liboqs' WebAssembly (@oqs/liboqs-js 0.15.1).
 *
 * Why this exists: the package's JS wrapper has no context API, and its WebAssembly build replaced
 * `OQS_SIG_ml_dsa_65_{sign,verify}_with_ctx_str` by stubs whose whole body is `unreachable` (they
 * trap when called through the OQS_SIG function table). But the exported context-less wrappers are
 * two-line functions that call the underlying mldsa-native routines with an empty context:
 *
 *   sign(sig, siglen, m, mlen, sk)   = signature(sig, siglen, m, mlen, ctx=NULL, ctxlen=0, sk)
 *   verify(m, mlen, sig, siglen, pk) = verify(sig, siglen, m, mlen, ctx=NULL, ctxlen=0, pk)
 *
 * and those routines take a context (M' = 0x00 ‖ len(ctx) ‖ ctx ‖ M). So we read the module's
 * embedded WebAssembly, find the two wrappers by their exact instruction bytes, add exports for the
 * functions they call, and instantiate the patched module through Emscripten's `instantiateWasm`
 * hook. Nothing is compiled or downloaded; the code that runs is liboqs' own.
 *
 * Every step is checked and any mismatch (another liboqs-js build, a different glue) throws
 * CRYPTO_ERROR_BACKEND_UNAVAILABLE; `knownAnswerCheck` then has to reproduce noble's deterministic
 * FIPS 204 signatures byte for byte before anything signs or verifies with it.
 */
import {readFile} from "node:fs/promises";
import {fileURLToPath} from "node:url";
import {ml_dsa65} from "@noble/post-quantum/ml-dsa.js";
import {equalBytes} from "../bytes.js";
import {CTX} from "../contexts.js";
import {CryptoError} from "../errors.js";
import {ML_DSA65_SECRET_KEY_BYTES, ML_DSA65_SIGNATURE_BYTES} from "../interface.js";
import {assertSignInput, isVerifyInput, ML_DSA_MAX_CONTEXT_BYTES} from "./checks.js";

/** The glue script of liboqs-js' ML-DSA-65 build, relative to the package's main entry. */
const GLUE_PATH = "../dist/ml-dsa-65.min.js";
const SIGN_EXPORT = "pars_mldsa65_sign_ctx";
const VERIFY_EXPORT = "pars_mldsa65_verify_ctx";

// Bodies of the context-less wrappers (no locals; local.get …; i32.const 0 ×2; local.get 4; call).
const SIGN_WRAPPER = [0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0x20, 0x03, 0x41, 0x00, 0x41, 0x00, 0x20, 0x04, 0x10];
const VERIFY_WRAPPER = [0x00, 0x20, 0x02, 0x20, 0x03, 0x20, 0x00, 0x20, 0x01, 0x41, 0x00, 0x41, 0x00, 0x20, 0x04, 0x10];

/** The slice of the WebAssembly JS API used here (tsconfig's lib and @types/node 20 declare none). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
}
interface WasmInstance {
  readonly exports: Record<string, unknown>;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  compile(bytes: Uint8Array): Promise<object>;
  Instance: new (module: object, imports: object) => WasmInstance;
  Memory: abstract new (...args: never[]) => WasmMemory;
}
const Wasm = (globalThis as unknown as {WebAssembly: WasmApi}).WebAssembly;

const SECTION_EXPORT = 7;
const SECTION_CODE = 10;
const EXPORT_KIND_FUNCTION = 0x00;

export interface LiboqsContextMlDsa65 {
  /** FIPS 204 hedged signing (fresh randomness from the module's getentropy); throws on failure. */
  sign(secretKey: Uint8Array, message: Uint8Array, context: Uint8Array): Uint8Array;
  verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array, context: Uint8Array): boolean;
  /** FIPS 204 deterministic variant (rnd = 0^32): for the known-answer self-test only. */
  signDeterministic(secretKey: Uint8Array, message: Uint8Array, context: Uint8Array): Uint8Array;
}

function unavailable(reason: string, cause?: unknown): CryptoError {
  return new CryptoError(
    {code: "CRYPTO_ERROR_BACKEND_UNAVAILABLE", backend: "liboqs"},
    `liboqs ML-DSA-65 context API unavailable: ${reason}`,
    cause,
  );
}

function readLeb(bytes: Uint8Array, pos: number): [value: number, next: number] {
  let value = 0;
  let shift = 0;
  let p = pos;
  for (;;) {
    const b = bytes[p++];
    if (b === undefined || shift > 28) throw unavailable("malformed LEB128 in the WebAssembly module");
    value |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [value >>> 0, p];
    shift += 7;
  }
}

function leb(value: number): number[] {
  const out: number[] = [];
  let v = value >>> 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

interface Section {
  id: number;
  start: number; // offset of the id byte
  body: Uint8Array;
}

function sections(wasm: Uint8Array): Section[] {
  const out: Section[] = [];
  let p = 8;
  while (p < wasm.length) {
    const start = p;
    const id = wasm[p++] ?? -1;
    const [size, bodyStart] = readLeb(wasm, p);
    if (bodyStart + size > wasm.length) throw unavailable("truncated WebAssembly section");
    out.push({id, start, body: wasm.subarray(bodyStart, bodyStart + size)});
    p = bodyStart + size;
  }
  return out;
}

/**
 * Decodes the JS string literal starting at `src[quoteAt]` (the glue embeds the module as a
 * latin-1 string decoded by `charCode & 0xff`). Only the escapes a minifier emits are accepted.
 */
function decodeStringLiteral(src: string, quoteAt: number): Uint8Array {
  const quote = src[quoteAt];
  const simple: Record<string, number> = {n: 10, t: 9, r: 13, b: 8, f: 12, v: 11, "0": 0, "'": 39, '"': 34, "\\": 92};
  const out: number[] = [];
  let i = quoteAt + 1;
  while (i < src.length && src[i] !== quote) {
    if (src[i] !== "\\") {
      out.push(src.charCodeAt(i++));
      continue;
    }
    const c = src[i + 1] ?? "";
    if (c === "x" || c === "u") {
      const digits = c === "x" ? 2 : 4;
      const hexDigits = src.slice(i + 2, i + 2 + digits);
      if (!/^[0-9a-fA-F]+$/.test(hexDigits) || hexDigits.length !== digits) throw unavailable(`bad \\${c} escape`);
      out.push(parseInt(hexDigits, 16));
      i += 2 + digits;
    } else if (c in simple) {
      out.push(simple[c] ?? 0);
      i += 2;
    } else {
      throw unavailable(`unexpected escape \\${c} in the embedded WebAssembly`);
    }
  }
  if (i >= src.length) throw unavailable("unterminated embedded WebAssembly string");
  return Uint8Array.from(out, (f) => f & 0xff);
}

/** The WebAssembly module the glue script embeds (the string literal starting with "\0asm"). */
export function extractEmbeddedWasm(glue: string): Uint8Array {
  const starts = [`'\0asm`, `'\\0asm`, `"\0asm`, `"\\0asm`].map((s) => glue.indexOf(s)).filter((i) => i >= 0);
  if (starts.length === 0) throw unavailable("no embedded WebAssembly module in the glue script");
  const wasm = decodeStringLiteral(glue, Math.min(...starts));
  if (!Wasm.validate(wasm)) throw unavailable("the embedded WebAssembly module does not validate");
  return wasm;
}

/** Function index (imports included) called by the single function whose whole body is `wrapper` + call + end. */
function calleeOfWrapper(wasm: Uint8Array, wrapper: readonly number[]): number {
  const code = sections(wasm).find((s) => s.id === SECTION_CODE)?.body;
  if (code === undefined) throw unavailable("no code section");
  const [count, first] = readLeb(code, 0);
  let p = first;
  const found: number[] = [];
  for (let fn = 0; fn < count; fn++) {
    const [size, bodyStart] = readLeb(code, p);
    const body = code.subarray(bodyStart, bodyStart + size);
    if (body.length > wrapper.length && wrapper.every((b, k) => body[k] === b)) {
      const [callee, end] = readLeb(body, wrapper.length);
      if (end === body.length - 1 && body[end] === 0x0b) found.push(callee);
    }
    p = bodyStart + size;
  }
  if (found.length !== 1) throw unavailable(`expected one context-less wrapper of that shape, found ${found.length}`);
  return found[0] ?? -1;
}

/** A copy of `wasm` whose export section also exports the given function indices. */
export function addFunctionExports(wasm: Uint8Array, extra: Record<string, number>): Uint8Array {
  const parts: Uint8Array[] = [wasm.subarray(0, 8)];
  let patched = false;
  for (const s of sections(wasm)) {
    const end = s.body.byteOffset - wasm.byteOffset + s.body.length;
    if (s.id !== SECTION_EXPORT) {
      parts.push(wasm.subarray(s.start, end));
      continue;
    }
    const [count, entriesStart] = readLeb(s.body, 0);
    const added: number[] = [];
    for (const [name, index] of Object.entries(extra)) {
      const bytes = new TextEncoder().encode(name);
      added.push(...leb(bytes.length), ...bytes, EXPORT_KIND_FUNCTION, ...leb(index));
    }
    const body = Uint8Array.from([
      ...leb(count + Object.keys(extra).length),
      ...s.body.subarray(entriesStart),
      ...added,
    ]);
    parts.push(Uint8Array.from([SECTION_EXPORT, ...leb(body.length)]), body);
    patched = true;
  }
  if (!patched) throw unavailable("no export section");
  const out = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
  let o = 0;
  for (const x of parts) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}

interface EmscriptenModule {
  HEAPU8: Uint8Array;
  _malloc(size: number): number;
  _free(ptr: number): void;
  _OQS_init(): void;
}
type ContextFn = (a: number, b: number, c: number, d: number, ctx: number, ctxLen: number, key: number) => number;
type Imports = Record<string, Record<string, unknown>>;
type InstantiateWasm = (imports: Imports, done: (instance: WasmInstance, module: object) => void) => object;
type Factory = (opts: {instantiateWasm: InstantiateWasm}) => Promise<EmscriptenModule>;

/**
 * Wraps the module's entropy import (`(ptr, len) -> 0`, WASI `random_get` style) so the
 * deterministic self-test can make it return zeros. Outside `withZeroRandomness` it is untouched.
 */
function wrapEntropy(imports: Imports, state: {zero: boolean; memory?: WasmMemory}): number {
  let wrapped = 0;
  for (const ns of Object.values(imports)) {
    for (const [name, fn] of Object.entries(ns)) {
      if (typeof fn !== "function" || fn.length !== 2) continue;
      const original = fn as (ptr: number, len: number) => number;
      ns[name] = (ptr: number, len: number): number => {
        if (!state.zero || state.memory === undefined) return original(ptr, len);
        new Uint8Array(state.memory.buffer, ptr, len).fill(0);
        return 0;
      };
      wrapped++;
    }
  }
  return wrapped;
}

async function instantiate(): Promise<{
  module: EmscriptenModule;
  signFn: ContextFn;
  verifyFn: ContextFn;
  entropy: {zero: boolean; memory?: WasmMemory};
}> {
  const glueUrl = new URL(GLUE_PATH, import.meta.resolve("@oqs/liboqs-js"));
  const wasm = extractEmbeddedWasm(await readFile(fileURLToPath(glueUrl), "utf8"));
  const patched = addFunctionExports(wasm, {
    [SIGN_EXPORT]: calleeOfWrapper(wasm, SIGN_WRAPPER),
    [VERIFY_EXPORT]: calleeOfWrapper(wasm, VERIFY_WRAPPER),
  });
  const compiled = await Wasm.compile(patched);
  const entropy: {zero: boolean; memory?: WasmMemory} = {zero: false};
  let exports: Record<string, unknown> | undefined;
  const factory = ((await import(glueUrl.href)) as {default: Factory}).default;
  const module = await factory({
    instantiateWasm(imports, done) {
      if (wrapEntropy(imports, entropy) !== 1) throw unavailable("cannot identify the entropy import");
      const instance = new Wasm.Instance(compiled, imports);
      exports = instance.exports;
      entropy.memory = Object.values(exports).find((e): e is WasmMemory => e instanceof Wasm.Memory);
      done(instance, compiled);
      return {};
    },
  });
  const signFn = exports?.[SIGN_EXPORT];
  const verifyFn = exports?.[VERIFY_EXPORT];
  if (typeof signFn !== "function" || typeof verifyFn !== "function" || signFn.length !== 7 || verifyFn.length !== 7) {
    throw unavailable("the patched exports are not 7-argument functions");
  }
  module._OQS_init();
  return {module, signFn: signFn as ContextFn, verifyFn: verifyFn as ContextFn, entropy};
}

/**
 * Loads liboqs' ML-DSA-65 with context support (about 40 ms, once). Throws
 * CRYPTO_ERROR_BACKEND_UNAVAILABLE if the package's build does not have the expected shape.
 */
export async function loadLiboqsContextMlDsa65(): Promise<LiboqsContextMlDsa65> {
  let loaded: Awaited<ReturnType<typeof instantiate>>;
  try {
    loaded = await instantiate();
  } catch (err) {
    if (err instanceof CryptoError) throw err;
    throw unavailable(err instanceof Error ? err.message : String(err), err);
  }
  const {module, signFn, verifyFn, entropy} = loaded;

  // One allocation per call: [signature | siglen (size_t) | context | key | message].
  const SIGLEN_OFF = ML_DSA65_SIGNATURE_BYTES + 3; // keep size_t 4-aligned (3309 + 3 = 3312)
  const CTX_OFF = SIGLEN_OFF + 8;
  const KEY_OFF = CTX_OFF + ML_DSA_MAX_CONTEXT_BYTES + 1;
  const MSG_OFF = KEY_OFF + ML_DSA65_SECRET_KEY_BYTES;

  function withBuffer<T>(messageLength: number, use: (base: number) => T): T {
    const base = module._malloc(MSG_OFF + Math.max(messageLength, 1));
    if (base === 0) throw unavailable("out of WebAssembly memory");
    try {
      return use(base);
    } finally {
      module.HEAPU8.fill(0, base + KEY_OFF, base + MSG_OFF); // no secret key left in the heap
      module._free(base);
    }
  }

  // Lengths are checked here too (not only by the backend): the copies below must stay in the block.
  function sign(secretKey: Uint8Array, message: Uint8Array, context: Uint8Array): Uint8Array {
    assertSignInput(secretKey, message, context);
    return withBuffer(message.length, (base) => {
      const heap = module.HEAPU8;
      heap.set(context, base + CTX_OFF);
      heap.set(secretKey, base + KEY_OFF);
      heap.set(message, base + MSG_OFF);
      const rc = signFn(base, base + SIGLEN_OFF, base + MSG_OFF, message.length, base + CTX_OFF, context.length, base + KEY_OFF);
      const out = module.HEAPU8; // the heap may have grown during the call
      const sigLen = new DataView(out.buffer, base + SIGLEN_OFF, 4).getUint32(0, true);
      if (rc !== 0 || sigLen !== ML_DSA65_SIGNATURE_BYTES) throw new Error(`liboqs signing failed (rc ${rc})`);
      return out.slice(base, base + ML_DSA65_SIGNATURE_BYTES);
    });
  }

  function verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array, context: Uint8Array): boolean {
    if (!isVerifyInput(publicKey, message, signature, context)) return false;
    return withBuffer(message.length, (base) => {
      const heap = module.HEAPU8;
      heap.set(signature, base);
      heap.set(context, base + CTX_OFF);
      heap.set(publicKey, base + KEY_OFF);
      heap.set(message, base + MSG_OFF);
      return verifyFn(base, signature.length, base + MSG_OFF, message.length, base + CTX_OFF, context.length, base + KEY_OFF) === 0;
    });
  }

  function signDeterministic(secretKey: Uint8Array, message: Uint8Array, context: Uint8Array): Uint8Array {
    entropy.zero = true;
    try {
      return sign(secretKey, message, context);
    } finally {
      entropy.zero = false;
    }
  }

  return Object.freeze({sign, verify, signDeterministic});
}

const KAT_SEED = new Uint8Array(32).fill(0x50);
const KAT_MESSAGE = new TextEncoder().encode("pars-storage ML-DSA-65 known-answer test");
const KAT_CONTEXTS = [new Uint8Array(0), CTX.REQUEST_AUTH, Uint8Array.from({length: ML_DSA_MAX_CONTEXT_BYTES}, (_, i) => i)];

function katFailed(check: string): never {
  throw new CryptoError(
    {code: "CRYPTO_ERROR_SELF_TEST_FAILED", backend: "liboqs", check},
    `liboqs ML-DSA-65 context path failed its known-answer test against noble: ${check}`,
  );
}

/**
 * Known-answer test against noble (~40 ms): for the empty, the request and a 255-byte context,
 * liboqs' deterministic signature (rnd = 0^32) must equal noble's byte for byte, noble's must
 * verify here and not under another context or with a flipped bit, and hedged signing must be
 * back to random afterwards and verify in noble.
 */
export function checkContextKnownAnswers(candidate: LiboqsContextMlDsa65): void {
  const {publicKey, secretKey} = ml_dsa65.keygen(KAT_SEED);
  for (const context of KAT_CONTEXTS) {
    const label = `${context.length}-byte context`;
    const expected = ml_dsa65.sign(KAT_MESSAGE, secretKey, {context, extraEntropy: false});
    if (!equalBytes(candidate.signDeterministic(secretKey, KAT_MESSAGE, context), expected)) {
      katFailed(`deterministic signature differs from noble's (${label})`);
    }
    if (!candidate.verify(publicKey, KAT_MESSAGE, expected, context)) katFailed(`rejects noble's signature (${label})`);
    const other = context.length === 0 ? CTX.NODE_RECORD : new Uint8Array(0);
    if (candidate.verify(publicKey, KAT_MESSAGE, expected, other)) katFailed(`accepts it under another context (${label})`);
    const flipped = expected.slice();
    flipped[42] = (flipped[42] ?? 0) ^ 0x01;
    if (candidate.verify(publicKey, KAT_MESSAGE, flipped, context)) katFailed(`accepts a modified signature (${label})`);
  }
  const hedged = candidate.sign(secretKey, KAT_MESSAGE, CTX.REQUEST_AUTH);
  if (!ml_dsa65.verify(hedged, KAT_MESSAGE, publicKey, {context: CTX.REQUEST_AUTH})) katFailed("noble rejects its hedged signature");
  if (equalBytes(hedged, candidate.signDeterministic(secretKey, KAT_MESSAGE, CTX.REQUEST_AUTH))) {
    katFailed("hedged signing is not randomised");
  }
}

/**
 * `loadLiboqsContextMlDsa65` followed by `checkContextKnownAnswers`: the only way the node gets
 * this path. Throws CRYPTO_ERROR_BACKEND_UNAVAILABLE or CRYPTO_ERROR_SELF_TEST_FAILED.
 */
export async function loadCheckedLiboqsContextMlDsa65(
  load: () => Promise<LiboqsContextMlDsa65> = loadLiboqsContextMlDsa65,
): Promise<LiboqsContextMlDsa65> {
  const candidate = await load();
  checkContextKnownAnswers(candidate);
  return candidate;
}
