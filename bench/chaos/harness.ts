/**
 * The seeded fault run (docs/chaos.md): a devnet on loopback under a steady mixed load from `05`
 * and `07` accounts while the schedule (schedule.ts) kills, stops, freezes nodes and fills one
 * node's disk; then every fault is healed, the members' message sets are read until they agree,
 * and the checker (checker.ts) states what held.
 *
 * Bounded: faults run one at a time, every SIGSTOP gets its SIGCONT, the ballast is removed, and
 * the devnet (with all its nodes) is stopped and the tmpfs unmounted in `finally` and on exit.
 */
import {execFileSync, spawn, type ChildProcess} from "node:child_process";
import {closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statfsSync, writeSync} from "node:fs";
import {tmpdir} from "node:os";
import path from "node:path";
import {fileURLToPath} from "node:url";
import {sendControl} from "../../src/cli/devnet/control.js";
import type {NodeStatus} from "../../src/cli/devnet/supervisor.js";
import {uniform} from "../../test/utils/prng.js";
import {anyEntryLists, check, divergence, type ChangeRecord, type Check, type ResponseRecord, type StoreRecord} from "./checker.js";
import {chaosAccounts, deleteParams, expireShortenParams, retrieveAll, rpc, storeParams, type ChaosAccount, type RpcOutcome} from "./client.js";
import {describeFault, faultSchedule, type Fault} from "./schedule.js";

/** dist/bench/chaos/harness.js and bench/chaos/harness.ts (vitest) both run the built CLI. */
const BIN = fileURLToPath(new URL(import.meta.url.includes("/dist/bench/") ? "../../src/cli/bin.js" : "../../dist/src/cli/bin.js", import.meta.url));
const REQUEST_TIMEOUT_MS = 8_000;
const STORE_TTL_MS = 3_600_000;
const EXPIRE_AFTER_MS = 2_000;
const TMPFS_SIZE_MB = 64;
/** Anti-entropy and retry timings of the chaos nodes, so the swarms converge within seconds. */
const NODE_FLAGS = [
  "--replication.antiEntropyIntervalMs=1000",
  "--replication.retryInitialMs=200",
  "--replication.retryMaxMs=2000",
];

export interface ChaosOptions {
  readonly seed: number;
  readonly nodes: number;
  /** How long the schedule injects faults while the load runs. */
  readonly windowMs: number;
  readonly diskFault: boolean;
  readonly convergeTimeoutMs: number;
  readonly workers: number;
  readonly accounts05: number;
  readonly accounts07: number;
  readonly keep: boolean;
  readonly log: (line: string) => void;
}

export const DEFAULT_CHAOS: Omit<ChaosOptions, "seed" | "log"> = {
  nodes: 6,
  windowMs: 45_000,
  diskFault: true,
  convergeTimeoutMs: 60_000,
  workers: 3,
  accounts05: 2,
  accounts07: 2,
  keep: false,
};

export interface ChaosReport {
  readonly seed: number;
  readonly ok: boolean;
  readonly schedule: readonly Fault[];
  readonly notes: readonly string[];
  readonly counts: Record<string, Record<string, number>>;
  readonly convergedMs: number | null;
  readonly checks: readonly Check[];
  readonly lines: readonly string[];
}

interface DevnetNodeInfo {
  readonly name: string;
  readonly url: string;
  readonly nodeId: string;
}

interface Member {
  readonly name: string;
  readonly url: string;
}

/** Runs one seeded chaos round and returns its report (never leaves a node running or frozen). */
export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  const notes: string[] = [];
  const base = mkdtempSync(path.join(tmpdir(), "pars-chaos-"));
  const rand = uniform(opts.seed ^ 0x5bd1e995);
  let diskNode: number | null = opts.diskFault ? Math.floor(uniform(opts.seed ^ 0x27d4eb2f)() * opts.nodes) : null;
  const diskDir = diskNode === null ? null : path.join(base, `node-${diskNode + 1}`);
  let mounted = false;
  if (diskDir !== null) {
    const why = mountTmpfs(diskDir);
    if (why === null) mounted = true;
    else {
      notes.push(`disk fault skipped: ${why}`);
      diskNode = null;
    }
  }
  const schedule = faultSchedule(opts.seed, {nodes: opts.nodes, windowMs: opts.windowMs, diskNode});
  const frozen = new Set<number>();
  let devnet: ChildProcess | null = null;
  let loadRunning = true;
  const onExit = (): void => {
    for (const pid of frozen) signal(pid, "SIGCONT");
    devnet?.kill("SIGKILL"); // its nodes stop themselves when the devnet's IPC channel closes
  };
  process.on("exit", onExit);
  try {
    const started = await startDevnet(base, opts.nodes);
    devnet = started.proc;
    const nodes = started.nodes;
    opts.log(`devnet up: ${nodes.map((n) => `${n.name} ${n.url}`).join(", ")}`);
    const accounts = chaosAccounts(opts.seed, opts.accounts05, opts.accounts07);
    const members = await swarmMembers(accounts, nodes);

    const history = newHistory();
    const workers = Array.from({length: opts.workers}, (_, w) => worker(w));
    async function worker(w: number): Promise<void> {
      let n = 0;
      while (loadRunning) {
        await oneOp(`${opts.seed}/${w}/${n++}`);
        await sleep(50 + Math.floor(rand() * 100));
      }
    }
    async function oneOp(tag: string): Promise<void> {
      const acc = accounts[Math.floor(rand() * accounts.length)] as ChaosAccount;
      const swarm = members.get(acc.hex) ?? [];
      const target = swarm[Math.floor(rand() * swarm.length)] as Member;
      const roll = rand();
      const live = history.live.get(acc.hex) ?? [];
      if (roll < 0.15 && live.length > 0) {
        const hash = live.splice(Math.floor(rand() * live.length), 1)[0] as string;
        const out = await send(target, "delete", deleteParams(acc, [hash]));
        history.deletes.push({account: acc.hex, hash, acked: out.status === 200 && anyEntryLists(out.body, "deleted", hash)});
      } else if (roll < 0.25 && live.length > 0) {
        const hash = live.splice(Math.floor(rand() * live.length), 1)[0] as string;
        const expiryMs = Date.now() + EXPIRE_AFTER_MS;
        const out = await send(target, "expire", expireShortenParams(acc, [hash], expiryMs));
        history.expires.push({account: acc.hex, hash, acked: out.status === 200 && anyEntryLists(out.body, "updated", hash), expiryMs});
      } else if (roll < 0.6) {
        const out = await send(target, "store", storeParams(acc, Buffer.from(`chaos ${tag} ${acc.kind}`), STORE_TTL_MS, Date.now()));
        const hash = (out.body as {hash?: string} | null)?.hash;
        if (out.status === 200 && typeof hash === "string") {
          history.stores.push({account: acc.hex, hash, acked: true});
          history.live.set(acc.hex, [...live, hash]);
        } else history.unackedStores++;
      } else {
        const {outcome} = await retrieveAll(target.url, acc, REQUEST_TIMEOUT_MS);
        record(target, "retrieve", outcome);
      }
    }
    async function send(target: Member, method: string, params: object): Promise<RpcOutcome> {
      const out = await rpc(target.url, method, params, REQUEST_TIMEOUT_MS);
      record(target, method, out);
      return out;
    }
    function record(target: Member, method: string, out: RpcOutcome): void {
      const notReady = out.status === 503 && (isNotReady(out.body) || isClosing(out.body));
      const detail = out.status >= 500 ? JSON.stringify(out.body).slice(0, 120) : undefined;
      history.responses.push({method, node: target.name, status: out.status, notReady, ...(detail === undefined ? {} : {detail})});
    }

    const kills = new Map<string, number>();
    const loadStart = Date.now();
    for (const fault of schedule) {
      await sleep(Math.max(0, loadStart + fault.atMs - Date.now()));
      opts.log(`fault ${describeFault(fault)}`);
      await inject(fault, base, frozen, kills);
    }
    await sleep(Math.max(0, loadStart + opts.windowMs - Date.now()));
    await heal(base, opts.nodes, frozen, diskDir);
    loadRunning = false;
    await Promise.all(workers);
    const healedAt = Date.now();
    opts.log(`healed after ${healedAt - loadStart} ms; reading every member until the swarms agree`);

    // The final sets count from when their read began: an expiry that passes during it is no resurrection.
    let finalReadAtMs = Date.now();
    let finalSets = await readAll(accounts, members);
    let convergedMs: number | null = null;
    for (;;) {
      if (divergence(finalSets).length === 0) {
        convergedMs = Date.now() - healedAt;
        break;
      }
      if (Date.now() - healedAt > opts.convergeTimeoutMs) break;
      await sleep(500);
      finalReadAtMs = Date.now();
      finalSets = await readAll(accounts, members);
    }
    const status = (await sendControl(base, "status", null)) as NodeStatus[];
    for (const n of status) if (n.exits.some((e) => e.unexpected && e.signal !== "SIGKILL")) notes.push(`${n.name} crashed; last error in its log: ${lastError(path.join(base, n.name, "node.log"))}`);
    const checks: Check[] = [
      {
        name: `members converge within ${opts.convergeTimeoutMs} ms of healing`,
        ok: convergedMs !== null,
        detail: convergedMs !== null ? `converged ${convergedMs} ms after healing` : `still differ: ${divergence(finalSets).join("; ")}`,
      },
      ...check({...history, finalSets, finalReadAtMs, nodes: status, scheduledKills: kills}),
    ];
    const counts = countResponses(history.responses);
    const report = {seed: opts.seed, ok: checks.every((c) => c.ok), schedule, notes, counts, convergedMs, checks};
    return {...report, lines: formatReport(report, opts, diskNode, history, status)};
  } finally {
    loadRunning = false; // also on errors: the clients stop with the devnet
    process.off("exit", onExit);
    for (const pid of frozen) signal(pid, "SIGCONT");
    if (devnet !== null) await stopDevnet(devnet);
    if (mounted && diskDir !== null) unmount(diskDir);
    if (opts.keep) opts.log(`kept ${base}`);
    else rmSync(base, {recursive: true, force: true});
  }
}

interface History {
  stores: StoreRecord[];
  deletes: ChangeRecord[];
  expires: ChangeRecord[];
  responses: ResponseRecord[];
  /** account → acknowledged hashes no delete or expire was sent for yet. */
  live: Map<string, string[]>;
  unackedStores: number;
}

function newHistory(): History {
  return {stores: [], deletes: [], expires: [], responses: [], live: new Map(), unackedStores: 0};
}

async function inject(fault: Fault, base: string, frozen: Set<number>, kills: Map<string, number>): Promise<void> {
  const name = `node-${fault.node + 1}`;
  const pid = await runningPid(base, fault.node);
  switch (fault.kind) {
    case "kill":
      if (pid === null) return;
      signal(pid, "SIGKILL");
      kills.set(name, (kills.get(name) ?? 0) + 1);
      await waitRunning(base, fault.node, pid);
      return;
    case "stop":
      await sendControl(base, "stop", fault.node + 1);
      await sleep(fault.holdMs);
      await sendControl(base, "start", fault.node + 1);
      return;
    case "freeze":
      if (pid === null) return;
      frozen.add(pid);
      signal(pid, "SIGSTOP");
      await sleep(fault.holdMs);
      signal(pid, "SIGCONT");
      frozen.delete(pid);
      return;
    case "disk": {
      const ballast = path.join(base, name, "ballast");
      fill(ballast);
      await sleep(fault.holdMs);
      rmSync(ballast, {force: true});
      return;
    }
  }
}

/** Every fault undone: frozen nodes continued, stopped ones started, ballast gone, all running. */
async function heal(base: string, count: number, frozen: Set<number>, diskDir: string | null): Promise<void> {
  for (const pid of frozen) signal(pid, "SIGCONT");
  frozen.clear();
  if (diskDir !== null) rmSync(path.join(diskDir, "ballast"), {force: true});
  for (let i = 0; i < count; i++) {
    const pid = await runningPid(base, i);
    if (pid === null) await sendControl(base, "start", i + 1);
  }
}

async function runningPid(base: string, index: number): Promise<number | null> {
  const status = (await sendControl(base, "status", null)) as NodeStatus[];
  const node = status[index];
  return node?.state === "running" ? node.pid : null;
}

async function waitRunning(base: string, index: number, oldPid: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const pid = await runningPid(base, index);
    if (pid !== null && pid !== oldPid) return;
    await sleep(200);
  }
  throw new Error(`node-${index + 1} was not restarted within 60 s of its kill`);
}

async function readAll(
  accounts: readonly ChaosAccount[],
  members: ReadonlyMap<string, readonly Member[]>,
): Promise<Map<string, Map<string, Set<string> | null>>> {
  const out = new Map<string, Map<string, Set<string> | null>>();
  for (const acc of accounts) {
    const sets = new Map<string, Set<string> | null>();
    for (const m of members.get(acc.hex) ?? []) {
      const {hashes, outcome} = await retrieveAll(m.url, acc, REQUEST_TIMEOUT_MS);
      sets.set(m.name, outcome.status === 200 ? hashes : null);
    }
    out.set(acc.hex, sets);
  }
  return out;
}

function startDevnet(base: string, count: number): Promise<{proc: ChildProcess; nodes: DevnetNodeInfo[]}> {
  const args = [BIN, "devnet", "--nodes", String(count), "--mode", "balanced", "--base-dir", base, ...NODE_FLAGS];
  const proc = spawn(process.execPath, args, {stdio: ["ignore", "pipe", "pipe"]});
  let out = "";
  let err = "";
  proc.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`devnet not ready in 120 s:\n${out}\n${err}`)), 120_000);
    proc.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (!out.includes("devnet ready")) return;
      clearTimeout(timer);
      const nodes = [...out.matchAll(/^(node-\d+) (\S+) ([0-9a-f]{64}) swarm /gm)].map((m) => ({name: m[1] ?? "", url: m[2] ?? "", nodeId: m[3] ?? ""}));
      resolve({proc, nodes});
    });
    proc.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`devnet exited with ${code}:\n${out}\n${err}`));
    });
  });
}

async function stopDevnet(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  proc.kill("SIGINT");
  const timer = setTimeout(() => proc.kill("SIGKILL"), 30_000);
  await exited;
  clearTimeout(timer);
}

/** Each account's swarm members as `get_swarm` names them, mapped to the devnet's URLs. */
async function swarmMembers(accounts: readonly ChaosAccount[], nodes: readonly DevnetNodeInfo[]): Promise<Map<string, Member[]>> {
  const byId = new Map(nodes.map((n) => [n.nodeId, n]));
  const out = new Map<string, Member[]>();
  for (const acc of accounts) {
    const res = await rpc(nodes[0]?.url ?? "", "get_swarm", {pubkey: acc.hex}, REQUEST_TIMEOUT_MS);
    const snodes = (res.body as {snodes?: Array<{node_id: string}>} | null)?.snodes ?? [];
    const members = snodes.flatMap((s) => {
      const n = byId.get(s.node_id);
      return n === undefined ? [] : [{name: n.name, url: n.url}];
    });
    if (members.length === 0) throw new Error(`get_swarm for ${acc.hex} gave no devnet member (status ${res.status})`);
    out.set(acc.hex, members);
  }
  return out;
}

function mountTmpfs(dir: string): string | null {
  if (process.platform !== "linux" || process.getuid?.() !== 0) return "needs root on Linux to mount a tmpfs";
  mkdirSync(dir, {recursive: true});
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${TMPFS_SIZE_MB}m,mode=0700`, "tmpfs", dir], {stdio: "pipe"});
    return null;
  } catch (err) {
    return `mount -t tmpfs failed: ${(err as Error).message.split("\n")[0]}`;
  }
}

function unmount(dir: string): void {
  try {
    execFileSync("umount", ["-l", dir], {stdio: "pipe"});
  } catch {
    // already gone; nothing else to undo
  }
}

/** Writes zeros until the file system is full (ENOSPC). */
function fill(file: string): void {
  const chunk = Buffer.alloc(1 << 20);
  const fd = openSync(file, "w");
  try {
    const free = Number(statfsSync(path.dirname(file)).bavail) * Number(statfsSync(path.dirname(file)).bsize);
    for (let written = 0; written < free + chunk.length; written += chunk.length) writeSync(fd, chunk);
  } catch (err) {
    if ((err as {code?: string}).code !== "ENOSPC") throw err;
  } finally {
    closeSync(fd);
  }
}

/** The node's own 503 while its membership is not loaded (e.g. right after a restart). */
function isNotReady(body: unknown): boolean {
  return typeof body === "string" && body.startsWith("Service node is not ready");
}

/** fastify's answer (return503OnClosing) to a request that arrives while the node closes gracefully. */
function isClosing(body: unknown): boolean {
  const b = body as {error?: unknown; message?: unknown; statusCode?: unknown} | null;
  return b !== null && typeof b === "object" && b.error === "Service Unavailable" && b.message === "Service Unavailable" && b.statusCode === 503;
}

/** The last pino line at level error (50) or fatal (60) of a node log, shortened. */
function lastError(file: string): string {
  try {
    const lines = readFileSync(file, "utf8").split("\n").filter((l) => /"level":(50|60)/.test(l));
    return (lines[lines.length - 1] ?? "none").slice(0, 400);
  } catch {
    return "(log unreadable)";
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // the process is gone
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function countResponses(responses: readonly ResponseRecord[]): Record<string, Record<string, number>> {
  const counts: Record<string, Record<string, number>> = {};
  for (const r of responses) {
    const byStatus = (counts[r.method] ??= {});
    const key = r.status === 0 ? "unavailable" : String(r.status);
    byStatus[key] = (byStatus[key] ?? 0) + 1;
  }
  return counts;
}

function formatReport(
  report: Omit<ChaosReport, "lines">,
  opts: ChaosOptions,
  diskNode: number | null,
  history: History,
  status: readonly NodeStatus[],
): string[] {
  const disk = diskNode === null ? "disk fault off" : `disk fault on node-${diskNode + 1} (tmpfs ${TMPFS_SIZE_MB} MiB)`;
  const lines = [
    `chaos seed ${report.seed}: ${opts.nodes} nodes (balanced swarms), ${opts.accounts05}×05 + ${opts.accounts07}×07 accounts, ${opts.workers} clients, fault window ${opts.windowMs} ms, ${disk}`,
    ...report.notes.map((n) => `note: ${n}`),
    `schedule (${report.schedule.length} faults):`,
    ...report.schedule.map((f) => `  ${describeFault(f)}`),
    `requests (status: count):`,
    ...Object.entries(report.counts).map(([method, c]) => `  ${method}: ${Object.entries(c).map(([s, n]) => `${s}: ${n}`).join(", ")}`),
    `stores: ${history.stores.length} acknowledged, ${history.unackedStores} not; deletes ${history.deletes.filter((d) => d.acked).length}/${history.deletes.length} acknowledged; expiries ${history.expires.filter((e) => e.acked).length}/${history.expires.length}`,
    `nodes: ${status.map((s) => `${s.name} restarts ${s.restarts} exits ${s.exits.length}`).join(", ")}`,
    `time to converge after healing: ${report.convergedMs === null ? "did not converge" : `${report.convergedMs} ms`}`,
    "checks:",
    ...report.checks.map((c) => `  ${c.ok ? "PASS" : "FAIL"} ${c.name}: ${c.detail}`),
    `result: ${report.ok ? "PASS" : "FAIL"}; replay with: npm run chaos -- --seed ${report.seed} --window-ms ${opts.windowMs}${opts.diskFault ? "" : " --no-disk-fault"}`,
  ];
  return lines;
}
