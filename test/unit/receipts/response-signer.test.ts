import {existsSync} from "node:fs";
import {mkdtemp, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {fileURLToPath, pathToFileURL} from "node:url";
import type {Worker} from "node:worker_threads";
import {ml_dsa65} from "@noble/post-quantum/ml-dsa.js";
import {describe, expect, it, onTestFinished} from "vitest";
import vectors from "../../fixtures/signing/receipt-tree.json" with {type: "json"};
import {buildTree, leafHash, rootFromPath} from "../../../src/receipts/receipt-tree.js";
import {defaultLiboqsContextUrl, InlineSigner, WorkerSigner} from "../../../src/signer/context-signer.js";
import {batchHeader} from "../../../src/protocol/index.js";
import {ResponseSigner, verifySignedReceipt} from "../../../src/receipts/response-signer.js";
import {CTX} from "../../../src/crypto/contexts.js";
import {ManualClock} from "../../../src/util/clock.js";
import {testIdentity, testPq} from "../../utils/rpc-harness.js";

const EMPTY_CONTEXT = new Uint8Array(0);

describe("receipt tree (RFC 6962)", () => {
  it.each(vectors.cases.map((c) => [c.receipts.length, c] as const))("matches the independent vector for %i receipts", (_n, c) => {
    const {root, paths} = buildTree(c.receipts.map((r) => leafHash(Buffer.from(r))));
    expect(root.toString("hex")).toBe(c.root);
    expect(paths.map((p) => p.map((x) => x.toString("base64")))).toEqual(c.paths);
  });

  it("recomputes the root from every leaf's path and rejects wrong shapes", () => {
    for (let n = 1; n <= 33; n++) {
      const leaves = Array.from({length: n}, (_, i) => leafHash(Buffer.from(`r${i}`)));
      const {root, paths} = buildTree(leaves);
      for (let i = 0; i < n; i++) {
        const path = paths[i]!;
        expect(rootFromPath(leaves[i]!, i, n, path)?.equals(root), `n=${n} i=${i}`).toBe(true);
        if (n > 1) {
          expect(rootFromPath(leaves[i]!, (i + 1) % n, n, path)?.equals(root) ?? false, `wrong index n=${n} i=${i}`).toBe(false);
          expect(rootFromPath(leaves[i]!, i, n, path.slice(1)), `short path n=${n} i=${i}`).toBeNull();
        }
        expect(rootFromPath(leaves[i]!, i, n, [...path, root]), `long path n=${n} i=${i}`).toBeNull();
      }
    }
    expect(rootFromPath(leafHash(Buffer.from("x")), 3, 3, [])).toBeNull();
  });

  it("lays out the batch header as documented", () => {
    const h = vectors.header;
    expect(batchHeader(h.nodeId, h.t, h.n, Buffer.from(h.root, "hex")).toString("hex")).toBe(h.hex);
  });
});

describe("ResponseSigner", () => {
  it("signs everything pending in one batch, each receipt verifiable on its own", async () => {
    const pq = await testPq();
    const identity = await testIdentity();
    const signer = new ResponseSigner(
      {maxBatchDelayMs: 5, maxBatchSize: 100},
      {signer: new InlineSigner(pq, identity.mlDsa.secretKey), nodeId: identity.nodeId, clock: new ManualClock(1_700_000_000_000)},
    );
    const receipts = Array.from({length: 7}, (_, i) => Buffer.from(`receipt ${i}`));
    const signed = await Promise.all(receipts.map((r) => signer.sign(r)));
    expect(signer.stats).toEqual({batches: 1, receipts: 7});
    expect(new Set(signed.map((s) => s.signature)).size).toBe(1);
    signed.forEach((s, i) => {
      expect(s.signature_proof).toMatchObject({t: 1_700_000_000_000, n: 7, i});
      expect(verifySignedReceipt(pq, identity.nodeId, identity.mlDsa.publicKey, receipts[i]!, s), `receipt ${i}`).toBe(true);
    });
    const tampered = {...signed[0]!, signature_proof: {...signed[0]!.signature_proof, t: 1}};
    expect(verifySignedReceipt(pq, identity.nodeId, identity.mlDsa.publicKey, receipts[0]!, tampered)).toBe(false);
    expect(verifySignedReceipt(pq, "cd".repeat(32), identity.mlDsa.publicKey, receipts[0]!, signed[0]!)).toBe(false);
    await signer.close();
    await expect(signer.sign(Buffer.from("late"))).rejects.toThrow("closed");
  });

  it("signs at once when the batch is full", async () => {
    const pq = await testPq();
    const identity = await testIdentity();
    const signer = new ResponseSigner(
      {maxBatchDelayMs: 60_000, maxBatchSize: 3},
      {signer: new InlineSigner(pq, identity.mlDsa.secretKey), nodeId: identity.nodeId, clock: new ManualClock()},
    );
    const signed = await Promise.all([1, 2, 3].map((i) => signer.sign(Buffer.from([i]))));
    expect(signed.map((s) => s.signature_proof.n)).toEqual([3, 3, 3]);
    await signer.close();
  });
});

describe("one signature in flight", () => {
  it("queues receipts that arrive during a signature into the next batch", async () => {
    const pq = await testPq();
    const identity = await testIdentity();
    let release: () => void = () => {};
    const calls: number[] = [];
    const inline = new InlineSigner(pq, identity.mlDsa.secretKey);
    const slow = {
      sign: async (msg: Uint8Array, ctx: Uint8Array) => {
        calls.push(Buffer.from(msg).readUInt32BE(40));
        if (calls.length === 1) await new Promise<void>((r) => (release = r));
        return inline.sign(msg, ctx);
      },
      close: async () => {},
    };
    const signer = new ResponseSigner({maxBatchDelayMs: 0, maxBatchSize: 100}, {signer: slow, nodeId: identity.nodeId, clock: new ManualClock()});
    const first = signer.sign(Buffer.from("a"));
    await new Promise((r) => setImmediate(r));
    const later = [signer.sign(Buffer.from("b")), signer.sign(Buffer.from("c")), signer.sign(Buffer.from("d"))];
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toEqual([1]);
    release();
    const all = await Promise.all([first, ...later]);
    expect(calls).toEqual([1, 3]);
    expect(all.map((s) => s.signature_proof.n)).toEqual([1, 3, 3, 3]);
    await signer.close();
  });
});

/** An inline signer that logs each batch's receipt count into `order`, held while `hold` is set. */
async function logging(order: string[], maxBatchDelayMs = 0) {
  const pq = await testPq();
  const identity = await testIdentity();
  const inline = new InlineSigner(pq, identity.mlDsa.secretKey);
  const gate = {hold: null as Promise<void> | null};
  const signer = {
    sign: async (msg: Uint8Array, ctx: Uint8Array) => {
      order.push(`sign ${Buffer.from(msg).readUInt32BE(40)}`);
      if (gate.hold !== null) await gate.hold;
      return inline.sign(msg, ctx);
    },
    close: async () => {},
  };
  return {gate, responses: new ResponseSigner({maxBatchDelayMs, maxBatchSize: 100}, {signer, nodeId: identity.nodeId, clock: new ManualClock()})};
}

describe("signing without a batch window", () => {
  it("signs the receipts of one settled commit as one batch before the next loop iteration", async () => {
    const order: string[] = [];
    const {responses} = await logging(order);
    let commit: () => void = () => {};
    const committed = new Promise<void>((r) => (commit = r));
    // Five stores of one group commit: each hands over its receipt when the commit settles.
    const signed = [1, 2, 3, 4, 5].map((i) => committed.then(() => responses.sign(Buffer.from(`r${i}`))));
    setImmediate(() => order.push("next iteration"));
    commit();
    await Promise.all(signed);
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(["sign 5", "next iteration"]);
    await responses.close();
  });

  it("lets a group commit of the same loop iteration join the receipts queued behind a signature", async () => {
    const order: string[] = [];
    const {gate, responses} = await logging(order);
    let release: () => void = () => {};
    gate.hold = new Promise<void>((r) => (release = r));
    const first = responses.sign(Buffer.from("a"));
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(["sign 1"]);
    gate.hold = null;
    const queued = [responses.sign(Buffer.from("b")), responses.sign(Buffer.from("c"))];
    // A group commit queued (setImmediate) in the iteration the signature is answered in.
    const committed = new Promise<void>((r) => setImmediate(r));
    const commitReceipts = [3, 4].map((i) => committed.then(() => responses.sign(Buffer.from(`d${i}`))));
    release();
    await Promise.all([first, ...queued, ...commitReceipts]);
    expect(order).toEqual(["sign 1", "sign 4"]);
    await responses.close();
  });
});

describe("signing promptly (forwarded requests)", () => {
  it("signs a settled commit's prompt receipts at once, with the receipts waiting in the window", async () => {
    const order: string[] = [];
    const {responses} = await logging(order, 60_000);
    const windowed = responses.sign(Buffer.from("client store"));
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([]);
    let commit: () => void = () => {};
    const committed = new Promise<void>((r) => (commit = r));
    // Three stores of a peer's frame: one group commit, each signing its receipt promptly.
    const prompt = [1, 2, 3].map((i) => committed.then(() => responses.sign(Buffer.from(`f${i}`), true)));
    setImmediate(() => order.push("next iteration"));
    commit();
    const signed = await Promise.all([windowed, ...prompt]);
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual(["sign 4", "next iteration"]);
    expect(new Set(signed.map((s) => s.signature)).size).toBe(1);
    // The window's timer went with that batch: a receipt that is not prompt waits for its own.
    const later = responses.sign(Buffer.from("later"));
    await new Promise((r) => setTimeout(r, 20));
    expect(order).toEqual(["sign 4", "next iteration"]);
    await responses.close();
    await later;
    expect(order).toEqual(["sign 4", "next iteration", "sign 1"]);
  });
});

describe("WorkerSigner", () => {
  it.each([false, true])("signs on a worker thread (liboqs for the empty context: %s), verified by noble", async (useLiboqs) => {
    const pq = await testPq();
    const identity = await testIdentity();
    const w = await WorkerSigner.start(identity.mlDsa.secretKey, {useLiboqs}, {fallback: new InlineSigner(pq, identity.mlDsa.secretKey)});
    const cases = [
      {msg: Buffer.from("empty context"), ctx: EMPTY_CONTEXT},
      {msg: Buffer.from("with context"), ctx: CTX.STORAGE_PROOF},
    ];
    const sigs = await Promise.all(cases.map((c) => w.sign(c.msg, c.ctx)));
    sigs.forEach((sig, i) => {
      const c = cases[i]!;
      expect(pq.mlDsa65.verify(identity.mlDsa.publicKey, c.msg, sig, c.ctx), `case ${i}`).toBe(true);
      const other = c.ctx.length === 0 ? CTX.STORAGE_PROOF : EMPTY_CONTEXT;
      expect(pq.mlDsa65.verify(identity.mlDsa.publicKey, c.msg, sig, other), `other context ${i}`).toBe(false);
    });
    await w.close();
    // After close, the fallback signs: callers never see a lost signature.
    const after = await w.sign(Buffer.from("late"), EMPTY_CONTEXT);
    expect(pq.mlDsa65.verify(identity.mlDsa.publicKey, Buffer.from("late"), after, EMPTY_CONTEXT)).toBe(true);
  });
});

/**
 * Stands in for dist/src/crypto/pq/liboqs-context.js (vitest has only the .ts source, which a worker
 * cannot import): noble signing with rnd = 0, so the test can tell the worker signed through it.
 */
async function writeDeterministicContextModule(): Promise<{url: string; cleanup: () => Promise<void>}> {
  const dir = await mkdtemp(join(tmpdir(), "pars-ctx-path-"));
  const file = join(dir, "context-path.mjs");
  const noble = import.meta.resolve("@noble/post-quantum/ml-dsa.js");
  await writeFile(
    file,
    `import {ml_dsa65} from ${JSON.stringify(noble)};\n` +
      "export async function loadCheckedLiboqsContextMlDsa65() {\n" +
      "  return {sign: (sk, msg, ctx) => ml_dsa65.sign(msg, sk, {context: ctx, extraEntropy: false})};\n}\n",
  );
  return {url: pathToFileURL(file).href, cleanup: () => rm(dir, {recursive: true, force: true})};
}

describe("WorkerSigner context path", () => {
  it("signs every context through the liboqs context module when it loads", async () => {
    const {url: fixture, cleanup} = await writeDeterministicContextModule();
    onTestFinished(cleanup);
    const pq = await testPq();
    const identity = await testIdentity();
    const fallback = new InlineSigner(pq, identity.mlDsa.secretKey);
    const w = await WorkerSigner.start(identity.mlDsa.secretKey, {useLiboqs: true, liboqsContextUrl: fixture}, {fallback});
    expect(w.liboqsContext).toBe(true);
    // The context path signs the empty context too: liboqs-js' own instance is not loaded beside it.
    expect(w.liboqsPlain).toBe(false);
    for (const ctx of [CTX.CHALLENGE_ANSWER, EMPTY_CONTEXT]) {
      const msg = Buffer.from("answer");
      const expected = ml_dsa65.sign(msg, identity.mlDsa.secretKey, {context: ctx, extraEntropy: false});
      expect(Buffer.from(await w.sign(msg, ctx)).equals(expected)).toBe(true);
    }
    await w.close();
  });

  // Response batches have a context: from source, without the built module, they would be signed by
  // noble in the worker, ~10x slower than in a running node.
  const built = fileURLToPath(new URL("../../../dist/src/crypto/pq/liboqs-context.js", import.meta.url));
  it.skipIf(!existsSync(built))("uses the built context module when the signer runs from source (npm run build)", async () => {
    expect(fileURLToPath(defaultLiboqsContextUrl())).toBe(built);
    const pq = await testPq();
    const identity = await testIdentity();
    const w = await WorkerSigner.start(identity.mlDsa.secretKey, {useLiboqs: true}, {fallback: new InlineSigner(pq, identity.mlDsa.secretKey)});
    onTestFinished(() => w.close());
    expect(w.liboqsContext).toBe(true);
    const sig = await w.sign(Buffer.from("batch"), CTX.RESPONSE_BATCH);
    expect(pq.mlDsa65.verify(identity.mlDsa.publicKey, Buffer.from("batch"), sig, CTX.RESPONSE_BATCH)).toBe(true);
  });

  it("runs the signing worker with a 4 MB young generation (its share of the node's memory)", async () => {
    const pq = await testPq();
    const identity = await testIdentity();
    const w = await WorkerSigner.start(identity.mlDsa.secretKey, {useLiboqs: false}, {fallback: new InlineSigner(pq, identity.mlDsa.secretKey)});
    onTestFinished(() => w.close());
    const {worker} = w as unknown as {worker: Worker};
    expect(worker.resourceLimits?.maxYoungGenerationSizeMb).toBe(4);
  });

  it("signs as before when the context module cannot be imported", async () => {
    const pq = await testPq();
    const identity = await testIdentity();
    const fallback = new InlineSigner(pq, identity.mlDsa.secretKey);
    const missing = pathToFileURL(join(tmpdir(), "pars-no-such-context-path.mjs")).href;
    const w = await WorkerSigner.start(identity.mlDsa.secretKey, {useLiboqs: true, liboqsContextUrl: missing}, {fallback});
    expect(w.liboqsContext).toBe(false);
    expect(w.liboqsPlain).toBe(true);
    const sig = await w.sign(Buffer.from("answer"), CTX.CHALLENGE_ANSWER);
    expect(pq.mlDsa65.verify(identity.mlDsa.publicKey, Buffer.from("answer"), sig, CTX.CHALLENGE_ANSWER)).toBe(true);
    await w.close();
  });
});

describe("batch signature domain", () => {
  it("signs the header with the response-batch context, not the empty context with a tag", async () => {
    const pq = await testPq();
    const identity = await testIdentity();
    const contexts: Uint8Array[] = [];
    const inline = new InlineSigner(pq, identity.mlDsa.secretKey);
    const spy = {sign: (m: Uint8Array, c: Uint8Array) => (contexts.push(c), inline.sign(m, c)), close: async () => {}};
    const signer = new ResponseSigner({maxBatchDelayMs: 0, maxBatchSize: 10}, {signer: spy, nodeId: identity.nodeId, clock: new ManualClock(5)});
    const signed = await signer.sign(Buffer.from("r"));
    await signer.close();
    expect(contexts.map((c) => Buffer.from(c).toString())).toEqual(["pars-storage/v1/response-batch"]);
    const header = batchHeader(identity.nodeId, 5, 1, leafHash(Buffer.from("r")));
    const sig = Buffer.from(signed.signature, "base64");
    expect(pq.mlDsa65.verify(identity.mlDsa.publicKey, header, sig, CTX.RESPONSE_BATCH)).toBe(true);
    const oldForm = Buffer.concat([CTX.RESPONSE_BATCH, header]);
    expect(pq.mlDsa65.verify(identity.mlDsa.publicKey, oldForm, sig, EMPTY_CONTEXT)).toBe(false);
    // An old-form (empty-context) batch signature no longer verifies as a receipt.
    const legacy = pq.mlDsa65.sign(identity.mlDsa.secretKey, oldForm, EMPTY_CONTEXT);
    const legacySigned = {...signed, signature: Buffer.from(legacy).toString("base64")};
    expect(verifySignedReceipt(pq, identity.nodeId, identity.mlDsa.publicKey, Buffer.from("r"), legacySigned)).toBe(false);
  });
});
