/**
 * In-process CPU per store of a lone node in an open loop, below HTTP: the node's request pipeline
 * (`RequestPipeline.dispatch`: parse, checks, BLAKE2b, the group commit, the receipt, its batch
 * signature on a signing worker, the answer's text) fed one store at a time on a fixed schedule
 * (store i due at start + i / rate, as the bench's open loop sends them), whatever the answers do.
 * Stores that arrive one by one each pay the per-batch fixed costs (a group commit, a share of a
 * batch signature, the wake-ups), which a closed loop shares among ~50; this measures them without
 * the HTTP stack and the load client, per variant of the batching windows:
 *
 * - `sign window` (the defaults): `storage.commitDelayMs` 0, `signing.maxBatchDelayMs` 2: each turn's
 *   writes commit at its end, their receipts wait up to 2 ms for others before the signature;
 * - `commit window`: `storage.commitDelayMs` 2, `signing.maxBatchDelayMs` 0: writes wait up to 2 ms
 *   for others before the commit, whose receipts are then signed together at once.
 *
 *   node dist/bench/store-open.js [rate=500] [seconds per round=4] [rounds=4] [commit window ms=2] [only=sign|commit]
 *
 * Each variant has its own database (the same store options otherwise) and response signer; they
 * share one signing worker and run in alternating rounds after one warm-up round each, so drift on
 * a shared machine hits both alike. Per store: CPU (`process.cpuUsage()`, every thread) and the main
 * thread's (/proc, 10 ms ticks), commits and signatures, and latency from the scheduled arrival.
 */
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {pathToFileURL} from "node:url";
import {performance} from "node:perf_hooks";
import {ml_dsa65} from "@noble/post-quantum/ml-dsa.js";
import pino from "pino";
import {initHashing} from "../src/crypto/hash.js";
import type {PqBackend} from "../src/crypto/index.js";
import {loadPqBackend} from "../src/crypto/pq/index.js";
import {defaultResponseSignerOptions, ResponseSigner} from "../src/receipts/index.js";
import type {RequestPipeline} from "../src/rpc/index.js";
import {SqliteMessageStore} from "../src/storage/index.js";
import {InlineSigner, InlineVerifier, WorkerSigner} from "../src/signer/index.js";
import {systemClock} from "../src/util/index.js";
import {mainThreadCpuUs} from "./retrieve-cpu.js";
import {singleNodeRpc} from "./single-node-rpc.js";
import {median, percentile} from "./util.js";
import {plainAccounts, storeBodies} from "./workload.js";

const NODE_ID = "00".repeat(32);

interface Variant {
  name: string;
  store: SqliteMessageStore;
  signer: ResponseSigner;
  pipeline: RequestPipeline;
}

interface Round {
  /** CPU µs per store, every thread / the main thread. */
  all: number;
  main: number;
  commits: number;
  signatures: number;
  p50: number;
  p99: number;
  /** Stores answered ÷ stores due (below 1: the variant fell behind its schedule). */
  kept: number;
}

async function openVariant(name: string, dir: string, commitDelayMs: number, signDelayMs: number, worker: WorkerSigner, pq: PqBackend): Promise<Variant> {
  const logger = pino({level: "silent"});
  const store = await SqliteMessageStore.open({path: join(dir, `${name.replace(/\W/g, "")}.db`), sweepIntervalMs: 0, commitDelayMs}, {clock: systemClock, logger});
  const signer = new ResponseSigner({...defaultResponseSignerOptions, maxBatchDelayMs: signDelayMs}, {signer: worker, nodeId: NODE_ID, clock: systemClock});
  return {name, store, signer, pipeline: singleNodeRpc({store, pq, signer, nodeId: NODE_ID, logger}).pipeline()};
}

/** One round: `rate` stores/s for `seconds`, each sent at its scheduled time; resolves when all are answered. */
async function round(v: Variant, next: () => string, rate: number, seconds: number): Promise<Round> {
  const n = Math.round(rate * seconds);
  const commits0 = v.store.writeStats().commits;
  const signatures0 = v.signer.stats.batches;
  const latencies: number[] = [];
  const before = process.cpuUsage();
  const mainBefore = mainThreadCpuUs();
  const start = performance.now();
  let sent = 0;
  let answered = 0;
  await new Promise<void>((resolve, reject) => {
    const tick = (): void => {
      const now = performance.now();
      while (sent < n && start + (sent * 1000) / rate <= now) {
        const due = start + (sent * 1000) / rate;
        sent++;
        v.pipeline.dispatch(next()).then((res) => {
          if (res.status !== 200) throw new Error(`${v.name}: ${res.status} ${JSON.stringify(res.body)}`);
          latencies.push(performance.now() - due);
          if (++answered === n) resolve();
        }, reject);
      }
      if (sent < n) setTimeout(tick, Math.max(0, start + (sent * 1000) / rate - performance.now()));
    };
    tick();
  });
  const used = process.cpuUsage(before);
  const main = mainThreadCpuUs() - mainBefore;
  const sorted = latencies.sort((a, b) => a - b);
  return {
    all: (used.user + used.system) / n,
    main: main / n,
    commits: (v.store.writeStats().commits - commits0) / n,
    signatures: (v.signer.stats.batches - signatures0) / n,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    kept: n / ((performance.now() - start) / 1000) / rate,
  };
}

async function main(rate: number, seconds: number, rounds: number, windowMs: number, only: string | undefined): Promise<void> {
  await initHashing();
  const pq = await loadPqBackend("auto");
  const dir = mkdtempSync(join(tmpdir(), "pars-store-open-"));
  const {secretKey} = ml_dsa65.keygen(new Uint8Array(32).fill(7));
  const worker = await WorkerSigner.start(secretKey, {useLiboqs: pq.name === "liboqs"}, {
    fallback: new InlineSigner(pq, secretKey),
    fallbackVerifier: new InlineVerifier(pq),
  });
  const variants = [
    ...(only === "commit" ? [] : [await openVariant(`sign window ${windowMs} ms`, dir, 0, windowMs, worker, pq)]),
    ...(only === "sign" ? [] : [await openVariant(`commit window ${windowMs} ms`, dir, windowMs, 0, worker, pq)]),
  ];
  try {
    const next = storeBodies(plainAccounts("store-open", 100));
    const results = new Map<string, Round[]>(variants.map((v) => [v.name, []]));
    // A closed-loop warm-up first (so V8 has compiled the hot code, as the bench's 5,000 stores do).
    for (const v of variants) {
      for (let i = 0; i < 5000; i += 50) await Promise.all(Array.from({length: 50}, () => v.pipeline.dispatch(next())));
    }
    for (let r = -1; r < rounds; r++) {
      for (const v of r % 2 === 0 ? variants : [...variants].reverse()) {
        const res = await round(v, next, rate, seconds);
        if (r >= 0) results.get(v.name)?.push(res);
        const f = (x: number, d = 1): string => x.toFixed(d);
        process.stdout.write(
          `${r < 0 ? "warm-up" : `round ${r + 1}`} ${v.name.padEnd(20)} ${f(res.all)} µs CPU per store (main ${f(res.main)}), ` +
            `commits ${f(res.commits, 3)} signatures ${f(res.signatures, 3)} per store, p50 ${f(res.p50, 2)} p99 ${f(res.p99, 2)} ms, kept ${f(res.kept, 3)}\n`,
        );
      }
    }
    process.stdout.write(`\nmedians of ${rounds} rounds at ${rate}/s (load average ${(await import("node:os")).loadavg().map((x) => x.toFixed(2)).join(" ")}):\n`);
    for (const [name, rs] of results) {
      const m = (k: keyof Round): number => median(rs.map((x) => x[k]));
      process.stdout.write(
        `${name.padEnd(20)} ${m("all").toFixed(1).padStart(6)} µs CPU per store, main ${m("main").toFixed(1).padStart(6)}; ` +
          `commits ${m("commits").toFixed(3)} signatures ${m("signatures").toFixed(3)} per store; p50 ${m("p50").toFixed(2)} p99 ${m("p99").toFixed(2)} ms\n`,
      );
    }
  } finally {
    for (const v of variants) {
      await v.signer.close();
      await v.store.close();
    }
    await worker.close();
    rmSync(dir, {recursive: true, force: true});
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(Number(process.argv[2] ?? 500), Number(process.argv[3] ?? 4), Number(process.argv[4] ?? 4), Number(process.argv[5] ?? 2), process.argv[6]);
}
