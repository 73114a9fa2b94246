/**
 * Issue #15 item 6: how much memory a node holds, measured on real node processes (the CLI, as in
 * the HTTP scenarios) from /proc/<pid>/status:
 *
 * - **after 1 M stored messages**: the messages are written into the node's database through the
 *   storage layer (`SqliteMessageStore.storeBulk`, the replication insert: owners, hashes, the
 *   mailbox counters and their indexes, as a store writes them), because 1 M stores through HTTP
 *   would take minutes of the run; the node is then started on that data directory, serves
 *   `BENCH_MEMORY_STORES` more stores through the whole store path (validation, group commit,
 *   signed receipts), and waits until its storage-proof commitment over all of them is built (a
 *   real node holds it). RSS then, and the peak (VmHWM), next to an empty node's;
 * - **per WebSocket subscriber**: N idle sockets, each subscribed (signed `subscribe`) to its own
 *   `05` account, on an empty node: (RSS with them − RSS before) ÷ N. The node allows 32 sockets
 *   per address, so the sockets come from many 127.x addresses (all loopback on Linux).
 *
 *   node dist/bench/memory.js            (or BENCH_MEMORY=1 npm run bench)
 *   BENCH_MEMORY_MESSAGES (1000000)  BENCH_MEMORY_STORES (10000)  BENCH_MEMORY_SOCKETS (2000)
 */
import {randomBytes} from "node:crypto";
import {existsSync, readFileSync, statSync} from "node:fs";
import {join} from "node:path";
import {pathToFileURL} from "node:url";
import {request} from "undici";
import WebSocket from "ws";
import {DB_FILE_NAME, DB_SUBDIR} from "../src/config/paths.js";
import {initHashing, messageHash} from "../src/crypto/hash.js";
import {SqliteMessageStore, type StoredMessage} from "../src/storage/index.js";
import {systemClock} from "../src/util/clock.js";
import {runLoadClient, startServer, type ServerHandle} from "./children.js";
import {BenchContext, nodeArgs, SCRIPTS} from "./scenarios.js";
import {envNumber, formatInt, round} from "./util.js";
import {openSubscribedSocket} from "./ws-push.js";

export interface MemoryBenchOptions {
  messages: number;
  /** Stores sent through HTTP after the node started on the filled database. */
  stores: number;
  sockets: number;
}

export interface MemoryBenchResult {
  options: MemoryBenchOptions;
  /** A node on an empty database after start-up, MB. */
  emptyRssMb: number;
  /** The node on `messages` messages, after the HTTP stores and its commitment build. */
  filled: {rssMb: number; peakRssMb: number; fillSeconds: number; readySeconds: number; dbMb: number};
  ws: {sockets: number; rssBeforeMb: number; rssAfterMb: number; perSocketKb: number};
}

const MB = 1024 * 1024;
const ACCOUNTS = 10_000;
const DATA_BYTES = 642;
const FILL_BATCH = 5_000;
const TTL_MS = 14 * 24 * 3600 * 1000;
/** The node allows 32 WebSocket connections per address (a protocol constant). */
const SOCKETS_PER_ADDRESS = 30;
const SETTLE_MS = 3_000;
const READY_TIMEOUT_MS = 600_000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** VmRSS and VmHWM of a process, in MB (all its threads: workers included). */
export function processMemory(pid: number): {rssMb: number; peakRssMb: number} {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string): number => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return {rssMb: round(kb("VmRSS") / 1024, 1), peakRssMb: round(kb("VmHWM") / 1024, 1)};
}

/** Writes `count` messages over ACCOUNTS mailboxes into the database a node on `dataDir` opens. */
async function fill(dataDir: string, count: number, log: (line: string) => void): Promise<number> {
  await initHashing();
  const started = performance.now();
  const store = await SqliteMessageStore.open({path: join(dataDir, DB_SUBDIR, DB_FILE_NAME)}, {clock: systemClock});
  try {
    const accounts = Array.from({length: ACCOUNTS}, () => Buffer.concat([Buffer.from([5]), randomBytes(32)]));
    const tail = randomBytes(DATA_BYTES - 8);
    const now = Date.now();
    for (let done = 0; done < count; ) {
      const batch: StoredMessage[] = [];
      for (const end = Math.min(count, done + FILL_BATCH); done < end; done++) {
        const account = accounts[done % ACCOUNTS] as Buffer;
        const data = Buffer.alloc(DATA_BYTES);
        data.writeDoubleBE(done, 0);
        tail.copy(data, 8);
        const hash = messageHash(account, 0, data);
        batch.push({account: account.toString("hex"), hash, namespace: 0, timestamp: now, expiry: now + TTL_MS, data});
      }
      await store.storeBulk(batch);
      if (done % 200_000 === 0) log(`  memory: ${formatInt(done)} messages written`);
    }
  } finally {
    await store.close();
  }
  return round((performance.now() - started) / 1000, 1);
}

/** Waits until the node's storage-proof commitment is published (GET /health `proofs.proofReady`). */
async function waitProofReady(url: string): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < READY_TIMEOUT_MS) {
    const health = (await (await request(`${url}/health`)).body.json()) as {proofs?: {proofReady?: boolean}};
    if (health.proofs === undefined || health.proofs.proofReady === true) return round((performance.now() - started) / 1000, 1);
    await sleep(1_000);
  }
  throw new Error(`the node's commitment was not ready within ${READY_TIMEOUT_MS / 1000} s`);
}

/** One idle socket from `localAddress`, subscribed (signed monitor request) to a fresh 05 account. */
async function subscribedSocket(wsUrl: string, localAddress: string): Promise<WebSocket> {
  return (await openSubscribedSocket(wsUrl, localAddress)).socket;
}

async function measureSockets(server: ServerHandle, count: number): Promise<MemoryBenchResult["ws"]> {
  const wsUrl = `${server.url.replace(/^http/, "ws")}/ws`;
  await sleep(SETTLE_MS);
  const before = processMemory(server.pid).rssMb;
  const sockets: WebSocket[] = [];
  try {
    for (let i = 0; i < count; i += SOCKETS_PER_ADDRESS) {
      const n = Math.floor(i / SOCKETS_PER_ADDRESS);
      const address = `127.1.${Math.floor(n / 250)}.${(n % 250) + 1}`;
      const group = Array.from({length: Math.min(SOCKETS_PER_ADDRESS, count - i)}, () => subscribedSocket(wsUrl, address));
      sockets.push(...(await Promise.all(group)));
    }
    await sleep(SETTLE_MS);
    const after = processMemory(server.pid).rssMb;
    return {sockets: count, rssBeforeMb: before, rssAfterMb: after, perSocketKb: round(((after - before) * 1024) / count, 1)};
  } finally {
    for (const s of sockets) s.terminate();
  }
}

export async function benchMemory(ctx: BenchContext, o: MemoryBenchOptions, log: (line: string) => void): Promise<MemoryBenchResult> {
  const emptyDir = ctx.tempDir();
  const empty = await startServer(ctx.children, "node", nodeArgs(emptyDir));
  let emptyRssMb: number;
  let ws: MemoryBenchResult["ws"];
  try {
    await waitProofReady(empty.url);
    await sleep(SETTLE_MS);
    emptyRssMb = processMemory(empty.pid).rssMb;
    log(`  memory: empty node ${emptyRssMb} MB; opening ${formatInt(o.sockets)} subscribed WebSockets`);
    ws = await measureSockets(empty, o.sockets);
  } finally {
    await empty.stop();
    ctx.removeDir(emptyDir);
  }
  const dir = ctx.tempDir();
  try {
    log(`  memory: writing ${formatInt(o.messages)} messages through the storage layer`);
    const fillSeconds = await fill(dir, o.messages, log);
    const dbMb = dbSizeMb(dir);
    const node = await startServer(ctx.children, "node", nodeArgs(dir));
    try {
      const spec = {url: node.url, workload: "store" as const, accounts: "plain" as const, accountCount: 1_000, seed: "memory"};
      const r = await runLoadClient(ctx.children, SCRIPTS.loadClient, {...spec, connections: 50, warmupSeconds: 0, seconds: 0, totalRequests: o.stores});
      if (r.non2xx + r.errors > 0) throw new Error(`memory: ${r.non2xx + r.errors} stores failed: ${r.failures.join(" | ")}`);
      log(`  memory: ${formatInt(r.requests)} stores through HTTP; waiting for the commitment`);
      const readySeconds = await waitProofReady(node.url);
      await sleep(SETTLE_MS);
      return {options: o, emptyRssMb, filled: {...processMemory(node.pid), fillSeconds, readySeconds, dbMb}, ws};
    } finally {
      await node.stop();
    }
  } finally {
    ctx.removeDir(dir);
  }
}

/** The database file and its WAL, MB. */
function dbSizeMb(dataDir: string): number {
  const path = join(dataDir, DB_SUBDIR, DB_FILE_NAME);
  const size = (p: string): number => (existsSync(p) ? statSync(p).size : 0);
  return round((size(path) + size(`${path}-wal`)) / MB, 0);
}

export function memoryOptions(env: NodeJS.ProcessEnv = process.env): MemoryBenchOptions {
  return {
    messages: Math.round(envNumber("BENCH_MEMORY_MESSAGES", 1_000_000, env)),
    stores: Math.round(envNumber("BENCH_MEMORY_STORES", 10_000, env)),
    sockets: Math.round(envNumber("BENCH_MEMORY_SOCKETS", 2_000, env)),
  };
}

export function formatMemory(r: MemoryBenchResult): string {
  const f = r.filled;
  const n = formatInt(r.options.messages);
  return [
    `empty node RSS                           ${r.emptyRssMb} MB`,
    `node RSS after ${n} messages (+${formatInt(r.options.stores)} via HTTP)  ${f.rssMb} MB (peak ${f.peakRssMb} MB; database ${f.dbMb} MB)`,
    `  fill ${f.fillSeconds} s through the storage layer; commitment ready ${f.readySeconds} s after the stores`,
    `RSS per idle subscribed WebSocket        ${r.ws.perSocketKb} KB (${formatInt(r.ws.sockets)} sockets: ${r.ws.rssBeforeMb} → ${r.ws.rssAfterMb} MB)`,
  ].join("\n");
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const ctx = new BenchContext({runs: 1, seconds: 0, warmupSeconds: 0, connections: 50, storeAccounts: 1_000, retrieveAccounts: 100, messagesPerAccount: 100, scenarios: [], rate: 500});
  process.on("exit", () => ctx.closeSync());
  try {
    const r = await benchMemory(ctx, memoryOptions(), (line) => console.log(line));
    console.log(`\nMemory (issue #15 item 6)\n\n${formatMemory(r)}`);
  } finally {
    await ctx.close();
  }
}
