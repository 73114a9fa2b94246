/**
 * The response signer's cadence under an even arrival rate, as one node sees an open loop: receipts
 * arrive every 1/rate s (paced by timers, so the signing worker keeps its core), each goes to a
 * ResponseSigner backed by the node's WorkerSigner (ML-DSA-65 on the worker, liboqs when
 * available), and the run counts the signatures made per second, receipts per signature, the wait
 * of a receipt for its signature, and this process's CPU (all threads) per receipt. A closed loop
 * of 50 connections makes batches of 30–50 receipts; an open loop at a moderate rate makes small
 * ones, and every member of a swarm signs its own: this says what that costs per store.
 *
 *   node dist/bench/signer-cadence.js [rates, default 250,500,1000] [delays in ms, default 2]
 *
 * Measurement only; `signing.maxBatchDelayMs` is the delay a node uses (default 2).
 */
import {randomBytes} from "node:crypto";
import {pathToFileURL} from "node:url";
import {CTX} from "../src/crypto/index.js";
import {loadPqBackend} from "../src/crypto/pq/index.js";
import {ResponseSigner} from "../src/receipts/response-signer.js";
import {InlineSigner, WorkerSigner} from "../src/signer/context-signer.js";
import {systemClock} from "../src/util/clock.js";
import {threadTicks} from "./trace-common.js";

export interface CadenceRow {
  rate: number;
  delayMs: number;
  signaturesPerSecond: number;
  receiptsPerSignature: number;
  waitP50Ms: number;
  waitP99Ms: number;
  cpuMsPerReceipt: number;
  /**
   * CPU of the threads other than this one (the signing worker; V8's helpers are idle here) per
   * signature: the sign itself plus the hand-off, wake-up and structured clone (null without /proc).
   */
  workerCpuMsPerSignature: number | null;
}

/** CPU milliseconds of this process's threads other than the main one, from /proc (10 ms ticks). */
function otherThreadsCpuMs(): number | null {
  const ticks = threadTicks();
  if (ticks.size === 0) return null;
  let others = 0;
  for (const [key, t] of ticks) if (key !== "main") others += t;
  return others * 10;
}

const round = (x: number, digits: number): number => Math.round(x * 10 ** digits) / 10 ** digits;

async function pace(dueMs: number): Promise<void> {
  while (performance.now() < dueMs - 0.5) {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, dueMs - performance.now() - 0.5)));
  }
}

async function runOne(signer: WorkerSigner, rate: number, delayMs: number, seconds: number): Promise<CadenceRow> {
  const rs = new ResponseSigner({maxBatchDelayMs: delayMs, maxBatchSize: 4096}, {signer, nodeId: "ab".repeat(32), clock: systemClock});
  const receipts = Array.from({length: 256}, () => randomBytes(100));
  const n = Math.round(rate * seconds);
  const waits: number[] = [];
  const done: Promise<void>[] = [];
  const c0 = process.cpuUsage();
  const others0 = otherThreadsCpuMs();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    await pace(t0 + (i * 1000) / rate);
    const sent = performance.now();
    done.push(rs.sign(receipts[i % receipts.length] as Buffer).then(() => void waits.push(performance.now() - sent)));
  }
  await Promise.all(done);
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  const others1 = otherThreadsCpuMs();
  await rs.close();
  waits.sort((a, b) => a - b);
  const at = (q: number): number => waits[Math.min(waits.length - 1, Math.floor(q * waits.length))] ?? 0;
  return {
    rate,
    delayMs,
    signaturesPerSecond: round(rs.stats.batches / wall, 0),
    receiptsPerSignature: round(rs.stats.receipts / Math.max(1, rs.stats.batches), 1),
    waitP50Ms: round(at(0.5), 2),
    waitP99Ms: round(at(0.99), 2),
    cpuMsPerReceipt: round((cpu.user + cpu.system) / 1000 / n, 3),
    workerCpuMsPerSignature: others0 === null || others1 === null ? null : round((others1 - others0) / Math.max(1, rs.stats.batches), 3),
  };
}

/** CPU ms of one ML-DSA-65 batch-header signature made on this thread: the floor of a worker's per-signature cost. */
export function inlineSignCpuMs(pq: Awaited<ReturnType<typeof loadPqBackend>>, secretKey: Uint8Array, n = 200): number {
  const header = randomBytes(76);
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) pq.mlDsa65.sign(secretKey, header, CTX.RESPONSE_BATCH);
  const cpu = process.cpuUsage(c0);
  return round((cpu.user + cpu.system) / 1000 / n, 3);
}

export async function benchSignerCadence({rates = [250, 500, 1000], delays = [2], seconds = 3} = {}): Promise<CadenceRow[]> {
  const pq = await loadPqBackend("auto");
  const {secretKey} = pq.mlDsa65.keygen(randomBytes(32));
  const signer = await WorkerSigner.start(secretKey, {useLiboqs: pq.name === "liboqs"}, {fallback: new InlineSigner(pq, secretKey)});
  try {
    await runOne(signer, 200, 2, 0.5); // warm-up
    const rows: CadenceRow[] = [];
    for (const rate of rates) for (const delayMs of delays) rows.push(await runOne(signer, rate, delayMs, seconds));
    return rows;
  } finally {
    await signer.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const list = (arg: string | undefined, dflt: number[]): number[] => (arg === undefined ? dflt : arg.split(",").map(Number));
  const pq = await loadPqBackend("auto");
  const {secretKey} = pq.mlDsa65.keygen(randomBytes(32));
  inlineSignCpuMs(pq, secretKey, 50); // warm-up
  process.stdout.write(`one signature on this thread (${pq.name}): ${inlineSignCpuMs(pq, secretKey)} ms CPU\n`);
  const rows = await benchSignerCadence({rates: list(process.argv[2], [250, 500, 1000]), delays: list(process.argv[3], [2])});
  process.stdout.write("rate/s  delay ms  signatures/s  receipts/signature  wait p50 ms  wait p99 ms  CPU ms/receipt  worker CPU ms/signature\n");
  for (const r of rows) {
    const cells = [r.rate, r.delayMs, r.signaturesPerSecond, r.receiptsPerSignature, r.waitP50Ms, r.waitP99Ms, r.cpuMsPerReceipt, r.workerCpuMsPerSignature ?? "–"];
    process.stdout.write(`${cells.map((c, i) => String(c).padStart([6, 8, 12, 18, 11, 11, 14, 23][i] ?? 8)).join("  ")}\n`);
  }
  process.exit(0);
}
