import {describe, expect, it} from "vitest";
import {Progress} from "../../../src/cli/progress.js";

function harness(tty: boolean) {
  let now = 1_000;
  const lines: string[] = [];
  const writes: string[] = [];
  let tick: (() => void) | null = null;
  let stopped = false;
  const io = {
    stderr: (l: string) => lines.push(l),
    ...(tty ? {stderrTty: {columns: 40, write: (t: string) => writes.push(t)}} : {}),
  };
  const progress = new Progress(
    {label: "devnet", intervalMs: 5_000},
    {
      io,
      now: () => now,
      every: (fn) => {
        tick = fn;
        return () => (stopped = true);
      },
    },
  );
  return {progress, lines, writes, advance: (ms: number) => (now += ms), tick: () => tick?.(), stopped: () => stopped};
}

describe("Progress", () => {
  it("not a terminal: a line per phase, details at most every interval, a heartbeat while a phase lasts", () => {
    const h = harness(false);
    h.tick(); // nothing to say before the first update
    h.progress.update("starting nodes", "0/3 listening");
    h.advance(1_000);
    h.progress.update("starting nodes", "1/3 listening"); // too soon: folded into the next line
    h.advance(4_000);
    h.progress.update("starting nodes", "2/3 listening");
    h.advance(1_000);
    h.tick(); // 1 s after the last line: quiet
    h.advance(4_500);
    h.tick(); // 5.5 s: the heartbeat repeats the state
    h.progress.update("signing membership");
    h.advance(500);
    h.progress.done("3 nodes ready");
    expect(h.lines).toEqual([
      "pars-storage: devnet: starting nodes 0/3 listening (0.0 s)",
      "pars-storage: devnet: starting nodes 2/3 listening (5.0 s)",
      "pars-storage: devnet: starting nodes 2/3 listening (10.5 s)",
      "pars-storage: devnet: signing membership (10.5 s)",
      "pars-storage: devnet: 3 nodes ready (11.0 s)",
    ]);
    expect(h.stopped()).toBe(true);
  });

  it("a terminal: one line rewritten in place, cut to the width, cleared at the end", () => {
    const h = harness(true);
    h.progress.update("node keys", "1/3");
    h.advance(300);
    h.progress.update("node keys", "2/3");
    h.progress.update("waiting for nodes to load the membership", "0/3 ready");
    h.progress.done("3 nodes ready");
    expect(h.writes).toEqual([
      "\r\x1b[2Kdevnet: node keys 1/3 (0.0 s)",
      "\r\x1b[2Kdevnet: node keys 2/3 (0.3 s)",
      "\r\x1b[2Kdevnet: waiting for nodes to load the m",
      "\r\x1b[2K",
    ]);
    expect(h.lines).toEqual(["pars-storage: devnet: 3 nodes ready (0.3 s)"]);
  });

  it("after done, updates and a second done print nothing", () => {
    const h = harness(false);
    h.progress.update("starting nodes");
    h.progress.done();
    h.progress.update("starting nodes", "3/3");
    h.progress.done("late");
    expect(h.lines).toEqual(["pars-storage: devnet: starting nodes (0.0 s)"]);
  });
});
