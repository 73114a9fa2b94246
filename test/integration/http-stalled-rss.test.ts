/**
 * Stalled-body attack against a real node process (dist/, `npm run build` first), issue #11
 * item 1: 300 sockets each send 1 MiB of a declared 10 MiB body and stall. The node must cut them
 * within the configured timeouts, hold no more than the body budget meanwhile, and give the memory
 * back afterwards: RSS (VmRSS of the node process) returns to its baseline. The node is started
 * with the environment our launchers give it (MALLOC_ENV: `npm start`, the devnet, the Docker
 * image; the last test checks they agree). Prints RSS before, at the peak and after
 * (docs/configuration.md, "HTTP hardening").
 * Also: an undici client uploading 11 MiB to the process reads the 413 (item 5).
 */
import {readFileSync, mkdtempSync, rmSync} from "node:fs";
import {request as httpRequest} from "node:http";
import {connect, type Socket} from "node:net";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {request} from "undici";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {MALLOC_ENV, mallocHint, withMallocEnv} from "../../src/cli/allocator.js";
import {startNode, type RunningNode} from "../utils/child-process.js";

const MIB = 1024 * 1024;
const SOCKETS = 300;
const SENT = 1 * MIB;
const DECLARED = 10 * MIB;
const BUDGET = 128 * MIB;
/**
 * RSS after the attack may exceed the baseline by this much: measured +24 to +57 MiB with MALLOC_ENV
 * (the socket's body chunks fragment glibc's heap; docs/configuration.md "HTTP hardening").
 */
const AFTER_MARGIN_MIB = 72;

let node: RunningNode;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pars-rss-"));
  node = await startNode([
    `--data-dir=${dir}`,
    "--http-port=0",
    "--network=devnet",
    "--proofs.enabled=false",
    "--rateLimit.enabled=false",
    "--http.requestTimeoutMs=8000",
    "--http.bodyIdleTimeoutMs=3000",
    "--http.maxConnectionsPerIp=1000",
  ], {...MALLOC_ENV});
}, 90_000);
afterAll(async () => {
  node.proc.kill("SIGTERM");
  await new Promise((r) => node.proc.once("exit", r));
  rmSync(dir, {recursive: true, force: true});
});

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return Number(m![1]) / 1024;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function settle(pid: number): Promise<number> {
  // RSS after the node went idle: the lowest of a few samples (GC runs when it likes).
  let low = Infinity;
  for (let i = 0; i < 10; i++) {
    await sleep(500);
    low = Math.min(low, rssMiB(pid));
  }
  return low;
}

describe("stalled bodies against a node process", () => {
  it("cuts 300 stalled 10 MiB uploads, holds at most the body budget, and RSS falls back near its baseline", async () => {
    const pid = node.proc.pid!;
    const {port, hostname} = new URL(node.url);
    // Warm up: a few ordinary requests so the baseline includes a used HTTP stack.
    for (let i = 0; i < 20; i++) await (await request(`${node.url}/health`)).body.dump();
    const baseline = await settle(pid);

    const closed: Array<Promise<void>> = [];
    const sockets: Socket[] = [];
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    const t0 = Date.now();
    const outcomes: string[] = [];
    let worstStallMs = 0;
    for (let i = 0; i < SOCKETS; i++) {
      const s = connect(Number(port), hostname);
      s.on("error", () => {});
      let first = "";
      let flushedAt = Date.now();
      s.on("data", (d: Buffer) => (first ||= d.toString("latin1", 0, 12)));
      closed.push(
        new Promise((r) =>
          s.once("close", () => {
            const stalledMs = Date.now() - flushedAt;
            worstStallMs = Math.max(worstStallMs, stalledMs);
            outcomes.push(first.slice(9, 12) || "none");
            r();
          }),
        ),
      );
      s.write(`POST /storage_rpc/v1 HTTP/1.1\r\nHost: x\r\nContent-Length: ${DECLARED}\r\n\r\n`);
      for (let sent = 0; sent < SENT; sent += chunk.length) s.write(chunk, () => (flushedAt = Date.now()));
      sockets.push(s);
    }
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 100);
    await Promise.all(closed);
    const cutAfterMs = Date.now() - t0;
    clearInterval(sampler);
    const tally: Record<string, number> = {};
    for (const o of outcomes) tally[o] = (tally[o] ?? 0) + 1;
    const soon = await settle(pid); // 0.5-5 s after the last socket closed (the docs' table)
    // V8's memory reducer returns ~30 MiB more by itself 8-12 s after the forced GC
    // (docs/configuration.md "Memory after an attack"); 0.5-5 s alone ranged +30 to +82 MiB on
    // loaded machines, so the bound is on the lowest sample up to ~15 s.
    const after = Math.min(soon, await settle(pid), await settle(pid));
    console.log(
      `stalled-body attack: ${SOCKETS} sockets x ${SENT / MIB} MiB of ${DECLARED / MIB} MiB; ` +
        `RSS baseline ${baseline.toFixed(0)} MiB, peak ${peak.toFixed(0)} MiB, after ${soon.toFixed(0)} MiB (0.5-5 s), ${after.toFixed(0)} MiB (to 15 s); ` +
        `answers ${JSON.stringify(tally)}; all closed ${cutAfterMs} ms after the first connect, at most ${worstStallMs} ms after a socket's last byte`,
    );
    // Every socket is cut by the idle timeout (3 s) once its last byte is in, and at the latest by the
    // whole-request deadline (8 s) from when the node parsed its headers. Timed from the client's
    // side, the node's lag in reaching a socket (2 shared cores busy pushing 300 MiB through
    // loopback) comes on top: 9-14 s were measured. Before the fix the sockets never closed.
    expect(worstStallMs).toBeLessThan(8000 + 10_000);
    expect(Object.keys(tally).every((k) => k === "408" || k === "503")).toBe(true);
    expect(peak - baseline).toBeLessThan(BUDGET / MIB + 96);
    // The node runs a full GC 1 s after the budget drained, and glibc unmaps the freed blocks
    // (MALLOC_ENV). Before: RSS stayed at its peak (V8 had not collected the bodies), and with
    // the GC but without MALLOC_ENV ~75-100 MiB stayed in glibc's heap.
    expect(after).toBeLessThan(baseline + AFTER_MARGIN_MIB);
    expect(peak - after).toBeGreaterThan(80);
    const res = await request(`${node.url}/health`);
    expect(res.statusCode).toBe(200);
    await res.body.dump();
  }, 90_000);

  it("undici and node:http clients uploading 11 MiB read the 413, not a reset", async () => {
    // A Buffer body is written as fast as loopback takes it: the node answers while most of it is
    // still arriving. Before the lingering close, 2-3 of 5 uploads ended in EPIPE/ECONNRESET.
    const big = Buffer.alloc(11 * MIB, 0x20);
    const {port, hostname} = new URL(node.url);
    const outcomes: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await request(`${node.url}/storage_rpc/v1`, {method: "POST", body: big}).catch((e: {code?: string}) => e.code ?? "error");
      if (typeof res === "string") outcomes.push(res);
      else {
        outcomes.push(String(res.statusCode));
        await res.body.dump();
      }
      const status = await new Promise<string>((resolve) => {
        const req = httpRequest({host: hostname, port: Number(port), method: "POST", path: "/storage_rpc/v1"}, (r) => {
          r.resume();
          resolve(String(r.statusCode));
        });
        req.on("error", (e: Error & {code?: string}) => resolve(e.code ?? "error"));
        req.end(big);
      });
      outcomes.push(status);
    }
    expect(outcomes).toEqual(Array(10).fill("413"));
  }, 60_000);

  it("every launcher starts the node with MALLOC_ENV: npm start, the devnet, the Docker image", () => {
    const assignments = Object.entries(MALLOC_ENV).map(([k, v]) => `${k}=${v}`);
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {scripts: {start: string}};
    const dockerfile = readFileSync(new URL("../../docker/Dockerfile", import.meta.url), "utf8");
    for (const a of assignments) {
      expect(pkg.scripts.start, "npm start").toContain(`${a} node dist/src/cli/bin.js start`);
      expect(dockerfile, "docker/Dockerfile ENV").toMatch(new RegExp(`^ENV [^#]*\\b${a}\\b`, "m"));
    }
    // The devnet's children (src/cli/devnet/children.ts) get withMallocEnv; an operator's own value is kept.
    expect(withMallocEnv({})).toEqual(MALLOC_ENV);
    expect(withMallocEnv({MALLOC_MMAP_THRESHOLD_: "65536"})).toEqual({MALLOC_MMAP_THRESHOLD_: "65536"});
    // `pars-storage start` without it, on glibc only, logs a hint naming the setting.
    expect(mallocHint({}, () => "2.36")).toContain("MALLOC_MMAP_THRESHOLD_=131072");
    expect(mallocHint({}, () => undefined)).toBeNull();
    expect(mallocHint({MALLOC_MMAP_THRESHOLD_: "32768"}, () => "2.36")).toBeNull();
    expect(mallocHint({GLIBC_TUNABLES: "glibc.malloc.mmap_threshold=65536"}, () => "2.36")).toBeNull();
  });
});
