/**
 * `pars-storage client …` as a user runs it (the built CLI in child processes) against six real
 * nodes on loopback (two swarms of three): two users keygen (05 and 07), each stores to the other,
 * each retrieves exactly the other's message, `watch` prints a message stored after it started,
 * and a node that alters its receipts is caught.
 * Requests take onion paths when the nodes publish X25519 keys, else go direct.
 */
import {spawn} from "node:child_process";
import {mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {BIN, runCli, waitExit} from "../utils/child-process.js";
import {SwarmHarness, rpc, waitFor} from "../utils/swarm-harness.js";

const h = new SwarmHarness({mode: "balanced", flags: {"proofs.enabled": "false", "replication.forwardTimeoutMs": "1000"}});
const dir = mkdtempSync(join(tmpdir(), "pars-client-cli-"));
let seed: string;
/** `--direct` until the nodes serve /onion_req/v2 (the relay lands separately); onion paths after. */
let route: string[] = [];

beforeAll(async () => {
  for (let i = 0; i < 6; i++) await h.startNode(`client-cli/${i}`);
  h.writeMembership(await h.nodeRecords());
  await waitForAllReady();
  seed = `pars://127.0.0.1:${h.nodes[0]!.port}`;
  const probe = await h.nodes[0]!.pool.request({path: "/onion_req/v2", method: "POST", body: "x"});
  await probe.body.dump();
  route = probe.statusCode === 404 ? ["--direct"] : [];
});

afterAll(async () => {
  await h.close();
  rmSync(dir, {recursive: true, force: true});
});

async function waitForAllReady(): Promise<void> {
  await waitFor("every node ready", async () => (await Promise.all(h.nodes.map((n) => rpc(n.pool, "info", {})))).every((r) => r.status === 200));
}

async function client(...args: string[]): Promise<{code: number | null; stdout: string; stderr: string}> {
  return runCli(["client", ...args]);
}

async function keygen(name: string, type: "05" | "07"): Promise<{file: string; id: string}> {
  const file = join(dir, `${name}.key`);
  const res = await client("keygen", "--out", file, "--type", type);
  expect(res.code, res.stderr).toBe(0);
  return {file, id: res.stdout.trim()};
}

async function swarmMembers(account: string): Promise<string[]> {
  const res = await rpc(h.nodes[0]!.pool, "get_swarm", {pubkey: account});
  return (res.body as {snodes: Array<{node_id: string}>}).snodes.map((s) => s.node_id);
}

const lines = (s: string): Array<Record<string, unknown>> =>
  s
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("pars-storage client on a 6-node devnet", () => {
  let alice: {file: string; id: string};
  let bob: {file: string; id: string};

  it("two users keygen (05 and 07); key files are 0600", async () => {
    alice = await keygen("alice", "05");
    bob = await keygen("bob", "07");
    expect(alice.id).toMatch(/^05[0-9a-f]{64}$/);
    expect(bob.id).toMatch(/^07[0-9a-f]{64}$/);
    expect(statSync(alice.file).mode & 0o777).toBe(0o600);
  });

  it("each stores to the other, every swarm member confirming; each retrieves exactly the other's message", async () => {
    const toBob = await client("store", "--key", alice.file, "--to", bob.id, "--text", "hi bob, alice here", "--seed", seed, "--json", ...route);
    expect(toBob.code, toBob.stderr).toBe(0);
    expect(toBob.stderr).toContain(route.length === 0 ? "requests take 3-hop onion paths" : "requests take direct connections");
    const toBobOut = JSON.parse(toBob.stdout) as {hash: string; confirmed: number; members: number};
    expect(toBobOut).toMatchObject({confirmed: 3, members: 3});
    const toAlice = await client("store", "--key", bob.file, "--to", alice.id, "--text", "hi alice, bob here", "--seed", seed, ...route);
    expect(toAlice.code, toAlice.stderr).toBe(0);
    expect(toAlice.stdout.trim()).toMatch(/^[A-Za-z0-9+/]{43} confirmed by 3 of 3 swarm members$/);

    const atBob = await client("retrieve", "--key", bob.file, "--seed", seed, ...route);
    expect(atBob.code, atBob.stderr).toBe(0);
    expect(lines(atBob.stdout)).toEqual([expect.objectContaining({hash: toBobOut.hash, text: "hi bob, alice here", namespace: 0})]);
    const atAlice = await client("retrieve", "--key", alice.file, "--seed", seed, ...route);
    expect(lines(atAlice.stdout).map((m) => m.text)).toEqual(["hi alice, bob here"]);
  });

  it("the library example of docs/client.md runs as written", async () => {
    const root = join(import.meta.dirname, "..", "..");
    const doc = readFileSync(join(root, "docs", "client.md"), "utf8");
    const code = /## The library[\s\S]*?```js\n([\s\S]*?)```/.exec(doc)?.[1];
    expect(code).toContain('from "pars-storage/client"');
    // Inside the package, so `pars-storage/client` resolves through package.json "exports".
    const file = join(root, `.client-example-${process.pid}.mjs`);
    writeFileSync(file, code!);
    try {
      const res = await new Promise<{code: number | null; out: string; err: string}>((resolve) => {
        const p = spawn(process.execPath, [file], {env: {...process.env, PARS_SEED: seed, PARS_DIRECT: route.length > 0 ? "1" : "0"}, stdio: ["ignore", "pipe", "pipe"]});
        let out = "";
        let err = "";
        p.stdout.on("data", (d: Buffer) => (out += d.toString()));
        p.stderr.on("data", (d: Buffer) => (err += d.toString()));
        p.on("exit", (c) => resolve({code: c, out, err}));
      });
      expect(res.code, res.err).toBe(0);
      expect(res.out).toMatch(/stored [A-Za-z0-9+/]{43}; 3 swarm members confirmed with valid receipts/);
      expect(res.out).toContain("bob has ");
      expect(res.out).toContain("pushed to bob: hello bob");
    } finally {
      rmSync(file, {force: true});
    }
  });

  it("watch prints a message stored after it started, and keeps watching when its node goes away", async () => {
    const proc = spawn(process.execPath, [BIN, "client", "watch", "--key", bob.file, "--seed", seed, ...route], {stdio: ["ignore", "pipe", "pipe"]});
    let out = "";
    let err = "";
    proc.stdout.on("data", (d: Buffer) => (out += d.toString()));
    proc.stderr.on("data", (d: Buffer) => (err += d.toString()));
    try {
      await waitFor("watch subscribed", () => err.includes("subscribed"), 30_000);
      const sent = await client("store", "--key", alice.file, "--to", bob.id, "--text", "while you watch", "--seed", seed, "--json", ...route);
      expect(sent.code, sent.stderr).toBe(0);
      const {hash} = JSON.parse(sent.stdout) as {hash: string};
      await waitFor("the push printed", () => out.includes(hash), 30_000);
      expect(lines(out)).toEqual([expect.objectContaining({hash, text: "while you watch"})]);

      // The node it watches through goes away: watch reconnects to another member and goes on.
      const through = /subscribed \(node ([0-9a-f]{64})\)/.exec(err)?.[1];
      const gone = h.nodes.find((n) => n.node.nodeId === through)!;
      await h.stopNode(gone);
      await waitFor("resubscribed elsewhere", () => [...err.matchAll(/subscribed \(node ([0-9a-f]{64})\)/g)].some((m) => m[1] !== through), 30_000);
      const later = await client("store", "--key", alice.file, "--to", bob.id, "--text", "after the node left", "--seed", `http://127.0.0.1:${h.nodes[0]!.port}`, "--json", ...route);
      expect(later.code, later.stderr).toBe(0);
      await waitFor("the second push printed", () => out.includes("after the node left"), 30_000);
    } finally {
      proc.kill("SIGINT");
    }
    expect(await waitExit(proc)).toBe(0);
  });

  it("a node that alters its receipts is caught: store exits 1 naming it", async () => {
    // The liar's own signer shifts every batch time it reports by 1 ms, so its entries fail to
    // verify whichever node the client enters through (its entries reach honest entry nodes as
    // they are, over the peer channel) and whether the request came direct or by onion.
    const liar = h.nodes.at(-1)!;
    const signer = (liar.node as unknown as {parts: {signer: {sign(r: Uint8Array): Promise<{signature: string; signature_proof: {t: number}}>}}}).parts.signer;
    const honestSign = signer.sign.bind(signer);
    let altered = 0;
    signer.sign = async (receipt) => {
      const signed = await honestSign(receipt);
      altered++;
      return {...signed, signature_proof: {...signed.signature_proof, t: signed.signature_proof.t + 1}};
    };
    let victim = (await swarmMembers(alice.id)).includes(liar.node.nodeId) ? alice : bob;
    for (let i = 0; !(await swarmMembers(victim.id)).includes(liar.node.nodeId); i++) victim = await keygen(`victim${i}`, "05");
    const res = await client("store", "--key", alice.file, "--to", victim.id, "--text", "to be lied about", "--seed", `http://127.0.0.1:${h.nodes[0]!.port}`, ...route);
    expect(res.code, res.stdout + res.stderr).toBe(1);
    expect(res.stderr).toContain("receipt does not verify");
    expect(res.stderr).toContain(liar.node.nodeId.slice(0, 12));
    expect(altered).toBeGreaterThan(0);
  });
});
