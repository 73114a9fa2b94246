/**
 * Retrieve pages read on the reader thread (storage.readerThread, storage/reader-thread.ts): the
 * same answers as the event loop's, byte for byte; every store acknowledged before the retrieve in
 * the page and every deleted or expired message out of it; a bounded queue (503); a thread that dies
 * never hangs a retrieve. Needs `npm run build` (the worker runs from dist/).
 */
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterEach, describe, expect, it} from "vitest";
import {buildHttpApp} from "../../../src/api/http/app.js";
import type {RpcResponse} from "../../../src/protocol/response.js";
import {RpcHandler} from "../../../src/rpc/handler.js";
import {responseJson} from "../../../src/rpc/response-json.js";
import {ReaderThread, type PageRequest} from "../../../src/storage/reader-thread.js";
import {sessionAccount} from "../../utils/keys.js";
import {silentLogger} from "../../utils/logger.js";
import {harnessPipeline, rpcHarness, type RpcHarness} from "../../utils/rpc-harness.js";

const DAY = 86_400_000;

interface Setup {
  h: RpcHarness;
  reader: ReaderThread;
  /** Pages the reader thread answered (the others were read on the event loop). */
  answered: () => number;
  /** The harness's handler with the reader thread. */
  withReader: RpcHandler;
  call: (params: Record<string, unknown>) => Promise<RpcResponse>;
}

const open: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of open.splice(0).reverse()) await close();
});

async function setup(opts: {writerThread?: boolean; maxQueued?: number; maxRestarts?: number} = {}): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), "retrieve-reader-"));
  open.push(() => Promise.resolve(rmSync(dir, {recursive: true, force: true})));
  const h = await rpcHarness({path: join(dir, "storage.db"), ...(opts.writerThread === undefined ? {} : {writerThread: opts.writerThread})});
  open.push(() => h.close());
  const reader = await ReaderThread.start({path: join(dir, "storage.db"), busyTimeoutMs: 5_000, maxQueued: opts.maxQueued ?? 100, maxRestarts: opts.maxRestarts ?? 1});
  open.push(() => reader.close());
  let answered = 0;
  const counted = {
    get full() {
      return reader.full;
    },
    read: (request: PageRequest) =>
      reader.read(request).then((answer) => {
        if (answer !== null) answered++;
        return answer;
      }),
  };
  const withReader = new RpcHandler({...h.ctx, reader: counted});
  return {h, reader, answered: () => answered, withReader, call: (params) => withReader.handle("retrieve", params)};
}

/** The text the HTTP reply writes for `res`. */
function wire(res: RpcResponse): string {
  if (typeof res.body === "string") throw new Error(`not JSON: ${res.status} ${res.body}`);
  return responseJson(res.body);
}

/** `n` distinct messages (`from` on: other messages than a call with a lower `from` stored). */
async function fill(h: RpcHarness, account: string, n: number, from = 0, namespace = -10): Promise<string[]> {
  const t0 = h.clock.now();
  const hashes: string[] = [];
  for (let i = from; i < from + n; i++) {
    const data = Buffer.from(Array.from({length: 1 + ((i * 37) % 700)}, (_, j) => (i * 7 + j * 13) & 255));
    const res = await h.json("store", {pubkey: account, namespace, timestamp: t0 - i, ttl: DAY - i * 1000, data: data.toString("base64")});
    expect(res.status).toBe(200);
    hashes.push(res.body.hash as string);
  }
  return hashes;
}

const hashesOf = (res: RpcResponse): string[] => (JSON.parse(wire(res)) as {messages: Array<{hash: string}>}).messages.map((m) => m.hash);

describe("retrieve on the reader thread", () => {
  it("answers the event loop's bytes for pages of 0, 1, 100 and the rest, size-limited, signed and unsigned", async () => {
    const {h, call, answered} = await setup();
    const acc = sessionAccount();
    const hashes = await fill(h, acc.hex, 101);
    const t0 = h.clock.now();
    for (let i = 0; i < 5; i++) {
      const data = Buffer.alloc(1000 + i, i);
      await h.store.store({account: acc.hex, hash: `signed-${i}`.padEnd(43, "x"), namespace: 3, timestamp: t0, expiry: t0 + DAY, data, replaceNamespace: false});
    }
    const msg = `retrieve3${t0}`;
    const cases: Array<Record<string, unknown>> = [
      {pubkey: sessionAccount().hex, namespace: -10},
      {pubkey: acc.hex, namespace: -10, max_count: 1},
      {pubkey: acc.hex, namespace: -10, max_count: 100},
      {pubkey: acc.hex, namespace: -10, last_hash: hashes[98]},
      {pubkey: acc.hex, namespace: -10, max_size: 5_000},
      {pubkey: acc.hex, namespace: -10, max_size: -20},
      {pubkey: acc.hex, namespace: -10, max_count: -1},
      {pubkey: acc.hex, pubkey_ed25519: acc.ed.pub.toString("hex"), namespace: 3, timestamp: t0, signature: acc.ed.sign(msg).toString("base64")},
    ];
    for (const [k, params] of cases.entries()) {
      const onLoop = await h.call("retrieve", params);
      const offLoop = await call(params);
      expect(offLoop.status).toBe(200);
      // Made on the thread, equal to the event loop's text and to JSON.stringify of the body.
      expect(answered()).toBe(k + 1);
      expect(wire(offLoop)).toBe(responseJson(onLoop.body as Record<string, unknown>));
      expect(JSON.stringify(offLoop.body)).toBe(JSON.stringify(onLoop.body));
    }
  });

  it("is written over HTTP as the same bytes and headers as the event loop's text", async () => {
    const {h, withReader, answered} = await setup();
    const acc = sessionAccount().hex;
    await fill(h, acc, 40);
    const opts = {bodyLimitBytes: 1 << 20, rateLimit: {enabled: false, capacity: 1, refillPerSecond: 1, maxClients: 1}, serverName: "t", rpcVersion: "2.8.0"};
    const app = (rpc: RpcHandler) => buildHttpApp(opts, {pipeline: harnessPipeline(h, {rpc}), logger: silentLogger, now: () => h.clock.now(), health: () => ({})});
    const [onLoop, offLoop] = [app(h.handler), app(withReader)];
    open.push(() => onLoop.close(), () => offLoop.close());
    const payload = JSON.stringify({method: "retrieve", params: {pubkey: acc, namespace: -10}});
    const ask = (a: typeof onLoop) => a.inject({method: "POST", url: "/storage_rpc/v1", payload, headers: {"content-type": "application/json"}});
    const [a, b] = [await ask(onLoop), await ask(offLoop)];
    expect(b.statusCode).toBe(200);
    expect(b.rawPayload.equals(a.rawPayload)).toBe(true);
    expect(b.headers["content-type"]).toBe("application/json; charset=utf-8");
    expect(b.headers["content-type"]).toBe(a.headers["content-type"]);
    expect(b.headers["content-length"]).toBe(String(a.rawPayload.length));
    expect(b.json<{messages: unknown[]}>().messages).toHaveLength(40);
    expect(answered()).toBe(1);
  });

  it("answers the objects once something has read and changed them, and keeps every error on the event loop", async () => {
    const {h, call} = await setup();
    const acc = sessionAccount();
    await fill(h, acc.hex, 3);
    const res = await call({pubkey: acc.hex, namespace: -10});
    const body = res.body as {messages: Array<{data: string}>};
    (body.messages[0] as {data: string}).data = "changed";
    expect(wire(res)).toContain('"data":"changed"');
    expect(wire(res)).toBe(JSON.stringify(res.body));
    // Unsigned where a signature is required, a bad signature, a stale timestamp: as without the thread.
    const t0 = h.clock.now();
    const bad = [
      {pubkey: acc.hex, namespace: 0},
      {pubkey: acc.hex, pubkey_ed25519: acc.ed.pub.toString("hex"), namespace: 0, timestamp: t0, signature: acc.ed.sign("retrieve0").toString("base64")},
      {pubkey: acc.hex, pubkey_ed25519: acc.ed.pub.toString("hex"), timestamp: t0 - 2 * DAY, signature: acc.ed.sign(`retrieve${t0 - 2 * DAY}`).toString("base64")},
    ];
    for (const params of bad) {
      const onLoop = await h.call("retrieve", params).catch((e: unknown) => e);
      const offLoop = await call(params).catch((e: unknown) => e);
      expect(offLoop).toEqual(onLoop);
      expect((offLoop as RpcResponse).status).toBeGreaterThanOrEqual(400);
    }
  });

  for (const writerThread of [false, true]) {
    it(`sees every store acknowledged before it and no deleted or expired message (writerThread ${writerThread})`, async () => {
      const {h, call} = await setup({writerThread});
      const acc = sessionAccount().hex;
      const seen: string[] = [];
      for (let i = 0; i < 20; i++) {
        const [hash] = await fill(h, acc, 1, i);
        seen.push(hash as string);
        // Right after the store's answer, on the other connection.
        expect(hashesOf(await call({pubkey: acc, namespace: -10}))).toEqual(seen);
      }
      await h.store.deleteByHashes(acc, [seen[3] as string, seen[7] as string]);
      const afterDelete = hashesOf(await call({pubkey: acc, namespace: -10}));
      expect(afterDelete).toEqual(seen.filter((_, i) => i !== 3 && i !== 7));
      const t = h.clock.now();
      await h.store.store({account: acc, hash: "short-lived".padEnd(43, "s"), namespace: -10, timestamp: t, expiry: t + 500, data: Buffer.from("x"), replaceNamespace: false});
      expect(hashesOf(await call({pubkey: acc, namespace: -10}))).toContain("short-lived".padEnd(43, "s"));
      h.clock.advance(501);
      expect(hashesOf(await call({pubkey: acc, namespace: -10}))).toEqual(afterDelete);
    });
  }

  it("refuses with 503 once the reader's queue is full, and serves again once it drains", async () => {
    const {h, call} = await setup({maxQueued: 2});
    const acc = sessionAccount().hex;
    await fill(h, acc, 2);
    // Unsigned (ns -10): all three reach the reader in this turn; the third finds the queue full.
    const answers = await Promise.all([0, 1, 2].map(() => call({pubkey: acc, namespace: -10}).catch((e: unknown) => e)));
    expect((answers[0] as RpcResponse).status).toBe(200);
    expect((answers[1] as RpcResponse).status).toBe(200);
    expect(answers[2]).toEqual({status: 503, body: "Node busy: too many retrieves in progress, retry later"});
    expect((await call({pubkey: acc, namespace: -10})).status).toBe(200);
  });

  it("answers the pages a dying thread held on the event loop, restarts it, then stays on the event loop", async () => {
    const {h, reader, call, answered} = await setup({maxRestarts: 1});
    const acc = sessionAccount().hex;
    const hashes = await fill(h, acc, 5);
    const expected = hashes;
    // Asked in the turn of the crash: the thread exits before (or while) answering them.
    const inFlight = [0, 1, 2].map(() => call({pubkey: acc, namespace: -10}));
    reader.crashForTest();
    for (const res of await Promise.all(inFlight)) {
      expect(res.status).toBe(200);
      expect(hashesOf(res)).toEqual(expected);
    }
    expect(answered()).toBe(0);
    await reader.restartedForTest();
    const again = await call({pubkey: acc, namespace: -10});
    expect(answered()).toBe(1);
    expect(hashesOf(again)).toEqual(expected);
    // A second death is past maxRestarts: every page is read on the event loop from then on.
    const second = call({pubkey: acc, namespace: -10});
    reader.crashForTest();
    expect(hashesOf(await second)).toEqual(expected);
    await reader.restartedForTest();
    const onLoop = await call({pubkey: acc, namespace: -10});
    expect(answered()).toBe(1);
    expect(hashesOf(onLoop)).toEqual(expected);
  });

  it("closes cleanly: pages asked after close are read on the event loop", async () => {
    const {h, reader, call, answered} = await setup();
    const acc = sessionAccount().hex;
    const hashes = await fill(h, acc, 2);
    const pending = call({pubkey: acc, namespace: -10});
    await reader.close();
    expect(hashesOf(await pending)).toEqual(hashes);
    const after = await call({pubkey: acc, namespace: -10});
    expect(answered()).toBe(0);
    expect(hashesOf(after)).toEqual(hashes);
    expect(reader.pending).toBe(0);
  });
});
