import {describe, expect, it} from "vitest";
import {FakeClock} from "../../../src/util/clock.js";
import {CoalescedTask, backoffDelayMs, jittered, type CoalescedTaskOptions} from "../../../src/util/coalesced-task.js";

/** A pass the test finishes by hand, so it can act while one is running. */
function manualPasses<T>() {
  const pending: Array<{resolve: (v: T) => void; reject: (e: unknown) => void}> = [];
  let runs = 0;
  const run = (): Promise<T> => {
    runs++;
    return new Promise<T>((resolve, reject) => pending.push({resolve, reject}));
  };
  return {
    run,
    get runs() {
      return runs;
    },
    get running() {
      return pending.length;
    },
    finish(v: T): void {
      pending.shift()!.resolve(v);
    },
    fail(e: unknown): void {
      pending.shift()!.reject(e);
    },
  };
}

const flush = (): Promise<void> => new Promise((r) => setImmediate(r));

function task<T>(clock: FakeClock, opts: Partial<CoalescedTaskOptions<T>> & Pick<CoalescedTaskOptions<T>, "run">) {
  return new CoalescedTask<T>({intervalMs: null, clock, ...opts});
}

describe("FakeClock", () => {
  it("fires timers in due order as it advances, including ones they set, and never early", async () => {
    const clock = new FakeClock(1_000);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => {
      fired.push(`a@${clock.now()}`);
      clock.setTimeout(() => fired.push(`c@${clock.now()}`), 5);
    }, 10);
    const cleared = clock.setTimeout(() => fired.push("never"), 15);
    clock.clearTimeout(cleared);
    await clock.advance(9);
    expect(fired).toEqual([]);
    await clock.advance(11);
    expect(fired).toEqual(["a@1010", "c@1015", "b@1020"]);
    expect(clock.now()).toBe(1_020);
    expect(clock.pending).toBe(0);
  });
});

describe("backoffDelayMs and jittered", () => {
  it("grow by the factor from the initial delay up to the cap, and spread within ± the fraction", () => {
    const b = {initialMs: 1_000, factor: 3, maxMs: 20_000};
    expect([1, 2, 3, 4, 5, 50].map((n) => backoffDelayMs(b, n))).toEqual([1_000, 3_000, 9_000, 20_000, 20_000, 20_000]);
    expect(backoffDelayMs({initialMs: 5, maxMs: 100}, 3)).toBe(20); // factor 2 by default
    expect(backoffDelayMs({initialMs: 5, maxMs: 100}, 5_000)).toBe(100); // no overflow past the cap
    expect(jittered(1_000, 0.1, 0)).toBe(900);
    expect(jittered(1_000, 0.1, 0.5)).toBe(1_000);
    expect(jittered(1_000, 0.1, 0.999_999)).toBe(1_100);
    expect(jittered(1_000, 0, 0.3)).toBe(1_000);
  });
});

describe("CoalescedTask", () => {
  it("runs one pass at a time and coalesces any number of triggers during a pass into one rerun", async () => {
    const clock = new FakeClock();
    const p = manualPasses<void>();
    const t = task(clock, {run: p.run});
    t.trigger();
    expect(p.runs).toBe(1); // at once, not on a timer
    t.trigger();
    t.trigger();
    t.schedule(500);
    expect(p.runs).toBe(1);
    p.finish();
    await flush();
    expect(p.runs).toBe(2); // the rerun, right after
    p.finish();
    await flush();
    expect(p.runs).toBe(2); // no interval: nothing more
    expect(clock.pending).toBe(0);
  });

  it("run() joins the running pass and returns its result; on its own it does not start the loop", async () => {
    const clock = new FakeClock();
    const p = manualPasses<number>();
    const t = task(clock, {run: p.run, intervalMs: 1_000});
    const a = t.run();
    const b = t.run();
    expect(p.runs).toBe(1);
    p.finish(7);
    expect(await a).toBe(7);
    expect(await b).toBe(7);
    expect(clock.pending).toBe(0);
  });

  it("schedule() replaces the pending wait and runs when the clock reaches it", async () => {
    const clock = new FakeClock();
    const p = manualPasses<void>();
    const t = task(clock, {run: p.run});
    t.schedule(1_000);
    t.schedule(300);
    await clock.advance(299);
    expect(p.runs).toBe(0);
    await clock.advance(1);
    expect(p.runs).toBe(1);
    p.finish();
    await clock.advance(5_000);
    expect(p.runs).toBe(1);
  });

  it("runs again every interval after the end of a pass, with the jitter within its bounds", async () => {
    const clock = new FakeClock();
    const p = manualPasses<void>();
    const draws = [0, 0.999_999, 0.5];
    const t = task(clock, {run: p.run, intervalMs: 10_000, jitter: 0.1, random: () => draws.shift() ?? 0.5});
    t.trigger();
    await clock.advance(50); // the pass takes 50 ms: the interval counts from its end
    p.finish();
    await flush();
    // Draw 0: 9,000 ms, the lower bound.
    await clock.advance(8_999);
    expect(p.runs).toBe(1);
    await clock.advance(1);
    expect(p.runs).toBe(2);
    p.finish();
    // Draw ~1: 11,000 ms, the upper bound.
    await clock.advance(10_999);
    expect(p.runs).toBe(2);
    await clock.advance(1);
    expect(p.runs).toBe(3);
    p.finish();
    await t.close();
    expect(clock.pending).toBe(0);
  });

  it("backs off exponentially after consecutive failures up to the cap, and returns to the interval after a success", async () => {
    const clock = new FakeClock();
    const starts: number[] = [];
    let failing = true;
    const t = task<boolean>(clock, {
      run: () => {
        starts.push(clock.now());
        return Promise.resolve(failing);
      },
      failed: (f) => f,
      intervalMs: 60_000,
      backoff: {initialMs: 1_000, factor: 2, maxMs: 5_000},
    });
    t.trigger();
    await clock.advance(1_000 + 2_000 + 4_000 + 5_000 + 5_000);
    expect(starts).toEqual([0, 1_000, 3_000, 7_000, 12_000, 17_000]);
    expect(t.failures).toBe(6);
    failing = false;
    await clock.advance(5_000); // this pass succeeds
    expect(t.failures).toBe(0);
    await clock.advance(59_999);
    expect(starts).toHaveLength(7);
    await clock.advance(1);
    expect(starts.at(-1)).toBe(22_000 + 60_000);
    failing = true;
    await clock.advance(60_000 + 1_000); // fails at 142 s; the first back-off again
    expect(starts.slice(-2)).toEqual([142_000, 143_000]);
    await t.close();
  });

  it("jitters the back-off only when asked to", async () => {
    const clock = new FakeClock();
    const starts: number[] = [];
    let draws = 0;
    const random = (): number => {
      draws++;
      return 0;
    };
    const t = task<boolean>(clock, {
      run: () => {
        starts.push(clock.now());
        return Promise.resolve(true);
      },
      failed: () => true,
      intervalMs: 60_000,
      jitter: 0.1,
      backoff: {initialMs: 1_000, maxMs: 8_000, jitter: 0.5},
      random,
    });
    t.trigger();
    await clock.advance(500 + 1_000);
    expect(starts).toEqual([0, 500, 1_500]); // 1,000 and 2,000 at the lower bound
    expect(draws).toBe(3);
    await t.close();
    const plain = task<boolean>(clock, {run: () => Promise.resolve(true), failed: () => true, intervalMs: 60_000, jitter: 0.1, backoff: {initialMs: 1_000, maxMs: 8_000}, random});
    draws = 0;
    plain.trigger();
    await clock.advance(10_000);
    expect(draws).toBe(0);
    await plain.close();
  });

  it("counts a pass that throws as a failure, reports it, and lets no rejection escape", async () => {
    const clock = new FakeClock();
    const errors: unknown[] = [];
    const unhandled: unknown[] = [];
    const onUnhandled = (r: unknown): void => void unhandled.push(r);
    process.on("unhandledRejection", onUnhandled);
    try {
      let n = 0;
      const t = task<void>(clock, {
        run: () => {
          n++;
          if (n === 1) throw new Error("sync throw");
          return Promise.reject(new Error(`async ${n}`));
        },
        intervalMs: 60_000,
        backoff: {initialMs: 100, maxMs: 1_000},
        onError: (e) => errors.push((e as Error).message),
      });
      t.trigger();
      await clock.advance(100 + 200);
      expect(errors).toEqual(["sync throw", "async 2", "async 3"]);
      expect(t.failures).toBe(3);
      await expect(t.run()).rejects.toThrow("async 4");
      await t.close();
      await flush();
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
  });

  it("close() during a pass waits for it, cancels the timers and the rerun, and ignores later triggers", async () => {
    const clock = new FakeClock();
    const p = manualPasses<void>();
    const t = task(clock, {run: p.run, intervalMs: 1_000});
    t.trigger();
    t.trigger(); // a rerun is due
    let closed = false;
    const closing = t.close().then(() => (closed = true));
    expect(t.closed).toBe(true);
    await flush();
    expect(closed).toBe(false);
    p.finish();
    await closing;
    expect(p.runs).toBe(1);
    expect(clock.pending).toBe(0);
    t.trigger();
    t.schedule(0);
    await clock.advance(10_000);
    expect(p.runs).toBe(1);
  });

  it("close() while waiting clears the timer; close() of a failing pass resolves", async () => {
    const clock = new FakeClock();
    const p = manualPasses<void>();
    const t = task(clock, {run: p.run, intervalMs: 1_000});
    t.schedule(500);
    expect(clock.pending).toBe(1);
    await t.close();
    expect(clock.pending).toBe(0);
    const u = task(clock, {run: p.run});
    u.trigger();
    const closing = u.close();
    p.fail(new Error("boom"));
    await expect(closing).resolves.toBeUndefined();
  });
});
