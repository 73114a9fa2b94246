/**
 * The scheduling primitive under every background loop (anti-entropy, relocation, proof polling,
 * membership sources). One pass runs at a time; a trigger during a pass runs exactly one more
 * pass right after it, however many triggers came (the pass may have read its inputs before the
 * change that triggered). After a pass the next one is due in `intervalMs` ± jitter, or, after
 * consecutive failed passes, after an exponential back-off. close() stops the timers and waits for
 * the running pass. Timers go through the injected Clock, so tests drive them with a FakeClock
 * instead of sleeping; a pass that throws counts as a failure and never escapes as an unhandled
 * rejection.
 */
import {clockTimers, systemClock, type Clock, type ClockTimers, type TimerHandle} from "./clock.js";

export interface Backoff {
  /** Delay after the first failure. */
  readonly initialMs: number;
  /** Growth per further consecutive failure (default 2). */
  readonly factor?: number;
  /** Cap of the delay. */
  readonly maxMs: number;
}

/** Delay after `failures` consecutive failures (1 = the first): initial × factor^(failures-1), capped. */
export function backoffDelayMs(b: Backoff, failures: number): number {
  return Math.round(Math.min(b.maxMs, b.initialMs * (b.factor ?? 2) ** Math.max(0, failures - 1)));
}

/** `ms` spread uniformly over ± `fraction` of itself by `u` ∈ [0, 1), rounded. */
export function jittered(ms: number, fraction: number, u: number): number {
  return Math.round(ms * (1 - fraction + 2 * fraction * u));
}

export interface CoalescedTaskOptions<T> {
  /** One pass. */
  readonly run: () => Promise<T>;
  /** Whether a pass that completed failed (default: never); a pass that throws always has. */
  readonly failed?: (result: T) => boolean;
  /** From the end of a successful pass to the next; null: passes run only when triggered. */
  readonly intervalMs: number | null;
  /** ± fraction of the interval, drawn anew for each wait (default 0). */
  readonly jitter?: number;
  /** After failed passes instead of the interval (default: the interval, or nothing without one). */
  readonly backoff?: Backoff & {readonly jitter?: number};
  /** A pass threw (default: ignored). */
  readonly onError?: (err: unknown) => void;
  readonly clock?: Clock;
  /** Jitter source, [0, 1) (default Math.random). */
  readonly random?: () => number;
}

export class CoalescedTask<T> {
  readonly #o: CoalescedTaskOptions<T>;
  readonly #timers: ClockTimers;
  #timer: TimerHandle | null = null;
  #running: Promise<T> | null = null;
  #again = false;
  #failures = 0;
  /** Set by the first trigger or schedule: only then do passes arm the next one. */
  #looping = false;
  #closed = false;

  constructor(opts: CoalescedTaskOptions<T>) {
    this.#o = opts;
    this.#timers = clockTimers(opts.clock ?? systemClock);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Consecutive failed passes so far (0 after a successful one). */
  get failures(): number {
    return this.#failures;
  }

  /** A pass now, or one more right after the running one. */
  trigger(): void {
    if (this.#closed) return;
    this.#looping = true;
    if (this.#running !== null) this.#again = true;
    else void this.#start();
  }

  /** A pass in `delayMs` (replacing the pending wait), or one more right after the running one. */
  schedule(delayMs: number): void {
    if (this.#closed) return;
    this.#looping = true;
    if (this.#running !== null) {
      this.#again = true;
      return;
    }
    this.#arm(delayMs);
  }

  /**
   * The running pass's result, or that of a pass started now (it rejects if the pass throws). On
   * its own it does not start the loop: without a trigger or schedule, no pass follows.
   */
  run(): Promise<T> {
    if (this.#running !== null) return this.#running;
    return this.#start();
  }

  /** Stops the timers and waits for the running pass; later triggers do nothing. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#disarm();
    await this.#running?.catch(() => undefined);
  }

  #start(): Promise<T> {
    this.#disarm();
    const run = this.#o.run;
    const pass = (this.#running = (async () => run())()); // a synchronous throw becomes a rejection
    pass.then(
      (result) => this.#after(this.#o.failed?.(result) ?? false),
      (err: unknown) => {
        this.#o.onError?.(err);
        this.#after(true);
      },
    );
    return pass;
  }

  #after(failed: boolean): void {
    this.#running = null;
    this.#failures = failed ? this.#failures + 1 : 0;
    if (this.#closed) return;
    if (this.#again) {
      this.#again = false;
      void this.#start();
      return;
    }
    const delay = this.#looping ? this.#nextDelay() : null;
    if (delay !== null) this.#arm(delay);
  }

  #nextDelay(): number | null {
    const {intervalMs, backoff} = this.#o;
    if (this.#failures > 0 && backoff !== undefined) return this.#spread(backoffDelayMs(backoff, this.#failures), backoff.jitter ?? 0);
    return intervalMs === null ? null : this.#spread(intervalMs, this.#o.jitter ?? 0);
  }

  /** Draws from `random` only when there is jitter, so an injected sequence stays predictable. */
  #spread(ms: number, fraction: number): number {
    return fraction === 0 ? ms : jittered(ms, fraction, (this.#o.random ?? Math.random)());
  }

  #arm(delayMs: number): void {
    this.#disarm();
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = null;
      if (!this.#closed && this.#running === null) void this.#start();
    }, delayMs);
  }

  #disarm(): void {
    if (this.#timer !== null) this.#timers.clearTimeout(this.#timer);
    this.#timer = null;
  }
}
