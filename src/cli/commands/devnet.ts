/**
 * `pars-storage devnet --nodes N`: N real node processes on 127.0.0.1 in swarms, with one signed
 * static membership, until Ctrl-C. `--init-only` writes the same layout for fixed addresses and
 * starts nothing (docker/docker-compose.yml).
 *
 * Ports: nodes start with `http.port = 0` (the OS picks, so there is no race for a free port) and
 * a membership file that does not exist yet, so they listen but answer 503. Once every node has
 * printed its URL, the records (which must carry the real ports) are signed and the membership is
 * written atomically; each node's static source sees it (fs.watch, or its 1 s stat check) and
 * becomes ready. The node directories, keys and configs persist in --base-dir; a restart reuses
 * the keys and writes a new membership with the new ports.
 *
 * Once ready, each node's config.json is rewritten with the port it got, so the supervisor
 * (devnet/supervisor.ts) restarts a crashed node in place on the port its signed record names,
 * with back-off, while the others keep running. `--status`, `--stop-node N`, `--start-node N` and
 * `--kill-node N` with the same `--base-dir` talk to the running devnet (devnet/control.ts).
 *
 * `--tls` gives every node `http.tls = "auto"`: its TLS key and certificate are made in its data
 * dir before it starts, and its record carries the pin, so peers and clients speak HTTPS to it.
 */
import {mkdtemp, rm} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {loadConfig, type ParsStorageConfig} from "../../config/index.js";
import type {PqBackend} from "../../crypto/index.js";
import {swarmIdToWire} from "../../swarm/index.js";
import {parseNodeRecords} from "../../swarm/index.js";
import {buildSwarmView} from "../../swarm/index.js";
import type {ParsedArgs} from "../args.js";
import {EXIT_FAILURE, EXIT_OK} from "../errors.js";
import type {CliIo} from "../io.js";
import {spawnNode, stopAll, waitListening, waitReady, type NodeProcess} from "../devnet/children.js";
import {
  DEVNET_NETWORK_ID,
  NODE_LOG_FILE_NAME,
  membershipDocument,
  nodeConfig,
  nodeTlsPins,
  nodeUrl,
  prepareLayout,
  writeAtomically,
  writeNodeConfig,
  type DevnetLayout,
} from "../devnet/layout.js";
import {parseDevnetOptions, type DevnetControlRequest, type DevnetEndpoint} from "../devnet/options.js";
import {sendControl, startControlServer, type ControlServer} from "../devnet/control.js";
import {DevnetSupervisor, type NodeStatus} from "../devnet/supervisor.js";
import {Progress} from "../progress.js";
import {loadCrypto} from "./crypto.js";

const START_TIMEOUT_MS = 60_000;
const READY_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 10_000;

type Doc = ReturnType<typeof membershipDocument>;
type Outcome = {kind: "signal"; signal: string} | {kind: "exit"; name: string; code: number | null};

export async function devnetCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const opts = parseDevnetOptions(args);
  if (opts.control !== null) return control(path.resolve(io.cwd, opts.baseDir ?? "."), opts.control, io);
  const loaded = loadConfig({flags: args.flags, env: io.env, cwd: io.cwd});
  const config = opts.tls ? {...loaded, http: {...loaded.http, tls: "auto" as const}} : loaded;
  const backend = await loadCrypto(config, io);
  const baseDir = opts.baseDir === null ? await mkdtemp(path.join(os.tmpdir(), "pars-devnet-")) : path.resolve(io.cwd, opts.baseDir);
  const progress = new Progress({label: "devnet"}, {io});
  try {
    progress.update("node keys", `0/${opts.count}`);
    const layout = await prepareLayout(baseDir, opts.count, opts.mode ?? config.swarm.mode, backend, (done) => progress.update("node keys", `${done}/${opts.count}`));
    if (opts.endpoints !== null) {
      progress.done();
      return await initOnly(layout, opts.endpoints, config, backend, io);
    }
    return await run(layout, config, backend, io, progress);
  } finally {
    progress.done();
  }
}

async function initOnly(
  layout: DevnetLayout,
  endpoints: readonly DevnetEndpoint[],
  base: ParsStorageConfig,
  backend: PqBackend,
  io: CliIo,
): Promise<number> {
  const loopback = endpoints.every((e) => e.host === "127.0.0.1" || e.host === "localhost");
  const bind = loopback ? "127.0.0.1" : "0.0.0.0";
  const configs = layout.nodes.map((node, i) => nodeConfig(layout, node, {...(endpoints[i] ?? {host: "", port: 0}), bind}, base));
  for (const config of configs) await writeNodeConfig(config);
  const pins = await nodeTlsPins(configs);
  const doc = membershipDocument(configs, layout.nodes.map((n) => n.identity), backend, Date.now(), pins);
  await writeAtomically(layout.membershipFile, `${JSON.stringify(doc)}\n`);
  const urls = configs.map((c, i) => nodeUrl(c.node.publicHost, c.http.port, pins[i] ?? null));
  for (const line of summary(layout, urls, doc, backend, [])) io.stdout(line);
  io.stdout(`devnet initialised; start each node with: pars-storage start --data-dir ${path.join(layout.baseDir, "node-<i>")}`);
  return EXIT_OK;
}

async function run(layout: DevnetLayout, base: ParsStorageConfig, backend: PqBackend, io: CliIo, progress: Progress): Promise<number> {
  await rm(layout.membershipFile, {force: true}); // its ports are from an earlier run
  const configs = layout.nodes.map((node) => nodeConfig(layout, node, {host: "127.0.0.1", port: 0, bind: "127.0.0.1"}, base));
  for (const config of configs) await writeNodeConfig(config);
  // Before the nodes start: "auto" TLS keys are made here, and the records must carry their pins.
  const pins = await nodeTlsPins(configs);
  const signal = shutdownSignal();
  const nodes = layout.nodes.map((n) => spawnNode(n.name, n.dir));
  // Until every node is ready, any exit fails the start; afterwards the supervisor restarts it.
  const interrupted: Promise<Outcome> = Promise.race([
    signal.received.then((name): Outcome => ({kind: "signal", signal: name})),
    ...nodes.map((n) => n.exited.then((e): Outcome => ({kind: "exit", name: n.name, code: e.code}))),
  ]);
  let supervisor: DevnetSupervisor | null = null;
  let controlServer: ControlServer | null = null;
  try {
    const starting = startNetwork(layout, configs, pins, nodes, backend, progress);
    starting.catch(() => undefined); // an interruption may win the race below; the failure then is moot
    const started = await Promise.race([starting, interrupted]);
    progress.done("kind" in started ? undefined : `${nodes.length} nodes ready`);
    if ("kind" in started) return report(started, io);
    supervisor = new DevnetSupervisor({graceMs: STOP_GRACE_MS}, {nodes, urls: started.urls, log: io.stderr});
    controlServer = await startControlServer(layout.baseDir, supervisor);
    for (const line of summary(layout, started.urls, started.doc, backend, nodes)) io.stdout(line);
    io.stdout(`devnet ready; control: pars-storage devnet --base-dir ${layout.baseDir} --status|--stop-node N|--start-node N|--kill-node N; Ctrl-C stops all nodes`);
    return report({kind: "signal", signal: await signal.received}, io);
  } catch (err) {
    io.stderr(`pars-storage: devnet failed: ${(err as Error).message}`);
    return EXIT_FAILURE;
  } finally {
    io.stderr(`pars-storage: stopping ${nodes.length} nodes`);
    await controlServer?.close();
    if (supervisor !== null) await supervisor.close();
    else await stopAll(nodes, STOP_GRACE_MS);
    signal.dispose();
  }
}

/** `--status` / `--stop-node N` / `--start-node N` / `--kill-node N` against a running devnet. */
async function control(baseDir: string, request: DevnetControlRequest, io: CliIo): Promise<number> {
  const answer = await sendControl(baseDir, request.action, request.node);
  for (const node of Array.isArray(answer) ? answer : [answer]) io.stdout(statusLine(node));
  return EXIT_OK;
}

/** `node-<i> <state> <url> pid <pid|-> restarts <n> exits <n> (unexpected <n>)`. */
export function statusLine(node: NodeStatus): string {
  const unexpected = node.exits.filter((e) => e.unexpected).length;
  return `${node.name} ${node.state} ${node.url} pid ${node.pid ?? "-"} restarts ${node.restarts} exits ${node.exits.length} (unexpected ${unexpected})`;
}

/** Waits for every URL, writes the membership with the real ports, waits until all are ready. */
async function startNetwork(
  layout: DevnetLayout,
  configs: readonly ParsStorageConfig[],
  pins: readonly (string | null)[],
  nodes: readonly NodeProcess[],
  backend: PqBackend,
  progress: Progress,
): Promise<{urls: string[]; doc: Doc}> {
  const count = counter((n) => progress.update("starting nodes", `${n}/${nodes.length} listening`));
  const urls = await Promise.all(nodes.map((n) => waitListening(n, START_TIMEOUT_MS).then(count)));
  progress.update("signing membership");
  const ported = configs.map((c, i) => ({...c, http: {...c.http, port: Number(new URL(urls[i] ?? "").port)}}));
  const doc = membershipDocument(ported, layout.nodes.map((n) => n.identity), backend, Date.now(), pins);
  await writeAtomically(layout.membershipFile, `${JSON.stringify(doc)}\n`);
  // A node restarted later must bind the port its signed record names.
  for (const config of ported) await writeNodeConfig(config);
  const ready = counter((n) => progress.update("waiting for nodes to load the membership", `${n}/${nodes.length} ready`));
  await Promise.all(nodes.map((n, i) => waitReady(n.name, urls[i] ?? "", READY_TIMEOUT_MS, pins[i] ?? null).then(ready)));
  return {urls, doc};
}

/** A pass-through for promise results that reports how many have arrived (starting with 0 now). */
function counter(report: (done: number) => void): <T>(value: T) => T {
  let done = 0;
  report(done);
  return (value) => {
    report(++done);
    return value;
  };
}

function report(outcome: Outcome, io: CliIo): number {
  if (outcome.kind === "signal") {
    io.stderr(`pars-storage: ${outcome.signal} received`);
    return EXIT_OK;
  }
  io.stderr(`pars-storage: ${outcome.name} exited unexpectedly (code ${outcome.code}); see its ${NODE_LOG_FILE_NAME}`);
  return EXIT_FAILURE;
}

/** `devnet: …` header and one `node-<i> <url> <node id> swarm <id> [pid <pid>]` line per node. */
function summary(layout: DevnetLayout, urls: readonly string[], doc: Doc, backend: PqBackend, nodes: readonly NodeProcess[]): string[] {
  const view = buildSwarmView(parseNodeRecords(doc, backend, {networkId: DEVNET_NETWORK_ID}).records, layout.mode);
  const lines = [
    `devnet: ${layout.nodes.length} nodes in ${view.swarmCount} swarm(s), mode ${layout.mode}, network devnet (${DEVNET_NETWORK_ID})`,
    `base dir: ${layout.baseDir}; membership: ${layout.membershipFile}; logs: <node dir>/${NODE_LOG_FILE_NAME}`,
  ];
  layout.nodes.forEach((node, i) => {
    const swarm = view.swarmOfNode(node.identity.nodeId);
    const pid = nodes[i]?.proc.pid;
    const tail = pid === undefined ? "" : ` pid ${pid}`;
    lines.push(`${node.name} ${urls[i]} ${node.identity.nodeId} swarm ${swarm === null ? "none" : swarmIdToWire(swarm)}${tail}`);
  });
  return lines;
}

function shutdownSignal(): {received: Promise<string>; dispose(): void} {
  let resolve: (signal: string) => void = () => undefined;
  const received = new Promise<string>((r) => (resolve = r));
  const listener = (signal: NodeJS.Signals): void => resolve(signal);
  process.on("SIGINT", listener);
  process.on("SIGTERM", listener);
  return {
    received,
    dispose: () => {
      process.off("SIGINT", listener);
      process.off("SIGTERM", listener);
    },
  };
}
