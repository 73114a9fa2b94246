/**
 * CPU per RFC 6962 inner node (SHA-256 of 0x01 ‖ left ‖ right, 65 bytes) by each way this project
 * can hash one, and per 38-leaf bucket root (a 10 M-message node's average bucket): the choice of
 * docs/benchmarks.md "Session 8: churn at 10 M". Every way is checked against node:crypto first.
 *
 *   nice -n 5 node dist/bench/proofs-sha256.js
 */
import {createHash, hash, randomBytes} from "node:crypto";
import {loadavg} from "node:os";
import {sha256 as nobleSha256} from "@noble/hashes/sha2.js";
import {createSHA256} from "hash-wasm";
import {sha256ParentsInto, sha256RootInto} from "../src/crypto/sha256-batch.js";
import {rootOf} from "../src/crypto/merkle.js";
import {envNumber, round} from "./util.js";

const NODES = envNumber("BENCH_SHA_NODES", 200_000);
const ROUNDS = envNumber("BENCH_SHA_ROUNDS", 5);

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** Median CPU µs per item of `run` over ROUNDS rounds of `items` items. */
function measure(items: number, run: () => void): number {
  const per: number[] = [];
  run();
  for (let r = 0; r < ROUNDS; r++) {
    const start = cpuUs();
    run();
    per.push((cpuUs() - start) / items);
  }
  return round(per.sort((a, b) => a - b)[Math.floor(per.length / 2)] as number, 3);
}

async function main(): Promise<void> {
  const hashWasm = await createSHA256();
  const input = randomBytes(NODES * 64);
  const out = Buffer.alloc(NODES * 32);
  const slots = Buffer.alloc(NODES * 65);
  for (let i = 0; i < NODES; i++) {
    slots[i * 65] = 0x01;
    input.copy(slots, i * 65 + 1, i * 64, i * 64 + 64);
  }
  const views = Array.from({length: NODES}, (_, i) => slots.subarray(i * 65, i * 65 + 65));
  const expect = Buffer.concat(views.map((v) => hash("sha256", v, "buffer")));
  const ways: [string, () => void][] = [
    ["node:crypto hash (one-shot)", () => views.forEach((v, i) => hash("sha256", v, "buffer").copy(out, i * 32))],
    ["node:crypto createHash", () => views.forEach((v, i) => createHash("sha256").update(v).digest().copy(out, i * 32))],
    ["@noble/hashes sha256", () => views.forEach((v, i) => out.set(nobleSha256(v), i * 32))],
    ["hash-wasm, init/update/digest", () => views.forEach((v, i) => out.set(hashWasm.init().update(v).digest("binary"), i * 32))],
    ["own WebAssembly, a level per call", () => sha256ParentsInto(input, 0, NODES, out, 0)],
  ];
  console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}; ${NODES} nodes, median of ${ROUNDS}`);
  for (const [name, run] of ways) {
    out.fill(0);
    run();
    if (!out.equals(expect)) throw new Error(`${name}: wrong digests`);
    console.log(`${name.padEnd(36)} ${measure(NODES, run).toFixed(3)} µs/node`);
  }
  const leaves = 38;
  const buckets = Math.floor(NODES / leaves);
  const root = Buffer.alloc(32);
  const lists = Array.from({length: buckets}, (_, b) => input.subarray(b * leaves * 32, (b + 1) * leaves * 32));
  for (let b = 0; b < 50; b++) {
    sha256RootInto(input, b * leaves * 32, leaves, root, 0);
    if (!root.equals(rootOf(lists[b] as Buffer, leaves))) throw new Error("root differs");
  }
  console.log(`${"38-leaf root, merkle.ts rootOf".padEnd(36)} ${measure(buckets, () => lists.forEach((l) => rootOf(l, leaves))).toFixed(3)} µs/root`);
  console.log(`${"38-leaf root, own WebAssembly".padEnd(36)} ${measure(buckets, () => { for (let b = 0; b < buckets; b++) sha256RootInto(input, b * leaves * 32, leaves, root, 0); }).toFixed(3)} µs/root`);
  console.log(`load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
}

void main();
