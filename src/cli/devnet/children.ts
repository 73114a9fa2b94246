/**
 * The devnet's node processes: `pars-storage start --data-dir <node dir>` each, in its own process
 * group, with an IPC channel so a node shuts itself down if the devnet process dies (even by
 * SIGKILL; see commands/start.ts), stdout piped (for the listening line) and stderr appended to
 * `<node dir>/node.log`.
 */
import {spawn, type ChildProcess} from "node:child_process";
import {closeSync, openSync} from "node:fs";
import path from "node:path";
import {fileURLToPath} from "node:url";
import {Agent, request} from "undici";
import {pinnedConnector} from "../../crypto/index.js";
import {withMallocEnv} from "../allocator.js";
import {NODE_LOG_FILE_NAME} from "./layout.js";

/** The built CLI entry point (dist/src/cli/bin.js next to this file's folder). */
const BIN = fileURLToPath(new URL("../bin.js", import.meta.url));
const LISTENING_RE = /listening on (\S+) node ([0-9a-f]{64})/;
const POLL_MS = 100;

export interface NodeProcess {
  readonly name: string;
  readonly dir: string;
  readonly proc: ChildProcess;
  /** Resolves with `{code, signal}` when the process exits (never rejects). */
  readonly exited: Promise<{code: number | null; signal: string | null}>;
}

export function spawnNode(name: string, dir: string): NodeProcess {
  const log = openSync(path.join(dir, NODE_LOG_FILE_NAME), "a");
  // The node's config is its config.json; PARS_STORAGE_* of our environment must not override it.
  // glibc's malloc setting, so a node's RSS falls back after a burst of request bodies.
  const env = withMallocEnv(Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("PARS_STORAGE_"))));
  try {
    // detached: own process group, so a terminal's Ctrl-C reaches only the devnet, which then stops
    // each node once (a node receiving SIGINT and then our SIGTERM would skip its graceful close).
    const proc = spawn(process.execPath, [BIN, "start", "--data-dir", dir], {env, detached: true, stdio: ["ignore", "pipe", log, "ipc"]});
    const exited = new Promise<{code: number | null; signal: string | null}>((resolve) => {
      proc.once("exit", (code, signal) => resolve({code, signal}));
      proc.once("error", () => resolve({code: null, signal: null}));
    });
    return {name, dir, proc, exited};
  } finally {
    closeSync(log);
  }
}

/** Resolves with the node's URL once it prints its listening line; rejects if it exits first. */
export function waitListening(node: NodeProcess, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error(`${node.name} did not start within ${timeoutMs} ms`)), timeoutMs);
    node.proc.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
      const match = LISTENING_RE.exec(out);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    void node.exited.then(({code}) => {
      clearTimeout(timer);
      reject(new Error(`${node.name} exited with code ${code} before listening; see ${path.join(node.dir, NODE_LOG_FILE_NAME)}`));
    });
  });
}

/**
 * Polls `GET /health` until the node reports `ready: true` (its membership is loaded); an https
 * node is reached with its TLS pin checked.
 */
export async function waitReady(name: string, url: string, timeoutMs: number, tlsPin: string | null = null): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const dispatcher = new Agent({keepAliveTimeout: 10, ...(tlsPin === null ? {} : {connect: pinnedConnector(tlsPin)})});
  try {
    for (;;) {
      if (await isReady(url, dispatcher)) return;
      if (Date.now() > deadline) throw new Error(`${name} (${url}) is not ready after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  } finally {
    await dispatcher.close();
  }
}

async function isReady(url: string, dispatcher: Agent): Promise<boolean> {
  try {
    const res = await request(new URL("/health", url), {dispatcher, headersTimeout: 2_000, bodyTimeout: 2_000});
    const body = (await res.body.json()) as {ready?: unknown};
    return res.statusCode === 200 && body.ready === true;
  } catch {
    return false;
  }
}

/** SIGTERM to every running node (graceful close), SIGKILL to those still running after `graceMs`. */
export async function stopAll(nodes: readonly NodeProcess[], graceMs: number): Promise<void> {
  const running = nodes.filter((n) => n.proc.exitCode === null && n.proc.signalCode === null);
  for (const node of running) node.proc.kill("SIGTERM");
  const timer = setTimeout(() => {
    for (const node of running) if (node.proc.exitCode === null && node.proc.signalCode === null) node.proc.kill("SIGKILL");
  }, graceMs);
  await Promise.all(running.map((n) => n.exited));
  clearTimeout(timer);
}
