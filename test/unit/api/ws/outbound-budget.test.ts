/** OutboundBudget's accounting and its choice of whom to shed, with stand-in connections. */
import {describe, expect, it} from "vitest";
import {OutboundBudget, type BudgetedQueue} from "../../../../src/api/ws/outbound-budget.js";

/** A connection that records being shed and, like WsConnection, tells the budget it is closing. */
class Queue implements BudgetedQueue {
  shedWith: number | null = null;
  constructor(
    readonly name: string,
    private readonly budget: OutboundBudget<Queue>,
  ) {
    budget.join(this);
  }
  shed(queuedBytes: number): void {
    this.shedWith = queuedBytes;
    this.budget.drain(this);
  }
}

function setup(limit: number, ...names: string[]): {budget: OutboundBudget<Queue>; q: Queue[]} {
  const budget = new OutboundBudget<Queue>(limit);
  return {budget, q: names.map((n) => new Queue(n, budget))};
}

/** Queues `bytes` on `q` the way WsConnection.send does: room first, then count. */
function send(budget: OutboundBudget<Queue>, q: Queue, bytes: number): boolean {
  if (!budget.makeRoom(q, bytes)) return false;
  budget.queued(q, bytes);
  return true;
}

describe("OutboundBudget accounting", () => {
  it("counts queued bytes until flushed, and returns to zero", () => {
    const {budget, q: [a]} = setup(1000, "a");
    send(budget, a!, 300);
    send(budget, a!, 200);
    expect([budget.totalBytes, budget.liveBytes, budget.bytesOf(a!)]).toEqual([500, 500, 500]);
    budget.flushed(a!, 300);
    expect([budget.totalBytes, budget.liveBytes]).toEqual([200, 200]);
    budget.flushed(a!, 200);
    expect([budget.totalBytes, budget.liveBytes, budget.bytesOf(a!)]).toEqual([0, 0, 0]);
  });

  it("releases what a connection still holds when it leaves; later write callbacks change nothing", () => {
    const {budget, q: [a, b]} = setup(1000, "a", "b");
    send(budget, a!, 400);
    send(budget, b!, 100);
    budget.leave(a!);
    expect([budget.totalBytes, budget.liveBytes, budget.bytesOf(a!)]).toEqual([100, 100, 0]);
    budget.flushed(a!, 400);
    expect([budget.totalBytes, budget.liveBytes]).toEqual([100, 100]);
    budget.leave(b!);
    expect([budget.totalBytes, budget.liveBytes]).toEqual([0, 0]);
    expect(() => budget.makeRoom(a!, 1)).toThrow(/not joined/);
  });

  it("keeps a closing connection's bytes in the total but not against the limit, until it leaves or they flush", () => {
    const {budget, q: [a]} = setup(1000, "a");
    send(budget, a!, 400);
    budget.drain(a!);
    expect([budget.totalBytes, budget.liveBytes]).toEqual([400, 0]);
    budget.queued(a!, 50); // the final error frame
    budget.flushed(a!, 400);
    expect([budget.totalBytes, budget.liveBytes]).toEqual([50, 0]);
    budget.leave(a!);
    expect([budget.totalBytes, budget.liveBytes]).toEqual([0, 0]);
  });
});

describe("OutboundBudget limit", () => {
  it("is shared: frames of different connections fill the same budget", () => {
    const {budget, q: [a, b, c]} = setup(1000, "a", "b", "c");
    expect(send(budget, a!, 400)).toBe(true);
    expect(send(budget, b!, 400)).toBe(true);
    expect(send(budget, c!, 200)).toBe(true); // exactly at the limit
    expect(budget.liveBytes).toBe(1000);
    expect(budget.sheddings).toBe(0);
    expect(send(budget, c!, 1)).toBe(true); // over: someone larger than c goes
    expect(budget.sheddings).toBe(1);
    expect([a!.shedWith, b!.shedWith, c!.shedWith].filter((x) => x !== null)).toEqual([400]);
  });

  it("sheds the connection with the largest queue, not the sender, and sends the sender's frame", () => {
    const {budget, q: [slow, slower, normal]} = setup(1000, "slow", "slower", "normal");
    send(budget, slow!, 300);
    send(budget, slower!, 600);
    send(budget, normal!, 50);
    expect(send(budget, normal!, 100)).toBe(true);
    expect([slow!.shedWith, slower!.shedWith, normal!.shedWith]).toEqual([null, 600, null]);
    expect([budget.liveBytes, budget.totalBytes, budget.sheddings]).toEqual([450, 1050, 1]);
  });

  it("does not shed again for bytes that are already on their way out", () => {
    const {budget, q: [slow, a, b]} = setup(1000, "slow", "a", "b");
    send(budget, slow!, 900);
    expect(send(budget, a!, 200)).toBe(true);
    expect(slow!.shedWith).toBe(900);
    // slow's 900 bytes are still held (its socket is closing), yet a and b fit again.
    expect(send(budget, b!, 700)).toBe(true);
    expect([a!.shedWith, b!.shedWith, budget.sheddings]).toEqual([null, null, 1]);
    expect(budget.totalBytes).toBe(1800);
  });

  it("sheds as many of the largest queues as it takes, largest first", () => {
    const {budget, q: [a, b, c, d]} = setup(1000, "a", "b", "c", "d");
    send(budget, a!, 300);
    send(budget, b!, 350);
    send(budget, c!, 340);
    expect(send(budget, d!, 600)).toBe(true);
    expect([a!.shedWith, b!.shedWith, c!.shedWith]).toEqual([null, 350, 340]);
    expect([budget.liveBytes, budget.sheddings]).toEqual([900, 2]);
  });

  it("sheds the sender itself when it holds the most (ties included), and refuses its frame", () => {
    const {budget, q: [big, other]} = setup(1000, "big", "other");
    send(budget, big!, 500);
    send(budget, other!, 500);
    expect(send(budget, big!, 10)).toBe(false);
    expect([big!.shedWith, other!.shedWith]).toEqual([500, null]);
    expect([budget.liveBytes, budget.totalBytes]).toEqual([500, 1000]);
  });

  it("sheds the sender of a frame larger than the whole budget", () => {
    const {budget, q: [a]} = setup(1000, "a");
    expect(send(budget, a!, 1001)).toBe(false);
    expect([a!.shedWith, budget.totalBytes, budget.sheddings]).toEqual([0, 0, 1]);
  });
});
