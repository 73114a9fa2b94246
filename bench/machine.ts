/**
 * What the benchmark ran on: printed at the start and stored in bench-results.json, because on a
 * shared VM the numbers mean little without the load average and core count next to them.
 */
import {spawnSync} from "node:child_process";
import {cpus, loadavg, platform, release, totalmem} from "node:os";
import {fileURLToPath} from "node:url";
import {loadConfig} from "../src/config/index.js";
import {loadPqBackend} from "../src/crypto/pq/index.js";

export interface MachineInfo {
  node: string;
  cpus: number;
  cpuModel: string;
  /** 1, 5 and 15 minute load averages when the benchmark started. */
  loadAvg: number[];
  platform: string;
  totalMemGiB: number;
  /** The post-quantum backend the node under test will load (same env and cwd as the child). */
  pqBackend: string;
  /** `git rev-parse --short HEAD`; the working tree may hold uncommitted changes. */
  commit: string;
}

async function pqBackendName(): Promise<string> {
  try {
    const configured = loadConfig({env: process.env}).crypto.pqBackend;
    let fallback = "";
    const onFallback = (reason: Error): void => {
      fallback = ` (fell back: ${reason.message})`;
    };
    const backend = await loadPqBackend(configured, {onFallback});
    return `${backend.name} (configured: ${configured})${fallback}`;
  } catch (err) {
    return `unknown (${err instanceof Error ? err.message : String(err)})`;
  }
}

function gitCommit(): string {
  // dist/bench/machine.js → the repository root (read-only git query).
  const cwd = fileURLToPath(new URL("../..", import.meta.url));
  const r = spawnSync("git", ["rev-parse", "--short", "HEAD"], {encoding: "utf8", cwd});
  return r.status === 0 ? r.stdout.trim() : "unknown";
}

export async function describeEnvironment(): Promise<MachineInfo> {
  const cpuList = cpus();
  return {
    node: process.versions.node,
    cpus: cpuList.length,
    cpuModel: cpuList[0]?.model.trim() ?? "unknown",
    loadAvg: loadavg().map((v) => Math.round(v * 100) / 100),
    platform: `${platform()} ${release()}`,
    totalMemGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    pqBackend: await pqBackendName(),
    commit: gitCommit(),
  };
}
