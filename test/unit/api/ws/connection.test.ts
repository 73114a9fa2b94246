/** WsConnection's bounds with a fake socket whose buffer and flushes the test controls. */
import {EventEmitter} from "node:events";
import type {WebSocket} from "ws";
import {afterEach, describe, expect, it, vi} from "vitest";
import {WsConnection, type ConnectionLimits} from "../../../../src/api/ws/connection.js";

class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  isPaused = false;
  readonly sent: string[] = [];
  readonly callbacks: Array<() => void> = [];
  closedWith: [number, string] | null = null;
  terminated = false;
  pings = 0;
  send(frame: string, cb?: () => void): void {
    this.sent.push(frame);
    if (cb) this.callbacks.push(cb);
  }
  close(code: number, reason: string): void {
    this.closedWith = [code, reason];
    this.readyState = 2;
  }
  terminate(): void {
    this.terminated = true;
    this.readyState = 3;
    this.emit("close");
  }
  ping(): void {
    this.pings++;
  }
  pause(): void {
    this.isPaused = true;
  }
  resume(): void {
    this.isPaused = false;
  }
}

const limits: ConnectionLimits = {maxQueuedBytes: 1000, maxQueuedFrames: 3, maxInflightRpc: 2, pongTimeoutMs: 50, closeGraceMs: 100};

function make(l = limits): {sock: FakeSocket; conn: WsConnection; drops: string[]} {
  const sock = new FakeSocket();
  const drops: string[] = [];
  const conn = new WsConnection(sock as unknown as WebSocket, "1.2.3.4", l, {onDrop: (_c, r) => drops.push(r)});
  return {sock, conn, drops};
}

afterEach(() => {
  vi.useRealTimers();
});

describe("WsConnection.send", () => {
  it("closes with 1008 once more than maxQueuedFrames are unflushed", () => {
    const {sock, conn, drops} = make();
    expect([conn.send("a"), conn.send("b"), conn.send("c")]).toEqual([true, true, true]);
    expect(conn.pendingFrames).toBe(3);
    sock.callbacks.shift()?.();
    expect(conn.send("d")).toBe(true);
    expect(conn.send("e")).toBe(false);
    expect(drops).toEqual(["WS_ERROR_SLOW_CONSUMER"]);
    expect(sock.closedWith).toEqual([1008, "slow consumer: 3 frames queued"]);
    expect(JSON.parse(sock.sent.at(-1) as string)).toEqual({type: "error", code: "WS_ERROR_SLOW_CONSUMER", error: "slow consumer: 3 frames queued", reason: "slow consumer: 3 frames queued"});
    expect(conn.send("f")).toBe(false);
    expect(drops).toHaveLength(1);
  });

  it("closes once bufferedAmount is over maxQueuedBytes, and destroys the socket after the grace period", () => {
    vi.useFakeTimers();
    const {sock, conn, drops} = make();
    sock.bufferedAmount = 1000;
    expect(conn.send("at the limit")).toBe(true);
    sock.bufferedAmount = 1001;
    expect(conn.send("over")).toBe(false);
    expect(drops).toEqual(["WS_ERROR_SLOW_CONSUMER"]);
    expect(sock.closedWith?.[1]).toBe("slow consumer: 1001 bytes queued");
    vi.advanceTimersByTime(99);
    expect(sock.terminated).toBe(false);
    vi.advanceTimersByTime(1);
    expect(sock.terminated).toBe(true);
  });

  it("truncates close reasons to 123 bytes", () => {
    const {sock, conn} = make();
    conn.fail("WS_ERROR_INTERNAL", 1008, "é".repeat(100));
    expect(Buffer.byteLength(sock.closedWith?.[1] ?? "")).toBeLessThanOrEqual(123);
    expect(sock.closedWith?.[1]).toBe("é".repeat(61));
  });
});

describe("WsConnection.ping", () => {
  it("closes when no pong arrives in time; a pong cancels the timer", () => {
    vi.useFakeTimers();
    const {sock, conn, drops} = make();
    conn.ping();
    conn.ping();
    expect(sock.pings).toBe(1);
    sock.emit("pong");
    vi.advanceTimersByTime(100);
    expect(drops).toEqual([]);
    conn.ping();
    vi.advanceTimersByTime(50);
    expect(drops).toEqual(["WS_ERROR_PING_TIMEOUT"]);
    expect(sock.closedWith).toEqual([1008, "ping timeout: no pong within 50 ms"]);
  });
});

describe("WsConnection.runRpc", () => {
  it("runs at most maxInflightRpc at once, pausing the socket until one finishes", async () => {
    const {sock, conn} = make();
    const gates: Array<() => void> = [];
    const started: number[] = [];
    const task = (i: number) => () => {
      started.push(i);
      return new Promise<void>((r) => gates.push(r));
    };
    for (let i = 0; i < 4; i++) conn.runRpc(task(i));
    expect([started, sock.isPaused]).toEqual([[0, 1], true]);
    gates.shift()?.();
    await vi.waitFor(() => expect(started).toEqual([0, 1, 2]));
    expect(sock.isPaused).toBe(true);
    gates.shift()?.();
    gates.shift()?.();
    await vi.waitFor(() => expect(started).toEqual([0, 1, 2, 3]));
    gates.shift()?.();
    await vi.waitFor(() => expect(sock.isPaused).toBe(false));
  });
});
