/**
 * Child processes of the HTTP benchmark: servers (the node's CLI and the baselines) and load
 * clients. Every child is registered so the orchestrator can stop all of them at the end, on an
 * error, on Ctrl-C, and (with SIGKILL) when it exits for any other reason.
 */
import {spawn, type ChildProcess} from "node:child_process";
import {createWriteStream} from "node:fs";
import {join} from "node:path";
import {createInterface} from "node:readline";
import type {LoadResult, LoadSpec} from "./load-client.js";
import {parseMessage} from "./util.js";

const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 10_000;
const STDERR_TAIL_CHARS = 4_000;
const LISTENING = /listening on (http:\/\/\S+)/;

export interface ServerHandle {
  name: string;
  url: string;
  pid: number;
  /** The server's last stderr output (the node logs at warn level there). */
  stderrTail(): string;
  stop(): Promise<void>;
}

export class ChildRegistry {
  private readonly children = new Set<ChildProcess>();

  /** Starts `node <args>`; stdout is piped for the caller, stderr kept as a tail. */
  spawnNode(args: readonly string[]): {child: ChildProcess; stderrTail: () => string} {
    const child = spawn(process.execPath, args, {stdio: ["ignore", "pipe", "pipe"]});
    this.children.add(child);
    child.once("exit", () => this.children.delete(child));
    let tail = "";
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      tail = (tail + chunk).slice(-STDERR_TAIL_CHARS);
    });
    return {child, stderrTail: () => tail};
  }

  /** SIGTERM to every child, then SIGKILL to those still running after STOP_TIMEOUT_MS. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.children].map((c) => stopChild(c)));
  }

  /** Synchronous last resort (process "exit" handler). */
  killAll(): void {
    for (const c of this.children) c.kill("SIGKILL");
  }
}

export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
    child.once("exit", () => {
      clearTimeout(force);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

function exitText(code: number | null, signal: NodeJS.Signals | null, tail: string): string {
  return `exited (code ${String(code)}, signal ${String(signal)}) — stderr:\n${tail}`;
}

/**
 * Node flags for server children from BENCH_NODE_ARGS (space-separated), e.g.
 * `--cpu-prof --cpu-prof-dir=/tmp/prof` (node refuses --cpu-prof in NODE_OPTIONS). Servers stop on
 * SIGTERM and close gracefully, so their profiles are written.
 */
export function serverNodeArgs(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.BENCH_NODE_ARGS ?? "").split(" ").filter((a) => a !== "");
}

/**
 * With BENCH_SERVER_STDOUT_DIR, a server's stdout after its "listening" line goes on to
 * `<dir>/<pid>.out` (e.g. V8's `--trace-gc-nvp` lines, which it prints there); otherwise it is no
 * longer read.
 */
function keepStdout(child: ChildProcess, name: string): void {
  const dir = process.env.BENCH_SERVER_STDOUT_DIR;
  if (dir === undefined || dir === "" || child.stdout === null) return;
  const out = createWriteStream(join(dir, `${child.pid}.out`));
  out.write(`# ${name}\n`);
  child.stdout.pipe(out);
  child.stdout.resume();
}

/** Starts a server and waits for its "listening on <url>" line. */
export function startServer(reg: ChildRegistry, name: string, args: readonly string[]): Promise<ServerHandle> {
  const {child, stderrTail} = reg.spawnNode([...serverNodeArgs(), ...args]);
  return new Promise((resolve, reject) => {
    const timeout = (): void => fail(new Error(`${name} did not start within ${START_TIMEOUT_MS} ms`));
    const timer = setTimeout(timeout, START_TIMEOUT_MS);
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
      fail(new Error(`${name} ${exitText(code, signal, stderrTail())}`));
    const lines = createInterface({input: child.stdout!});
    function fail(err: Error): void {
      clearTimeout(timer);
      lines.close();
      void stopChild(child).then(() => reject(err));
    }
    child.once("exit", onExit);
    lines.on("line", (line) => {
      const url = LISTENING.exec(line)?.[1];
      if (url === undefined) return;
      clearTimeout(timer);
      child.off("exit", onExit);
      lines.close();
      keepStdout(child, name);
      resolve({name, url, pid: child.pid!, stderrTail, stop: () => stopChild(child)});
    });
  });
}

/**
 * Runs one load-client process. `onPhase("measure" | "done")` is called when the measured window
 * opens and closes (the orchestrator samples the server's CPU there).
 */
export function runLoadClient(
  reg: ChildRegistry,
  script: string,
  spec: LoadSpec,
  onPhase: (phase: string) => void = () => {},
): Promise<LoadResult> {
  const {child, stderrTail} = reg.spawnNode([script, JSON.stringify(spec)]);
  return new Promise((resolve, reject) => {
    let result: LoadResult | null = null;
    createInterface({input: child.stdout!}).on("line", (line) => {
      const msg = parseMessage(line);
      if (msg?.type === "phase") onPhase(String(msg.phase));
      else if (msg?.type === "result") result = msg.result as LoadResult;
    });
    // "close" (not "exit"): stdout is fully read by then, so the result line has been seen.
    child.once("close", (code, signal) => {
      if (code === 0 && result !== null) resolve(result);
      else reject(new Error(`load client ${exitText(code, signal, stderrTail())}`));
    });
  });
}
