import {describe, expect, it} from "vitest";
import {perThreadMs, processThreadSeconds} from "../../../bench/loop-threads.js";

describe("loop-threads: CPU per request of each server thread", () => {
  it("names the main thread and the others by start order, and leaves out threads idle in the window", () => {
    const before = new Map([[100, 1.0], [101, 0.2], [105, 0.5], [107, 0]]);
    // 2 s window, 1,000 requests: main 0.2 s, thread 105 0.1 s, 101 0.01 s (0.005 cores: idle), 107 new.
    const after = new Map([[100, 1.2], [101, 0.21], [105, 0.6], [107, 0.3]]);
    expect(perThreadMs(100, before, after, 2, 1_000)).toEqual({main: 0.2, t2: 0.1, t3: 0.3});
  });

  it("reads this process's threads from /proc, the main thread under the pid", () => {
    const threads = processThreadSeconds(process.pid);
    if (threads.size === 0) return; // not Linux
    expect(threads.has(process.pid)).toBe(true);
    expect([...threads.values()].every((s) => s >= 0)).toBe(true);
  });
});
