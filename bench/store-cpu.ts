/**
 * In-process CPU per store, below HTTP: the node's request pipeline (body parse, field checks,
 * base64, BLAKE2b, the group commit with its owner/dedupe/tombstone statements, the receipt, the
 * batch signature on a signing worker, the answer's text and its bytes) against the raw SQLite
 * baseline's handler (`bench/baseline-server.ts`: JSON parse, the row, a group-commit INSERT,
 * `JSON.stringify` of the answer, its bytes), each on a database of its own, interleaved in rounds
 * so that drift on a shared machine hits both alike. What is left of the HTTP figure is fastify,
 * node's HTTP parser and the socket writes, paid by both.
 *
 *   node dist/bench/store-cpu.js [rounds=8] [stores per round=3000]
 *
 * The bodies are the HTTP bench's `node-store` ones (public inbox, 642 B, 100 accounts), 50 in
 * flight as a cohort (the bench's 50 connections): one group commit and one batch signature per
 * cohort. No fee service (the node's fee quote is ~1 % of a store). CPU is `process.cpuUsage()`
 * (user + system, every thread) and the main thread's from /proc (10 ms ticks) around each round;
 * wall is a cohort's round trip ÷ its stores. The node runs twice: with the default batch window
 * (`signing.maxBatchDelayMs` 2) and with none (0: a commit's receipts are signed as it settles).
 */
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {pathToFileURL} from "node:url";
import {performance} from "node:perf_hooks";
import {ml_dsa65} from "@noble/post-quantum/ml-dsa.js";
import pino from "pino";
import {initHashing} from "../src/crypto/hash.js";
import {loadPqBackend} from "../src/crypto/pq/index.js";
import {defaultResponseSignerOptions, ResponseSigner} from "../src/receipts/index.js";
import {responseJson} from "../src/rpc/index.js";
import {SqliteMessageStore, StorageDb} from "../src/storage/index.js";
import {InlineSigner, InlineVerifier, WorkerSigner} from "../src/signer/index.js";
import {systemClock} from "../src/util/index.js";
import {BaselineDb, GroupCommit, toRow} from "./baseline-server.js";
import {mainThreadCpuUs} from "./retrieve-cpu.js";
import {singleNodeRpc} from "./single-node-rpc.js";
import {median} from "./util.js";
import {plainAccounts, storeBodies} from "./workload.js";

const IN_FLIGHT = 50;
const NODE_ID = "00".repeat(32);

type Variant = (body: string) => Promise<number>;

interface PerStore {
  /** CPU µs, every thread. */
  all: number;
  /** CPU µs of the main thread. */
  main: number;
  /** Wall-clock µs: a cohort's round trip (parse, commit, signature, answers) ÷ its stores. */
  wall: number;
}

async function measure(variant: Variant, next: () => string, n: number): Promise<PerStore> {
  const start = performance.now();
  const before = process.cpuUsage();
  const mainBefore = mainThreadCpuUs();
  let bytes = 0;
  for (let i = 0; i < n; i += IN_FLIGHT) {
    const cohort = Array.from({length: Math.min(IN_FLIGHT, n - i)}, () => variant(next()));
    for (const b of await Promise.all(cohort)) bytes += b;
  }
  const used = process.cpuUsage(before);
  const main = mainThreadCpuUs() - mainBefore;
  if (bytes === 0) throw new Error("no bytes");
  return {all: (used.user + used.system) / n, main: main / n, wall: ((performance.now() - start) * 1000) / n};
}

async function main(rounds: number, perRound: number): Promise<void> {
  await initHashing();
  const pq = await loadPqBackend("auto");
  const dir = mkdtempSync(join(tmpdir(), "pars-store-cpu-"));
  const logger = pino({level: "silent"});
  const store = await SqliteMessageStore.open({path: join(dir, "node.db"), sweepIntervalMs: 0}, {clock: systemClock, logger});
  const {secretKey} = ml_dsa65.keygen(new Uint8Array(32).fill(7));
  const worker = await WorkerSigner.start(secretKey, {useLiboqs: pq.name === "liboqs"}, {
    fallback: new InlineSigner(pq, secretKey),
    fallbackVerifier: new InlineVerifier(pq),
  });
  const signer = new ResponseSigner(defaultResponseSignerOptions, {signer: worker, nodeId: NODE_ID, clock: systemClock});
  // signing.maxBatchDelayMs 0: a commit's receipts go to the worker as soon as the commit settles.
  const noWindow = new ResponseSigner({...defaultResponseSignerOptions, maxBatchDelayMs: 0}, {signer: worker, nodeId: NODE_ID, clock: systemClock});
  const raw = StorageDb.open(
    {path: join(dir, "baseline.db"), synchronous: "normal", busyTimeoutMs: 5_000, hardLimitBytes: 64 * 1024 ** 3, migrationsDir: null},
    Date.now(),
  );
  try {
    const rpc = singleNodeRpc({store, pq, signer, nodeId: NODE_ID, logger});
    const pipeline = rpc.pipeline();
    const noWindowPipeline = rpc.pipeline({signer: noWindow});
    const baseline = new BaselineDb(raw);
    const group = new GroupCommit(baseline);
    const variants: Record<string, Variant> = {
      node: async (body) => {
        const res = await pipeline.dispatch(body);
        if (res.status !== 200 || typeof res.body === "string") throw new Error(`node: ${res.status} ${JSON.stringify(res.body)}`);
        return Buffer.from(responseJson(res.body)).length;
      },
      "node, maxBatchDelayMs 0": async (body) => {
        const res = await noWindowPipeline.dispatch(body);
        if (res.status !== 200 || typeof res.body === "string") throw new Error(`node: ${res.status} ${JSON.stringify(res.body)}`);
        return Buffer.from(responseJson(res.body)).length;
      },
      baseline: async (body) => {
        const params = (JSON.parse(body) as {params: Parameters<typeof toRow>[1]}).params;
        const row = toRow(baseline, params);
        await group.add(row);
        return Buffer.from(JSON.stringify({hash: row.hash})).length;
      },
    };
    const next = storeBodies(plainAccounts("store-cpu", 100));
    const results: Record<string, PerStore[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
    for (let r = -1; r < rounds; r++) {
      for (const [name, v] of Object.entries(variants)) {
        const us = await measure(v, next, perRound);
        if (r >= 0) results[name]?.push(us);
      }
    }
    for (const [name, us] of Object.entries(results)) {
      const [all, main, wall] = [median(us.map((u) => u.all)), median(us.map((u) => u.main)), median(us.map((u) => u.wall))];
      process.stdout.write(
        `${name.padEnd(24)} ${all.toFixed(1).padStart(6)} µs CPU per store, ${main.toFixed(1).padStart(6)} µs of it on the main thread, ${wall.toFixed(1).padStart(6)} µs wall\n`,
      );
    }
    for (const [name, s] of [["default", signer], ["maxBatchDelayMs 0", noWindow]] as const) {
      process.stdout.write(`sign batches (${name}) ${s.stats.batches}, receipts ${s.stats.receipts}\n`);
    }
  } finally {
    await signer.close();
    await noWindow.close();
    await worker.close();
    raw.close();
    await store.close();
    rmSync(dir, {recursive: true, force: true});
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(Number(process.argv[2] ?? 8), Number(process.argv[3] ?? 3000));
}
