/**
 * issue #11 item 8: a devnet node that crashes is restarted in place (same node ID and port,
 * with back-off) while the others keep running, and one stopped or killed through the devnet's
 * control channel stays down until started. Before: the devnet stopped every node when one exited.
 */
import {spawn, type ChildProcess} from "node:child_process";
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {request} from "undici";
import {afterAll, describe, expect, it} from "vitest";
import {BIN, runCli, waitExit} from "../utils/child-process.js";

const base = mkdtempSync(join(tmpdir(), "pars-e2e-devnet-restart-"));
const dir = join(base, "run");
let devnet: ChildProcess | null = null;

afterAll(async () => {
  if (devnet !== null) {
    devnet.kill("SIGINT");
    await waitExit(devnet);
  }
  rmSync(base, {recursive: true, force: true});
});

interface Status {
  name: string;
  state: string;
  url: string;
  pid: number | null;
  restarts: number;
  unexpected: number;
}

async function status(): Promise<Status[]> {
  const res = await runCli(["devnet", "--base-dir", dir, "--status"]);
  expect(res.code, res.stderr).toBe(0);
  return res.stdout.trim().split("\n").map((line) => {
    const m = /^(node-\d+) (\S+) (\S+) pid (\S+) restarts (\d+) exits \d+ \(unexpected (\d+)\)$/.exec(line);
    if (m === null) throw new Error(`bad status line: ${line}`);
    return {name: m[1]!, state: m[2]!, url: m[3]!, pid: m[4] === "-" ? null : Number(m[4]), restarts: Number(m[5]), unexpected: Number(m[6])};
  });
}

async function until<T>(what: string, fn: () => Promise<T | null>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await fn();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function health(url: string): Promise<{nodeId: string} | null> {
  try {
    const res = await request(new URL("/network/v1/nodes", url), {headersTimeout: 2_000, bodyTimeout: 2_000});
    const body = (await res.body.json()) as {our_node_id?: string};
    return res.statusCode === 200 && typeof body.our_node_id === "string" ? {nodeId: body.our_node_id} : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe("pars-storage devnet supervision", () => {
  it("restarts a crashed node on its port, keeps others up, and stops/starts single nodes on request", async () => {
    const proc = spawn(process.execPath, [BIN, "devnet", "--nodes", "3", "--base-dir", dir], {stdio: ["ignore", "pipe", "pipe"]});
    devnet = proc;
    let out = "";
    let err = "";
    proc.stderr.on("data", (d: Buffer) => (err += d.toString()));
    await new Promise<void>((resolve, reject) => {
      proc.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        if (out.includes("devnet ready")) resolve();
      });
      proc.on("exit", (code) => reject(new Error(`devnet exited with ${code}:\n${out}\n${err}`)));
    });
    const before = await status();
    expect(before.map((n) => n.state)).toEqual(["running", "running", "running"]);
    const crashed = before[1]!;
    const nodeIdBefore = (await health(crashed.url))?.nodeId;
    expect(nodeIdBefore).toMatch(/^[0-9a-f]{64}$/);

    // A crash (SIGKILL from outside): restarted in place, the others untouched.
    process.kill(crashed.pid!, "SIGKILL");
    const back = await until("node-2 restarted", async () => {
      const s = (await status())[1]!;
      return s.state === "running" && s.pid !== crashed.pid ? s : null;
    });
    expect(back).toMatchObject({url: crashed.url, restarts: 1, unexpected: 1});
    expect((await until("node-2 answers", () => health(back.url))).nodeId).toBe(nodeIdBefore);
    const after = await status();
    expect([after[0]!.pid, after[2]!.pid]).toEqual([before[0]!.pid, before[2]!.pid]);
    expect(err).toContain("node-2 exited unexpectedly");

    // Killed on purpose: stays down (no restart) until started, then comes back on its port.
    const kill = await runCli(["devnet", "--base-dir", dir, "--kill-node", "3"]);
    expect(kill.code, kill.stderr).toBe(0);
    expect(kill.stdout).toMatch(/^node-3 stopped /);
    expect(alive(before[2]!.pid!)).toBe(false);
    await new Promise((r) => setTimeout(r, 1_500)); // longer than the first restart back-off (500 ms)
    expect((await status())[2]).toMatchObject({state: "stopped", pid: null, unexpected: 0});
    expect(await health(before[2]!.url)).toBeNull();
    const start = await runCli(["devnet", "--base-dir", dir, "--start-node", "3"]);
    expect(start.code, start.stderr).toBe(0);
    expect(start.stdout).toMatch(/^node-3 running /);
    expect(await until("node-3 answers", () => health(before[2]!.url))).not.toBeNull();

    // Graceful stop of node 1 works the same way; the devnet itself keeps running.
    const stop = await runCli(["devnet", "--base-dir", dir, "--stop-node", "1"]);
    expect(stop.stdout).toMatch(/^node-1 stopped /);
    expect(proc.exitCode).toBeNull();

    proc.kill("SIGINT");
    expect(await waitExit(proc)).toBe(0);
    devnet = null;
    for (const n of after) if (n.pid !== null) expect(alive(n.pid)).toBe(false);
    const gone = await runCli(["devnet", "--base-dir", dir, "--status"]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("no running devnet");
  });
});
