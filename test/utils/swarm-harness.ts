/**
 * In-process multi-node harness for swarm tests: real `StorageNode`s on 127.0.0.1 port 0, each with
 * its own tmp data dir and a deterministic identity (key file written before init), plus helpers
 * to sign their records and talk to them over HTTP. Teardown closes everything in LIFO order.
 */
import {createHash} from "node:crypto";
import {existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {pino, type Logger} from "pino";
import {Pool} from "undici";
import {dataPaths, loadConfig} from "../../src/config/index.js";
import {encodeKeyFile, generateIdentity, type NodeIdentity} from "../../src/crypto/identity.js";
import {StorageNode} from "../../src/node/index.js";
import {defaultChannelManagerOptions} from "../../src/peer/channel/options.js";
import {signOwnRecord} from "../../src/swarm/own-record.js";
import type {NodeRecordJson} from "../../src/swarm/record-types.js";
import {nodeSwarm} from "../../src/swarm/mapping.js";
import type {Clock} from "../../src/util/clock.js";
import {testPq} from "./rpc-harness.js";

export const PARS = 10n ** 18n;
export const DEVNET_ID = 7072;

/** Deterministic bytes: SHA-256(label ‖ counter) blocks. */
export function seedBytes(label: string, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let offset = 0, i = 0; offset < length; offset += 32, i++) {
    out.set(createHash("sha256").update(`${label}/${i}`).digest().subarray(0, Math.min(32, length - offset)), offset);
  }
  return out;
}

const identityCache = new Map<string, NodeIdentity>();

export async function identityFor(label: string): Promise<NodeIdentity> {
  let identity = identityCache.get(label);
  if (identity === undefined) {
    identity = generateIdentity(await testPq(), {mlDsa: seedBytes(`dsa/${label}`, 32), mlKem: seedBytes(`kem/${label}`, 64)});
    identityCache.set(label, identity);
  }
  return identity;
}

/** Labels (from `prefix/0`, `prefix/1`, …) of identities whose PIP-0008 swarm for `count` satisfies `want`. */
export async function pickLabels(prefix: string, count: number, wants: Array<(swarm: bigint) => boolean>): Promise<string[]> {
  const picked: string[] = [];
  for (let k = 0; picked.length < wants.length; k++) {
    if (k > 2000) throw new Error("no identities found for the wanted swarms");
    const label = `${prefix}/${k}`;
    const want = wants[picked.length]!;
    if (want(nodeSwarm((await identityFor(label)).mlDsa.publicKey, count))) picked.push(label);
  }
  return picked;
}

export interface TestNode {
  readonly label: string;
  readonly node: StorageNode;
  readonly url: string;
  readonly port: number;
  readonly pool: Pool;
  /** Every log line at warn or above, parsed. */
  readonly warnings: Array<Record<string, unknown>>;
  /** Every log line written (at `logLevel`), raw. */
  readonly logLines: string[];
  /** The node's data directory. */
  readonly dir: string;
}

export interface SwarmHarnessOptions {
  mode: "pip0008" | "balanced";
  /** Static membership file (default: `<base>/membership.json`) or a registry URL. */
  registryUrl?: string;
  pollIntervalMs?: number;
  requestTimeoutMs?: number;
  /** Extra config flags for every node (e.g. `"replication.antiEntropyIntervalMs": "1000"`). */
  flags?: Record<string, string>;
  /** Every node's clock (default: the system clock); lets a test move time past signature windows. */
  clock?: Clock;
  /** Lowest level logged into `logLines` (default "warn"). */
  logLevel?: "trace" | "debug" | "info" | "warn";
}

export interface StartNodeOptions {
  /** A fixed port (e.g. to restart a node where its record says it is); default 0. */
  port?: number;
}

export class SwarmHarness {
  readonly baseDir = mkdtempSync(join(tmpdir(), "pars-swarm-"));
  readonly membershipFile = join(this.baseDir, "membership.json");
  readonly nodes: TestNode[] = [];
  readonly #cleanup: Array<() => Promise<void> | void> = [() => rmSync(this.baseDir, {recursive: true, force: true})];

  constructor(readonly opts: SwarmHarnessOptions) {}

  /** Starts one node (not ready until a membership with its record is loaded). */
  async startNode(label: string, opts: StartNodeOptions = {}): Promise<TestNode> {
    const identity = await identityFor(label);
    const dir = join(this.baseDir, label.replace(/\W/g, "_"));
    const keyFile = dataPaths({dataDir: dir}).keyFile;
    mkdirSync(join(dir, "staking"), {recursive: true, mode: 0o700});
    if (!existsSync(keyFile)) writeFileSync(keyFile, encodeKeyFile(identity), {mode: 0o600});
    const membership =
      this.opts.registryUrl === undefined
        ? {"membership.source": "static", "membership.file": this.membershipFile}
        : {"membership.source": "registry", "membership.registryUrl": this.opts.registryUrl};
    const config = loadConfig({
      flags: {
        "data-dir": dir,
        "http-port": String(opts.port ?? 0),
        network: "devnet",
        "swarm.mode": this.opts.mode,
        "membership.pollIntervalMs": String(this.opts.pollIntervalMs ?? 200),
        "membership.requestTimeoutMs": String(this.opts.requestTimeoutMs ?? 2_000),
        "crypto.pqBackend": "noble",
        "rateLimit.enabled": "false",
        ...membership,
        ...this.opts.flags,
      },
      env: {},
    });
    const warnings: Array<Record<string, unknown>> = [];
    const logLines: string[] = [];
    const write = (line: string): void => {
      logLines.push(line);
      const parsed = JSON.parse(line) as Record<string, unknown>;
      if (typeof parsed.level === "number" && parsed.level >= 40) warnings.push(parsed);
    };
    const logger: Logger = pino({level: this.opts.logLevel ?? "warn"}, {write});
    const node = await StorageNode.init(config, {logger, ...(this.opts.clock === undefined ? {} : {clock: this.opts.clock})});
    const pool = new Pool(node.httpUrl, {connections: 4, keepAliveTimeout: 10});
    this.#cleanup.push(() => node.close(), () => (pool.closed ? undefined : pool.close()));
    const testNode: TestNode = {label, node, url: node.httpUrl, port: Number(new URL(node.httpUrl).port), pool, warnings, logLines, dir};
    this.nodes.push(testNode);
    return testNode;
  }

  /** Stops a node (its data directory stays, so `startNode(label, {port})` restarts it). */
  async stopNode(n: TestNode): Promise<void> {
    const i = this.nodes.indexOf(n);
    if (i >= 0) this.nodes.splice(i, 1);
    await n.pool.close();
    await n.node.close();
  }

  /** The node's signed record (valid devnet stake) at its real address, with optional changes. */
  async record(label: string, port: number, changes: {networkId?: number; operatorAmount?: bigint; timestampMs?: number} = {}): Promise<NodeRecordJson> {
    const identity = await identityFor(label);
    const amount = changes.operatorAmount ?? 15_000n * PARS;
    return signOwnRecord(
      {
        networkId: changes.networkId ?? DEVNET_ID,
        identity,
        host: "127.0.0.1",
        port,
        stake: {operator: {address: `0x${identity.nodeId.slice(0, 40)}`, amount: amount.toString()}, contributors: []},
        version: "0.1.0",
        timestampMs: changes.timestampMs ?? Date.now(),
      },
      await testPq(),
    );
  }

  /** Records of every started node. */
  async nodeRecords(): Promise<NodeRecordJson[]> {
    return Promise.all(this.nodes.map((n) => this.record(n.label, n.port)));
  }

  /** Replaces the membership file atomically (temp file, then rename). */
  writeMembership(records: unknown[]): void {
    const temp = `${this.membershipFile}.tmp`;
    writeFileSync(temp, JSON.stringify({version: 1, network_id: DEVNET_ID, nodes: records}));
    renameSync(temp, this.membershipFile);
  }

  async close(): Promise<void> {
    for (const step of this.#cleanup.reverse()) await step();
  }
}

export interface HttpResult {
  status: number;
  body: any;
}

export async function rpc(pool: Pool, method: string, params: object): Promise<HttpResult> {
  const res = await pool.request({path: "/storage_rpc/v1", method: "POST", body: JSON.stringify({method, params})});
  const text = await res.body.text();
  const json = res.headers["content-type"]?.toString().includes("json") === true;
  return {status: res.statusCode, body: json ? JSON.parse(text) : text};
}

export async function getJson(pool: Pool, path: string): Promise<HttpResult> {
  const res = await pool.request({path, method: "GET"});
  const text = await res.body.text();
  const json = res.headers["content-type"]?.toString().includes("json") === true;
  return {status: res.statusCode, body: json ? JSON.parse(text) : text};
}

/**
 * One anti-entropy pull between every ordered pair of `nodes`, awaited: what the background rounds
 * do, without waiting for their timers (a test that a repair sticks checks after this).
 */
export async function antiEntropyRound(nodes: readonly TestNode[]): Promise<void> {
  for (const n of nodes) {
    for (const peer of nodes) if (peer !== n) await n.node.replication!.antiEntropy.syncWith(peer.node.nodeId);
  }
}

/**
 * Until `target` admits a new handshake from `peer`: it accepts one per peer per
 * minHandshakeIntervalMs, and its newest channel with `peer` is at most that old.
 */
export async function handshakeAdmitted(target: TestNode, peer: string): Promise<void> {
  const newest = Math.max(...target.node.replication!.transport.channels.channelsOf(peer).map((c) => c.createdAtMs));
  await waitFor("the target to admit a handshake", () => Date.now() >= newest + defaultChannelManagerOptions.minHandshakeIntervalMs, 5_000);
}

/** Polls `check` until it returns true or `timeoutMs` passes (then fails with `what`). */
export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
