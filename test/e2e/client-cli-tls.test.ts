/**
 * Issue #14 end to end: `pars-storage devnet --nodes 6 --tls` (six HTTPS nodes, self-signed
 * certificates pinned in their records) and `pars-storage client …` run as a user would, with only
 * a `pars://` seed: two users keygen (05 and 07), each stores to the other through 3-hop onion
 * paths (the entry hop reached over HTTPS with its record's pin), each retrieves exactly the
 * other's message, and `watch` (wss:// with the pin) prints a message stored after it started.
 */
import {spawn, type ChildProcess} from "node:child_process";
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {BIN, runCli, startDevnetProcess, stopDevnetProcess, waitExit} from "../utils/child-process.js";
import {waitFor} from "../utils/swarm-harness.js";

const base = mkdtempSync(join(tmpdir(), "pars-e2e-client-tls-"));
let devnet: ChildProcess | null = null;
let seed: string;

async function startDevnet(args: string[]): Promise<Array<{url: string; nodeId: string}>> {
  const started = await startDevnetProcess(args, 120_000);
  devnet = started.proc;
  return started.nodes;
}

beforeAll(async () => {
  const nodes = await startDevnet(["--nodes", "6", "--tls", "--base-dir", base, "--crypto.pqBackend", "noble"]);
  expect(nodes).toHaveLength(6);
  for (const n of nodes) expect(n.url.startsWith("https://127.0.0.1:"), n.url).toBe(true);
  // The pars:// form: the client learns from the node list that this node speaks https, and its pin.
  seed = `pars://127.0.0.1:${new URL(nodes[0]!.url).port}`;
}, 150_000);

afterAll(async () => {
  await stopDevnetProcess(devnet);
  rmSync(base, {recursive: true, force: true});
});

const client = (...args: string[]): Promise<{code: number | null; stdout: string; stderr: string}> => runCli(["client", ...args]);

async function keygen(name: string, type: "05" | "07"): Promise<{file: string; id: string}> {
  const file = join(base, `${name}.key`);
  const res = await client("keygen", "--out", file, "--type", type);
  expect(res.code, res.stderr).toBe(0);
  return {file, id: res.stdout.trim()};
}

const lines = (s: string): Array<Record<string, unknown>> =>
  s
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("pars-storage client on a 6-node TLS devnet", () => {
  let alice: {file: string; id: string};
  let bob: {file: string; id: string};

  it("keygen 05 and 07; each stores to the other through onion paths and retrieves exactly the other's message", async () => {
    alice = await keygen("alice", "05");
    bob = await keygen("bob", "07");
    expect(alice.id).toMatch(/^05[0-9a-f]{64}$/);
    expect(bob.id).toMatch(/^07[0-9a-f]{64}$/);

    const toBob = await client("store", "--key", alice.file, "--to", bob.id, "--text", "hi bob, over tls", "--seed", seed, "--json");
    expect(toBob.code, toBob.stderr).toBe(0);
    expect(toBob.stderr).toContain("6 nodes known; requests take 3-hop onion paths");
    const toBobOut = JSON.parse(toBob.stdout) as {hash: string; confirmed: number; members: number};
    expect(toBobOut.members).toBeGreaterThan(0);
    expect(toBobOut.confirmed).toBe(toBobOut.members);
    const toAlice = await client("store", "--key", bob.file, "--to", alice.id, "--text", "hi alice, over tls", "--seed", seed, "--json");
    expect(toAlice.code, toAlice.stderr).toBe(0);
    const toAliceOut = JSON.parse(toAlice.stdout) as {hash: string; confirmed: number; members: number};
    expect(toAliceOut.confirmed).toBe(toAliceOut.members);

    const atBob = await client("retrieve", "--key", bob.file, "--seed", seed);
    expect(atBob.code, atBob.stderr).toBe(0);
    expect(lines(atBob.stdout)).toEqual([expect.objectContaining({hash: toBobOut.hash, text: "hi bob, over tls", namespace: 0})]);
    const atAlice = await client("retrieve", "--key", alice.file, "--seed", seed);
    expect(atAlice.code, atAlice.stderr).toBe(0);
    expect(lines(atAlice.stdout)).toEqual([expect.objectContaining({hash: toAliceOut.hash, text: "hi alice, over tls", namespace: 0})]);
  }, 120_000);

  it("watch (wss:// with the node's pin) prints a message stored after it started", async () => {
    const proc = spawn(process.execPath, [BIN, "client", "watch", "--key", bob.file, "--seed", seed], {stdio: ["ignore", "pipe", "pipe"]});
    let out = "";
    let err = "";
    proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
    proc.stderr.on("data", (d: Buffer) => (err += d.toString()));
    try {
      await waitFor("watch subscribed", () => err.includes("subscribed"), 30_000);
      const sent = await client("store", "--key", alice.file, "--to", bob.id, "--text", "while you watch, over tls", "--seed", seed, "--json");
      expect(sent.code, sent.stderr).toBe(0);
      const {hash} = JSON.parse(sent.stdout) as {hash: string};
      await waitFor("the push printed", () => out.includes(hash), 30_000);
      expect(lines(out)).toEqual([expect.objectContaining({hash, text: "while you watch, over tls"})]);
    } finally {
      proc.kill("SIGINT");
    }
    expect(await waitExit(proc)).toBe(0);
  }, 90_000);
});
