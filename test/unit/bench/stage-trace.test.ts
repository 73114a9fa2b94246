import {describe, expect, it} from "vitest";
import {windowBetween, type TraceMark} from "../../../bench/stage-trace.js";

const mark = (atMs: number, ticks: Record<string, number>, counts: Record<string, number>): TraceMark => ({
  atMs,
  ticks: new Map(Object.entries(ticks)),
  counts: new Map(Object.entries(counts)),
});

describe("stage-trace windowBetween", () => {
  it("gives the CPU and each stage's samples between two marks per request, whatever came before the first", () => {
    // Before the window: a warm-up of 5,000 requests, 40 commits, and its CPU.
    const from = mark(10_000, {main: 900, "node/12": 300}, {rpc_entry: 5_000, commit_flush: 40, sign_batch: 100});
    const to = mark(16_000, {main: 1_050, "node/12": 330, "node/13": 10}, {rpc_entry: 8_000, commit_flush: 1_540, sign_batch: 1_300, exchange: 600});
    expect(windowBetween(from, to)).toEqual({
      seconds: 6,
      requests: 3_000,
      mainMsPerRequest: 0.5,
      othersMsPerRequest: 0.1333,
      perRequest: {commit_flush: 0.5, sign_batch: 0.4, exchange: 0.2},
    });
  });

  it("counts a peer's forwarded requests, and is null without a request", () => {
    const from = mark(0, {main: 0}, {rpc_peer: 10});
    expect(windowBetween(from, mark(1_000, {main: 10}, {rpc_peer: 20}))?.requests).toBe(10);
    expect(windowBetween(from, mark(1_000, {main: 10}, {rpc_peer: 10}))).toBeNull();
  });
});
