/**
 * A local swarm for the replicated-store scenario: N node processes (the built CLI) in one swarm on
 * 127.0.0.1, laid out with the devnet helpers (keys, config.json per node, one signed static
 * membership). Nodes start on OS-chosen ports; once all listen, the membership is written with the
 * real ports and the swarm is used as soon as every node reports ready.
 */
import {request} from "undici";
import {initHashing} from "../src/crypto/hash.js";
import {loadPqBackend} from "../src/crypto/pq/index.js";
import {defaultConfig} from "../src/config/index.js";
import {membershipDocument, nodeConfig, prepareLayout, writeAtomically, writeNodeConfig} from "../src/cli/devnet/layout.js";
import {startServer, type ChildRegistry, type ServerHandle} from "./children.js";

const READY_TIMEOUT_MS = 60_000;

/**
 * Ready, and its first storage proof signed. A member signs its first proof only once the
 * membership puts it in a swarm (up to 5 s after `ready`), and that first commitment build starts
 * the proof worker (a fresh isolate) and builds the commitment: ~1-3 CPU-seconds per member which
 * landed in the first seconds of the load, three times over, where a single node pays it at start.
 */
async function isReady(url: string): Promise<boolean> {
  try {
    const res = await request(`${url}/health`);
    const health = (await res.body.json()) as {ready?: unknown; proofs?: {proofReady?: unknown} | null};
    return health.ready === true && (health.proofs == null || health.proofs.proofReady === true);
  } catch {
    return false;
  }
}

async function waitReady(urls: readonly string[]): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await Promise.all(urls.map(isReady))).every(Boolean)) {
    if (Date.now() > deadline) throw new Error(`swarm not ready within ${READY_TIMEOUT_MS} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Starts `count` nodes (`count` ≤ 5 keeps them in one swarm) under `baseDir`. The handle's `url`
 * and `pid` are the first node's (the entry node the load goes to); `pids` lists all of them.
 */
export async function startSwarm(
  children: ChildRegistry,
  nodeScript: string,
  baseDir: string,
  count: number,
  extraArgs: readonly string[],
): Promise<ServerHandle & {pids: number[]}> {
  await initHashing();
  const backend = await loadPqBackend("noble");
  const layout = await prepareLayout(baseDir, count, "pip0008", backend);
  const base = defaultConfig();
  const configs = layout.nodes.map((n) => nodeConfig(layout, n, {host: "127.0.0.1", port: 0, bind: "127.0.0.1"}, base));
  for (const c of configs) await writeNodeConfig(c);
  const servers: ServerHandle[] = [];
  const stop = (): Promise<void> => Promise.all(servers.map((s) => s.stop())).then(() => undefined);
  try {
    for (const n of layout.nodes) servers.push(await startServer(children, `swarm ${n.name}`, [nodeScript, "start", "--data-dir", n.dir, ...extraArgs]));
    const ported = configs.map((c, i) => ({...c, http: {...c.http, port: Number(new URL(servers[i]?.url ?? "").port)}}));
    const doc = membershipDocument(ported, layout.nodes.map((n) => n.identity), backend, Date.now());
    await writeAtomically(layout.membershipFile, `${JSON.stringify(doc)}\n`);
    await waitReady(servers.map((s) => s.url));
  } catch (err) {
    await stop();
    throw err;
  }
  const first = servers[0] as ServerHandle;
  const stderrTail = (): string => servers.map((s) => `${s.name}:\n${s.stderrTail()}`).join("\n");
  return {name: "swarm", url: first.url, pid: first.pid, pids: servers.map((s) => s.pid), stderrTail, stop};
}
