import {connect, type Socket} from "node:net";
import {runInNewContext} from "node:vm";
import type {FastifyInstance} from "fastify";
import {afterEach, describe, expect, it, vi} from "vitest";
import {buildHttpApp} from "../../../src/api/http/app.js";
import {BodyBudget} from "../../../src/api/http/body-reader.js";
import {MemoryRelease} from "../../../src/api/http/memory-release.js";
import {loadGc} from "../../../src/util/index.js";
import {harnessPipeline, rpcHarness, type RpcHarness} from "../../utils/rpc-harness.js";
import {silentLogger as silent} from "../../utils/logger.js";

const MIB = 1024 * 1024;

afterEach(() => {
  vi.useRealTimers();
});

describe("BodyBudget drain notice", () => {
  it("tells once when the bytes held fall to zero after reaching the mark, with the most held", () => {
    const peaks: number[] = [];
    const budget = new BodyBudget(100, {afterBytes: 50, notify: (p) => peaks.push(p)});
    expect(budget.take(40)).toBe(true);
    expect(budget.take(30)).toBe(true);
    budget.release(40);
    expect(peaks).toEqual([]); // 30 still held
    budget.release(30);
    expect(peaks).toEqual([70]);
    budget.release(0); // a request without a body closing
    expect(peaks).toEqual([70]);
  });

  it("says nothing for bursts below the mark, and starts each burst afresh", () => {
    const peaks: number[] = [];
    const budget = new BodyBudget(100, {afterBytes: 50, notify: (p) => peaks.push(p)});
    budget.take(49);
    budget.release(49);
    budget.take(20);
    budget.take(20);
    budget.release(40);
    expect(peaks).toEqual([]);
    expect(budget.take(60)).toBe(true);
    expect(budget.take(60)).toBe(false); // refused bytes are not held
    budget.release(60);
    expect(peaks).toEqual([60]);
  });
});

describe("MemoryRelease", () => {
  const opts = {delayMs: 1000, minIntervalMs: 30_000};

  it("runs one GC a delay after a burst, debouncing bursts that end meanwhile", () => {
    vi.useFakeTimers();
    const gc = vi.fn();
    const release = new MemoryRelease(opts, {gc, now: () => Date.now(), logger: silent});
    release.drained(64 * MIB);
    release.drained(40 * MIB);
    vi.advanceTimersByTime(999);
    expect(gc).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(gc).toHaveBeenCalledTimes(1);
    expect(release.runs).toBe(1);
  });

  it("runs at most once per interval, and collects a burst ending inside it at the interval's end", () => {
    vi.useFakeTimers();
    const gc = vi.fn();
    const release = new MemoryRelease(opts, {gc, now: () => Date.now(), logger: silent});
    release.drained(64 * MIB);
    vi.advanceTimersByTime(1000);
    expect(gc).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(4000); // 5 s after the first GC, another burst ends
    release.drained(64 * MIB);
    vi.advanceTimersByTime(25_999); // 30 s after the first GC (at 1 s)
    expect(gc).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(1);
    expect(gc).toHaveBeenCalledTimes(2);
  });

  it("does nothing without a GC function, and close() cancels a pending run", () => {
    vi.useFakeTimers();
    const none = new MemoryRelease(opts, {gc: null, now: () => Date.now(), logger: silent});
    none.drained(64 * MIB);
    expect(vi.getTimerCount()).toBe(0);
    const gc = vi.fn();
    const release = new MemoryRelease(opts, {gc, now: () => Date.now(), logger: silent});
    release.drained(64 * MIB);
    release.close();
    vi.advanceTimersByTime(60_000);
    expect(gc).not.toHaveBeenCalled();
  });
});

describe("loadGc", () => {
  it("returns V8's gc without --expose-gc and leaves later contexts without it", () => {
    const gc = loadGc();
    expect(typeof gc).toBe("function");
    gc!();
    expect(runInNewContext("typeof gc")).toBe("undefined");
  });
});

describe("the HTTP app's bodies", () => {
  let h: RpcHarness | null = null;
  let app: FastifyInstance | null = null;
  afterEach(async () => {
    await app?.close();
    await h?.close();
    app = h = null;
  });

  it("run the GC once a burst of more than 32 MiB held at once has ended", async () => {
    h = await rpcHarness();
    const gc = vi.fn();
    app = buildHttpApp(
      {bodyLimitBytes: 10 * MIB, rateLimit: {enabled: false, capacity: 1, refillPerSecond: 1, maxClients: 1}, serverName: "test", rpcVersion: "2.8.0"},
      {pipeline: harnessPipeline(h), logger: silent, now: () => Date.now(), health: () => ({}), gc},
    );
    const url = new URL(await app.listen({host: "127.0.0.1", port: 0}));
    const accepted: Socket[] = [];
    app.server.on("connection", (s: Socket) => accepted.push(s));
    // Four sockets each send 9 MiB of a 10 MiB body and stall: 36 MiB held; closing them drains the budget.
    const sockets = Array.from({length: 4}, () => connect(Number(url.port), url.hostname));
    for (const s of sockets) {
      s.on("error", () => {});
      s.write(`POST /storage_rpc/v1 HTTP/1.1\r\nHost: x\r\nContent-Length: ${10 * MIB}\r\n\r\n`);
      s.write(Buffer.alloc(9 * MIB, 0x20));
    }
    // Until the node has read all 36 MiB (a fixed wait was too short on a loaded machine).
    await vi.waitFor(() => expect(accepted.reduce((n, s) => n + s.bytesRead, 0)).toBeGreaterThan(36 * MIB), {timeout: 15_000, interval: 20});
    expect(gc).not.toHaveBeenCalled();
    for (const s of sockets) s.destroy();
    await vi.waitFor(() => expect(gc).toHaveBeenCalledTimes(1), {timeout: 5000});
  });
});
