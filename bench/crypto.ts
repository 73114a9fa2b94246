/**
 * Crypto micro-benchmarks: each operation runs a warm-up, then 5 timed reps of ~REP_MS each; the
 * result is the median rep's ops/s. Run directly after a build:
 *
 *   node dist/bench/crypto.js
 *
 * The machine is shared and noisy (see perf-baselines §Setup): compare rows of one run as ratios.
 */
import {generateKeyPairSync, randomBytes, sign} from "node:crypto";
import {pathToFileURL} from "node:url";
import {CTX} from "../src/crypto/contexts.js";
import {verifyEd25519} from "../src/crypto/ed25519.js";
import {blake2b256, initHashing, messageHash} from "../src/crypto/hash.js";
import {decodeKeyFile, encodeKeyFile, generateIdentity} from "../src/crypto/identity.js";
import type {PqBackend} from "../src/crypto/interface.js";
import {createLiboqsBackend, nobleBackend} from "../src/crypto/pq/index.js";

const REPS = 5;
const REP_MS = 300;
const WARMUP_MS = 150;
const MESSAGE_1K = randomBytes(1024);
const EMPTY = new Uint8Array(0);

export interface BenchResult {
  name: string;
  opsPerSec: number;
}

function runFor(ms: number, op: () => unknown): {ops: number; elapsedMs: number} {
  const start = performance.now();
  let ops = 0;
  let elapsed = 0;
  do {
    op();
    ops++;
    elapsed = performance.now() - start;
  } while (elapsed < ms);
  return {ops, elapsedMs: elapsed};
}

/** Median ops/s over REPS timed reps after a warm-up. */
export function measure(name: string, op: () => unknown): BenchResult {
  runFor(WARMUP_MS, op);
  const rates: number[] = [];
  for (let i = 0; i < REPS; i++) {
    const {ops, elapsedMs} = runFor(REP_MS, op);
    rates.push((ops * 1000) / elapsedMs);
  }
  rates.sort((a, b) => a - b);
  return {name, opsPerSec: Math.round(rates[Math.floor(REPS / 2)] ?? 0)};
}

/**
 * Median ops per second of this thread's CPU time (process.cpuUsage, user + system) over REPS reps:
 * on a machine shared with other busy processes this tracks the code's own cost far better than
 * wall-clock ops/s, which falls with the load average.
 */
export function measureCpu(name: string, op: () => unknown): BenchResult {
  runFor(WARMUP_MS, op);
  const rates: number[] = [];
  for (let i = 0; i < REPS; i++) {
    const before = process.cpuUsage();
    const {ops} = runFor(REP_MS, op);
    const used = process.cpuUsage(before);
    rates.push((ops * 1e6) / Math.max(1, used.user + used.system));
  }
  rates.sort((a, b) => a - b);
  return {name, opsPerSec: Math.round(rates[Math.floor(REPS / 2)] ?? 0)};
}

/**
 * ML-DSA-65 with a context (issue #15 item 4), before and after liboqs-context.ts, in one run:
 * noble, the liboqs backend without its context path (contexts delegated to noble, as before), and
 * the default liboqs backend, in wall-clock ops/s and in ops per CPU-second.
 */
async function benchContextPaths(after: PqBackend): Promise<BenchResult[]> {
  const unavailable = (): Promise<never> => Promise.reject(new Error("disabled for the benchmark"));
  const before = await createLiboqsBackend({contextFactory: unavailable}).catch(() => null);
  const rows: [string, PqBackend][] = [["noble", nobleBackend], ["liboqs, no context path", before ?? nobleBackend], ["liboqs", after]];
  const keys = nobleBackend.mlDsa65.keygen();
  const sig = nobleBackend.mlDsa65.sign(keys.secretKey, MESSAGE_1K, CTX.REQUEST_AUTH);
  const results: BenchResult[] = [];
  for (const [label, b] of rows) {
    for (const [unit, m] of [["", measure], [", per CPU-s", measureCpu]] as const) {
      results.push(
        m(`ML-DSA-65 context sign 1 KB (${label}${unit})`, () => b.mlDsa65.sign(keys.secretKey, MESSAGE_1K, CTX.REQUEST_AUTH)),
        m(`ML-DSA-65 context verify 1 KB (${label}${unit})`, () => b.mlDsa65.verify(keys.publicKey, MESSAGE_1K, sig, CTX.REQUEST_AUTH)),
      );
    }
  }
  return results;
}

function benchBackend(b: PqBackend): BenchResult[] {
  const dsa = b.mlDsa65.keygen();
  const kem = b.mlKem768.keygen();
  const sigCtx = b.mlDsa65.sign(dsa.secretKey, MESSAGE_1K, CTX.REQUEST_AUTH);
  const sigEmpty = b.mlDsa65.sign(dsa.secretKey, MESSAGE_1K, EMPTY);
  const {cipherText} = b.mlKem768.encapsulate(kem.publicKey);
  const n = b.name;
  return [
    measure(`ML-DSA-65 sign 1 KB, context (${n})`, () => b.mlDsa65.sign(dsa.secretKey, MESSAGE_1K, CTX.REQUEST_AUTH)),
    measure(`ML-DSA-65 verify 1 KB, context (${n})`, () => b.mlDsa65.verify(dsa.publicKey, MESSAGE_1K, sigCtx, CTX.REQUEST_AUTH)),
    measure(`ML-DSA-65 sign 1 KB, empty context (${n})`, () => b.mlDsa65.sign(dsa.secretKey, MESSAGE_1K, EMPTY)),
    measure(`ML-DSA-65 verify 1 KB, empty context (${n})`, () => b.mlDsa65.verify(dsa.publicKey, MESSAGE_1K, sigEmpty, EMPTY)),
    measure(`ML-KEM-768 encapsulate (${n})`, () => b.mlKem768.encapsulate(kem.publicKey)),
    measure(`ML-KEM-768 decapsulate (${n})`, () => b.mlKem768.decapsulate(cipherText, kem.secretKey)),
  ];
}

function benchClassic(): BenchResult[] {
  const account = Buffer.concat([Buffer.from([0x05]), randomBytes(32)]);
  const {privateKey, publicKey} = generateKeyPairSync("ed25519");
  const edPk = Uint8Array.from(publicKey.export({format: "der", type: "spki"}).subarray(12));
  const edSig = Uint8Array.from(sign(null, MESSAGE_1K, privateKey));
  return [
    measure("BLAKE2b-256 1 KB (hash-wasm)", () => blake2b256(MESSAGE_1K)),
    measure("messageHash 1 KB", () => messageHash(account, 0, MESSAGE_1K)),
    measure("Ed25519 verify 1 KB (node:crypto, cached key)", () => verifyEd25519(edPk, MESSAGE_1K, edSig)),
  ];
}

/** All crypto benchmarks; liboqs rows are skipped if liboqs cannot be loaded. */
export async function benchCrypto(): Promise<BenchResult[]> {
  await initHashing();
  const results = [...benchClassic(), ...benchBackend(nobleBackend)];
  const liboqs = await createLiboqsBackend().catch(() => null);
  if (liboqs !== null) results.push(...benchBackend(liboqs), ...(await benchContextPaths(liboqs)));
  const keyFile = encodeKeyFile(generateIdentity(nobleBackend));
  results.push(measure("decodeKeyFile, all load checks (noble)", () => decodeKeyFile(keyFile, nobleBackend)));
  return results;
}

function formatTable(results: BenchResult[]): string {
  const width = Math.max(...results.map((r) => r.name.length));
  const lines = results.map((r) => `${r.name.padEnd(width)}  ${r.opsPerSec.toLocaleString("en-US").padStart(10)} ops/s`);
  return [`${"operation".padEnd(width)}  ${"median".padStart(10)}`, ...lines].join("\n");
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const results = await benchCrypto();
  console.log(formatTable(results));
}
