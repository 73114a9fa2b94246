/** WsConnection's bounds and budget accounting with a fake socket whose buffer and flushes the test controls. */
import {EventEmitter} from "node:events";
import type {WebSocket} from "ws";
import {afterEach, describe, expect, it, vi} from "vitest";
import {WsConnection, wireBytes, type ConnectionLimits} from "../../../../src/api/ws/connection.js";
import {OutboundBudget} from "../../../../src/api/ws/outbound-budget.js";

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
  /** Completes the close handshake (the peer answered the close frame). */
  finishClose(): void {
    this.readyState = 3;
    this.emit("close");
  }
  /** The kernel took the oldest `n` frames. */
  flush(n = this.callbacks.length): void {
    for (const cb of this.callbacks.splice(0, n)) cb();
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

function make(l = limits, budget = new OutboundBudget<WsConnection>(1_000_000)): {sock: FakeSocket; conn: WsConnection; drops: string[]} {
  const sock = new FakeSocket();
  const drops: string[] = [];
  const conn = new WsConnection(sock as unknown as WebSocket, "1.2.3.4", l, {onDrop: (_c, r) => drops.push(r)}, budget);
  return {sock, conn, drops};
}

const lastFrame = (sock: FakeSocket): any => JSON.parse(sock.sent.at(-1) as string);

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
    expect(lastFrame(sock)).toEqual({type: "error", code: "WS_ERROR_SLOW_CONSUMER", error: "slow consumer: 3 frames queued", reason: "slow consumer: 3 frames queued"});
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

describe("WsConnection and the node-wide outbound budget", () => {
  const roomy: ConnectionLimits = {...limits, maxQueuedFrames: 1000, maxQueuedBytes: 1_000_000};

  it("wireBytes: the payload plus a 2, 4 or 10-byte frame header", () => {
    expect([0, 125, 126, 65_535, 65_536].map(wireBytes)).toEqual([2, 127, 130, 65_539, 65_546]);
  });

  it("counts each frame's wire bytes (UTF-8) until ws has written it, back to zero when flushed", () => {
    const budget = new OutboundBudget<WsConnection>(10_000);
    const {sock, conn} = make(roomy, budget);
    conn.send("abc");
    conn.send("é€"); // 2 + 3 bytes of UTF-8
    expect(budget.totalBytes).toBe(3 + 2 + (5 + 2));
    expect(budget.bytesOf(conn)).toBe(12);
    sock.flush(1);
    expect(budget.totalBytes).toBe(7);
    sock.flush();
    expect([budget.totalBytes, budget.liveBytes, conn.pendingFrames]).toEqual([0, 0, 0]);
  });

  it("releases unflushed bytes (the final error frame's too) when the socket closes", () => {
    const budget = new OutboundBudget<WsConnection>(10_000);
    const {sock, conn} = make(roomy, budget);
    conn.send("x".repeat(500));
    conn.fail("WS_ERROR_INTERNAL", 1008, "bye");
    expect(budget.totalBytes).toBe(wireBytes(500) + wireBytes(Buffer.byteLength(sock.sent.at(-1) as string)));
    expect(budget.liveBytes).toBe(0);
    sock.finishClose();
    expect([budget.totalBytes, budget.liveBytes]).toEqual([0, 0]);
    sock.flush(); // write callbacks of a destroyed socket arrive late, with an error
    expect([budget.totalBytes, budget.liveBytes]).toEqual([0, 0]);
  });

  // 100-byte payloads: 102 bytes each on the wire.
  it("a frame that does not fit closes the connection with the largest queue (1013) and is sent", () => {
    const budget = new OutboundBudget<WsConnection>(1000);
    const slow = make(roomy, budget);
    const normal = make(roomy, budget);
    for (let i = 0; i < 9; i++) expect(slow.conn.send("s".repeat(100))).toBe(true);
    expect(budget.liveBytes).toBe(918);

    expect(normal.conn.send("n".repeat(100))).toBe(true);
    expect(normal.sock.sent.at(-1)).toBe("n".repeat(100));
    expect(normal.conn.isOpen).toBe(true);
    const reason = "node overloaded: outbound budget of 1000 bytes full, 918 bytes queued here";
    expect(slow.drops).toEqual(["WS_ERROR_NODE_OVERLOADED"]);
    expect(slow.sock.closedWith).toEqual([1013, reason]);
    expect(lastFrame(slow.sock)).toEqual({type: "error", code: "WS_ERROR_NODE_OVERLOADED", error: reason, reason});
    expect(slow.conn.send("late")).toBe(false);
    expect([budget.liveBytes, budget.sheddings]).toEqual([102, 1]);

    slow.sock.finishClose();
    normal.sock.flush();
    expect(budget.totalBytes).toBe(0);
  });

  it("closes the sending connection itself when it holds the most; its frame is not sent", () => {
    const budget = new OutboundBudget<WsConnection>(1000);
    const slow = make(roomy, budget);
    const other = make(roomy, budget);
    other.conn.send("o".repeat(100));
    for (let i = 0; i < 8; i++) expect(slow.conn.send("s".repeat(100))).toBe(true);
    const sent = slow.sock.sent.length;
    expect(slow.conn.send("s".repeat(100))).toBe(false);
    expect(slow.sock.sent.length).toBe(sent + 1);
    expect(lastFrame(slow.sock).code).toBe("WS_ERROR_NODE_OVERLOADED");
    expect(slow.sock.closedWith).toEqual([1013, "node overloaded: outbound budget of 1000 bytes full, 816 bytes queued here"]);
    expect([other.drops, other.conn.isOpen]).toEqual([[], true]);
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
