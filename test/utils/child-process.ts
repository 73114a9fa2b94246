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
