/**
 * In-process CPU per retrieve, below HTTP: the node's request pipeline (parse, auth, the paged read,
 * the answer's text and its bytes) against the raw SQLite baseline's handler (`bench/
 * baseline-server.ts`: the mailbox query, message objects, `JSON.stringify`, bytes) on the same
 * database, interleaved in rounds so that drift on a shared machine hits both alike; and the node's
 * pipeline with request signatures verified on a signing worker (`ctx.verifier`), whose CPU is
 * then off the main thread: the main thread's CPU is printed beside the process's.
 *
 *   node dist/bench/retrieve-cpu.js [rounds=8] [requests per round=300]
 *
 * With BENCH_BASE_DIST (another build's dist/), that build's pipeline runs on the same store in the
 * same rounds ("base, verify on worker"): before/after in one process. Item 3's floor
 * (`baseline-wire.ts` SignedRetrieve) runs beside them, its Ed25519 check inline and on the worker.
 *
 * The mailboxes are those of the HTTP bench's `node-retrieve` (100 `05` accounts, 100 messages of
 * 642 B each, signed bodies), 50 requests in flight; CPU is `process.cpuUsage()` (user + system,
 * every thread) and the main thread's from /proc (10 ms ticks) around each round.
 */
import {mkdtempSync, readFileSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {pathToFileURL} from "node:url";
import {randomBytes} from "node:crypto";
import pino from "pino";
import {initHashing} from "../src/crypto/hash.js";
import {loadPqBackend} from "../src/crypto/pq/index.js";
import {responseJson} from "../src/rpc/index.js";
import type {RpcContext} from "../src/rpc/context.js";
import type {ResponseSigner} from "../src/receipts/index.js";
import {RETRIEVE_MAX_SIZE_BYTES} from "../src/protocol/index.js";
import {SqliteMessageStore, StorageDb, type StoredMessage} from "../src/storage/index.js";
import {InlineSigner, InlineVerifier, WorkerSigner} from "../src/signer/index.js";
import {SingleNodeRouter} from "../src/swarm/index.js";
import {systemClock} from "../src/util/index.js";
import {BaselineDb, baselineRetrieve} from "./baseline-server.js";
import {SignedRetrieve, type SignedRetrieveParams} from "./baseline-wire.js";
import {singleNodeRpc} from "./single-node-rpc.js";
import {median} from "./util.js";
import {retrieveBodies, signingAccounts, STORE_DATA_BYTES} from "./workload.js";

const ACCOUNTS = 100;
const PER_ACCOUNT = 100;

type Variant = (body: string) => Promise<number>;

/** What retrieve-cpu takes from another build (BENCH_BASE_DIST): its pipeline and signing worker. */
interface BaseBuild {
  pipeline: (ctx: RpcContext) => {dispatch: (body: string) => Promise<{status: number; body: unknown}>};
  bytes: (body: Record<string, unknown>) => number;
  worker: WorkerSigner;
}

async function loadBase(dist: string, pq: RpcContext["pq"], router: SingleNodeRouter): Promise<BaseBuild> {
  const mod = async <T>(path: string): Promise<T> => (await import(pathToFileURL(join(dist, path)).href)) as T;
  const rpc = await mod<typeof import("../src/rpc/index.js")>("src/rpc/index.js");
  const signer = await mod<typeof import("../src/signer/index.js")>("src/signer/index.js");
  await (await mod<typeof import("../src/crypto/hash.js")>("src/crypto/hash.js")).initHashing();
  const worker = await signer.WorkerSigner.start(randomBytes(4032), {useLiboqs: pq.name === "liboqs"}, {
    fallback: new signer.InlineSigner(pq, new Uint8Array(4032)),
    fallbackVerifier: new signer.InlineVerifier(pq),
  });
  const logger = pino({level: "silent"});
  return {
    pipeline: (ctx) => new rpc.RequestPipeline({rpc: new rpc.RpcHandler({...ctx, verifier: worker}), router, limiter: null, logger}),
    bytes: (body) => Buffer.from(rpc.responseJson(body)).length,
    worker: worker as unknown as WorkerSigner,
  };
}

/** The default page of the body's account (what the node's retrieve reads for the bench's bodies). */
function pageQuery(body: string): {account: string; namespace: number; afterHash: null; maxCount: number; maxSize: number} {
  const params = (JSON.parse(body) as {params: {pubkey: string}}).params;
  return {account: params.pubkey, namespace: 0, afterHash: null, maxCount: Number.MAX_SAFE_INTEGER, maxSize: RETRIEVE_MAX_SIZE_BYTES / 5};
}

/** The floor's answer to one body, as its bytes' length (a failed check throws). */
async function floorBytes(floor: SignedRetrieve, body: string): Promise<number> {
  const {status, body: answer} = await floor.answer((JSON.parse(body) as {params: SignedRetrieveParams}).params);
  if (status !== 200) throw new Error(`floor: ${status} ${JSON.stringify(answer)}`);
  return Buffer.from(JSON.stringify(answer)).length;
}

/** Requests in flight at once, as the HTTP bench's 50 connections keep them. */
const IN_FLIGHT = 50;

/** CPU µs of the main thread so far (Linux: /proc, clock ticks of 10 ms), or NaN elsewhere. */
export function mainThreadCpuUs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return Number.NaN;
  }
}

/** CPU µs per request: the whole process (every thread) and its main thread alone. */
async function measure(variant: Variant, bodies: readonly string[], n: number): Promise<{all: number; main: number}> {
  const before = process.cpuUsage();
  const mainBefore = mainThreadCpuUs();
  let bytes = 0;
  for (let i = 0; i < n; i += IN_FLIGHT) {
    const batch = Array.from({length: Math.min(IN_FLIGHT, n - i)}, (_, j) => variant(bodies[(i + j) % bodies.length] as string));
    for (const b of await Promise.all(batch)) bytes += b;
  }
  const used = process.cpuUsage(before);
  const main = mainThreadCpuUs() - mainBefore;
  if (bytes === 0) throw new Error("no bytes");
  return {all: (used.user + used.system) / n, main: main / n};
}

async function main(rounds: number, perRound: number): Promise<void> {
  await initHashing();
  const pq = await loadPqBackend("auto");
  const dir = mkdtempSync(join(tmpdir(), "pars-retrieve-cpu-"));
  const logger = pino({level: "silent"});
  const store = await SqliteMessageStore.open({path: join(dir, "node.db"), sweepIntervalMs: 0}, {clock: systemClock, logger});
  try {
    const accounts = signingAccounts("retrieve", ACCOUNTS);
    const now = Date.now();
    const writes: Array<Promise<unknown>> = [];
    for (const a of accounts) {
      for (let i = 0; i < PER_ACCOUNT; i++) {
        const hash = randomBytes(32).toString("base64").slice(0, 43);
        const data = randomBytes(STORE_DATA_BYTES);
        writes.push(store.store({account: a.hex, hash, namespace: 0, timestamp: now, expiry: now + 86_400_000, data, replaceNamespace: false}));
      }
    }
    await Promise.all(writes);
    const rpc = singleNodeRpc({store, pq, signer: null as unknown as ResponseSigner, nodeId: "00".repeat(32), logger});
    const {ctx, router} = rpc;
    const pipeline = rpc.pipeline();
    // The same, with request signatures verified on a signing worker, as the node does.
    const worker = await WorkerSigner.start(randomBytes(4032), {useLiboqs: pq.name === "liboqs"}, {
      fallback: new InlineSigner(pq, new Uint8Array(4032)),
      fallbackVerifier: new InlineVerifier(pq),
    });
    const onWorker = rpc.pipeline({verifier: worker});
    const raw = StorageDb.open(
      {path: join(dir, "node.db"), synchronous: "normal", busyTimeoutMs: 5_000, hardLimitBytes: 64 * 1024 ** 3, migrationsDir: null},
      Date.now(),
    );
    const baseline = new BaselineDb(raw);
    const floorInline = new SignedRetrieve(baseline, null);
    const floorOnWorker = new SignedRetrieve(baseline, worker);
    const baseDist = process.env.BENCH_BASE_DIST;
    const base = baseDist === undefined || baseDist === "" ? null : await loadBase(baseDist, pq, router);
    const onBase = base?.pipeline(ctx);
    const variants: Record<string, Variant> = {
      node: async (body) => {
        const res = await pipeline.dispatch(body);
        if (res.status !== 200 || typeof res.body === "string") throw new Error(`node: ${res.status} ${JSON.stringify(res.body)}`);
        return Buffer.from(responseJson(res.body)).length;
      },
      "node, verify on worker": async (body) => {
        const res = await onWorker.dispatch(body);
        if (res.status !== 200 || typeof res.body === "string") throw new Error(`node: ${res.status} ${JSON.stringify(res.body)}`);
        return Buffer.from(responseJson(res.body)).length;
      },
      // The node's page alone (read, text, bytes), as the retrieve method makes it, without parsing, auth or the rest of the answer.
      "node page only": (body) => {
        const q = pageQuery(body);
        const page = store.retrieve({...q, sizeOf: (m) => 100 + m.hash.length + Math.floor((m.data.length * 4) / 3)});
        let out = "[";
        for (let i = 0; i < page.messages.length; i++) {
          const m = page.messages[i] as StoredMessage;
          out += `${i === 0 ? "" : ","}{"hash":${JSON.stringify(m.hash)},"timestamp":${String(m.timestamp)},"expiration":${String(m.expiry)},"data":"${m.data.toString("base64")}"}`;
        }
        return Promise.resolve(Buffer.from(`{"messages":${out}],"more":${String(page.more)}}`).length);
      },
      baseline: (body) => {
        const params = (JSON.parse(body) as {params: Record<string, unknown>}).params;
        return Promise.resolve(Buffer.from(JSON.stringify(baselineRetrieve(baseline, params))).length);
      },
      // Item 3's floor (`sqlite-retrieve-signed`): the baseline plus the signed retrieve's checks
      // and the node's answer; the Ed25519 check inline, or on a signing worker as the node has it.
      "floor, verify inline": (body) => floorBytes(floorInline, body),
      "floor, verify on worker": (body) => floorBytes(floorOnWorker, body),
    };
    if (base !== null && onBase !== undefined) {
      variants["base, verify on worker"] = async (body) => {
        const res = await onBase.dispatch(body);
        if (res.status !== 200 || typeof res.body === "string") throw new Error(`base: ${res.status} ${JSON.stringify(res.body)}`);
        return base.bytes(res.body as Record<string, unknown>);
      };
    }
    const results: Record<string, Array<{all: number; main: number}>> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
    for (let r = -1; r < rounds; r++) {
      // Signed afresh each round: a signature is accepted for 60 s.
      const bodies = retrieveBodies(accounts);
      for (const [name, v] of Object.entries(variants)) {
        const us = await measure(v, bodies, perRound);
        if (r >= 0) results[name]?.push(us);
      }
    }
    const medians: Record<string, {all: number; main: number}> = {};
    for (const [name, us] of Object.entries(results)) {
      medians[name] = {all: median(us.map((u) => u.all)), main: median(us.map((u) => u.main))};
      const m = medians[name];
      process.stdout.write(`${name.padEnd(24)} ${m.all.toFixed(0).padStart(5)} µs CPU per retrieve, ${m.main.toFixed(0).padStart(5)} µs of it on the main thread\n`);
    }
    const rawMain = medians.baseline?.main ?? Number.NaN;
    for (const name of ["node", "node, verify on worker", "base, verify on worker", "floor, verify inline", "floor, verify on worker"]) {
      if (medians[name] === undefined) continue;
      process.stdout.write(`baseline ÷ ${name}, main-thread CPU per request: ${(rawMain / medians[name].main).toFixed(2)}\n`);
    }
    await worker.close();
    await base?.worker.close();
    raw.close();
  } finally {
    await store.close();
    rmSync(dir, {recursive: true, force: true});
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await main(Number(process.argv[2] ?? 8), Number(process.argv[3] ?? 300));
}
