import {spawn, type ChildProcess} from "node:child_process";
import {fileURLToPath} from "node:url";

export const BIN = fileURLToPath(new URL("../../dist/src/cli/bin.js", import.meta.url));

export interface RunningNode {
  proc: ChildProcess;
  url: string;
  nodeId: string;
  stderr: () => string;
}

/** Starts `pars-storage start` and resolves once it prints its listening line. */
export function startNode(args: string[], env: NodeJS.ProcessEnv = {}): Promise<RunningNode> {
  const proc = spawn(process.execPath, [BIN, "start", ...args], {env: {...process.env, ...env}, stdio: ["ignore", "pipe", "pipe"]});
  let out = "";
  let err = "";
  proc.stderr.on("data", (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node did not start in time:\n${err}`)), 60_000);
    proc.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /listening on (\S+) node ([0-9a-f]{64})/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({proc, url: m[1]!, nodeId: m[2]!, stderr: () => err});
      }
    });
    proc.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`node exited with ${code} before listening:\n${err}`));
    });
  });
}

/** Runs a CLI command to completion. */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{code: number | null; stdout: string; stderr: string}> {
  const proc = spawn(process.execPath, [BIN, ...args], {env: {...process.env, ...env}, stdio: ["ignore", "pipe", "pipe"]});
  let stdout = "";
  let stderr = "";
  proc.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => proc.on("exit", (code) => resolve({code, stdout, stderr})));
}

export function waitExit(proc: ChildProcess): Promise<number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(proc.exitCode);
  return new Promise((resolve) => proc.on("exit", (code) => resolve(code)));
}

/** A `pars-storage devnet` process once it printed "devnet ready", with the nodes it listed. */
export interface DevnetProcess {
  proc: ChildProcess;
  nodes: Array<{url: string; nodeId: string}>;
  /** What it wrote to stderr so far (progress lines, failures). */
  stderr: () => string;
}

/** Spawns `pars-storage devnet <args>` and resolves once it is ready (rejects if it exits first). */
export function startDevnetProcess(args: string[], readyTimeoutMs: number): Promise<DevnetProcess> {
  const proc = spawn(process.execPath, [BIN, "devnet", ...args], {stdio: ["ignore", "pipe", "pipe"]});
  let out = "";
  let err = "";
  proc.stderr.on("data", (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`devnet not ready in time:\n${out}\n${err}`)), readyTimeoutMs);
    proc.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (!out.includes("devnet ready")) return;
      clearTimeout(timer);
      const nodes = [...out.matchAll(/^node-\d+ (\S+) ([0-9a-f]{64}) swarm/gm)].map((m) => ({url: m[1]!, nodeId: m[2]!}));
      resolve({proc, nodes, stderr: () => err});
    });
    proc.on("exit", (code) => reject(new Error(`devnet exited with ${code}:\n${out}\n${err}`)));
  });
}

/** Stops a devnet as Ctrl-C does and waits for it (a no-op when it is gone already). */
export async function stopDevnetProcess(proc: ChildProcess | null): Promise<void> {
  if (proc === null || proc.exitCode !== null) return;
  const exited = new Promise((resolve) => proc.once("exit", resolve));
  proc.kill("SIGINT");
  await exited;
}
