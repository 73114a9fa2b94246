import type {ChildProcess} from "node:child_process";
import {afterEach, beforeEach, describe, expect, it, vi} from "vitest";
import type {NodeProcess} from "../../../src/cli/devnet/children.js";
import {DevnetSupervisor, RESTART_INITIAL_MS, RESTART_MAX_MS} from "../../../src/cli/devnet/supervisor.js";

/** A stand-in node process: `exit()` ends it; SIGTERM/SIGKILL end it at once. */
interface FakeNode {
  node: NodeProcess;
  exit(code: number | null, signal: string | null): void;
}

let nextPid = 1000;
function fakeNode(name: string): FakeNode {
  let resolve: (e: {code: number | null; signal: string | null}) => void = () => undefined;
  const exited = new Promise<{code: number | null; signal: string | null}>((r) => (resolve = r));
  const proc = {pid: nextPid++, exitCode: null as number | null, signalCode: null as string | null, kill: (sig: string) => (exit(null, sig), true)};
  const exit = (code: number | null, signal: string | null): void => {
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    proc.exitCode = code;
    proc.signalCode = signal;
    resolve({code, signal});
  };
  return {node: {name, dir: `/devnet/${name}`, proc: proc as unknown as ChildProcess, exited}, exit};
}

function setup(): {sup: DevnetSupervisor; spawned: FakeNode[]; first: FakeNode; log: string[]} {
  const first = fakeNode("node-1");
  const spawned: FakeNode[] = [];
  const log: string[] = [];
  const sup = new DevnetSupervisor(
    {graceMs: 100},
    {
      nodes: [first.node],
      urls: ["http://127.0.0.1:40001"],
      log: (l) => log.push(l),
      spawn: (name) => {
        const f = fakeNode(name);
        spawned.push(f);
        return f.node;
      },
      waitListening: () => Promise.resolve("http://127.0.0.1:40001"),
    },
  );
  return {sup, spawned, first, log};
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("DevnetSupervisor", () => {
  it("restarts a crashed node after 0.5 s, doubling per crash in a row up to 10 s, and from 0.5 s again once it stayed up 30 s", async () => {
    const {sup, spawned, first, log} = setup();
    let current = first;
    const delays = [500, 1_000, 2_000, 4_000, 8_000, RESTART_MAX_MS, RESTART_MAX_MS];
    for (const delay of delays) {
      current.exit(1, null);
      await vi.advanceTimersByTimeAsync(delay - 1);
      expect(sup.status()[0]!.state).toBe("backoff");
      const before = spawned.length;
      await vi.advanceTimersByTimeAsync(1);
      expect(spawned.length, `restart after ${delay} ms`).toBe(before + 1);
      current = spawned[spawned.length - 1]!;
      expect(sup.status()[0]).toMatchObject({state: "running", pid: current.node.proc.pid});
    }
    await vi.advanceTimersByTimeAsync(30_000);
    current.exit(null, "SIGKILL");
    await vi.advanceTimersByTimeAsync(RESTART_INITIAL_MS);
    expect(spawned).toHaveLength(delays.length + 1);
    const status = sup.status()[0]!;
    expect(status.restarts).toBe(delays.length + 1);
    expect(status.exits.every((e) => e.unexpected)).toBe(true);
    expect(log[0]).toContain("node-1 exited unexpectedly (code 1, signal null); restarting in 500 ms");
    await sup.close();
  });

  it("keeps a node stopped or killed on request down until started, then starts it at once", async () => {
    const {sup, spawned, first} = setup();
    await sup.stop(0, "SIGKILL");
    expect(first.node.proc.signalCode).toBe("SIGKILL");
    await vi.advanceTimersByTimeAsync(60_000);
    expect(spawned).toHaveLength(0);
    expect(sup.status()[0]).toMatchObject({state: "stopped", pid: null, exits: [{code: null, signal: "SIGKILL", unexpected: false}]});
    await sup.start(0);
    expect(spawned).toHaveLength(1);
    expect(sup.status()[0]).toMatchObject({state: "running", pid: spawned[0]!.node.proc.pid, restarts: 1});
    await sup.stop(0, "SIGTERM");
    expect(spawned[0]!.node.proc.signalCode).toBe("SIGTERM");
    expect(sup.status()[0]!.state).toBe("stopped");
    await sup.close();
  });

  it("start cancels a pending back-off; close cancels it too and restarts nothing", async () => {
    const {sup, spawned, first} = setup();
    first.exit(1, null);
    await vi.advanceTimersByTimeAsync(0);
    await sup.start(0);
    expect(spawned).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(RESTART_MAX_MS);
    expect(spawned).toHaveLength(1); // the back-off timer did not fire a second start
    spawned[0]!.exit(1, null);
    await vi.advanceTimersByTimeAsync(0);
    await sup.close();
    await vi.advanceTimersByTimeAsync(RESTART_MAX_MS * 2);
    expect(spawned).toHaveLength(1);
    await expect(sup.stop(3, "SIGTERM")).rejects.toThrow("no node 4 in a devnet of 1");
  });
});
