/** Time source; injected everywhere TTL or timestamp logic runs so tests can move time. */
export interface Clock {
  /** Unix epoch milliseconds. */
  now(): number;
  /**
   * Runs `fn` after `ms` of this clock's time; background loops schedule through it (see
   * clockTimers) so a FakeClock drives them. Absent: the runtime's timers, in real time.
   */
  setTimeout?(fn: () => void, ms: number): TimerHandle;
  clearTimeout?(handle: TimerHandle): void;
}

/** Opaque; only the clock that returned it can clear it. */
export type TimerHandle = object | number;

export interface ClockTimers {
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** Real timers, unref'd: a background loop never keeps the process alive on its own. */
const realTimers: ClockTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** The clock's timers, or the runtime's (unref'd) when it has none, e.g. a ManualClock. */
export function clockTimers(clock: Clock): ClockTimers {
  if (clock.setTimeout === undefined || clock.clearTimeout === undefined) return realTimers;
  const own = clock as Required<Clock>;
  return {setTimeout: (fn, ms) => own.setTimeout(fn, ms), clearTimeout: (handle) => own.clearTimeout(handle)};
}

export const systemClock: Clock = {now: () => Date.now(), ...realTimers};

/** A clock tests can set and advance. Its timers are real ones: only `now()` is manual. */
export class ManualClock implements Clock {
  constructor(private ms: number = Date.now()) {}
  now(): number {
    return this.ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
  advance(ms: number): void {
    this.ms += ms;
  }
}

/**
 * A clock whose timers fire only as a test advances it, in due order, each followed by a turn
 * of the event loop so the promise chains it started settle. No real time passes.
 */
export class FakeClock implements Clock {
  #ms: number;
  #seq = 0;
  readonly #timers = new Map<number, {at: number; fn: () => void}>();

  constructor(ms = 0) {
    this.#ms = ms;
  }

  now(): number {
    return this.#ms;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = ++this.#seq;
    this.#timers.set(id, {at: this.#ms + Math.max(0, ms), fn});
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as number);
  }

  /** Timers not yet fired or cleared. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Moves time forward by `ms`, firing every timer due on the way (including ones they set). */
  async advance(ms: number): Promise<void> {
    const target = this.#ms + ms;
    await settle(); // what ran before this call may still be setting timers
    for (let next = this.#due(target); next !== null; next = this.#due(target)) {
      const [id, timer] = next;
      this.#timers.delete(id);
      this.#ms = Math.max(this.#ms, timer.at);
      timer.fn();
      await settle();
    }
    this.#ms = target;
    await settle();
  }

  /** The earliest timer due by `target` (first set first on a tie). */
  #due(target: number): [number, {at: number; fn: () => void}] | null {
    let best: [number, {at: number; fn: () => void}] | null = null;
    for (const entry of this.#timers) if (entry[1].at <= target && (best === null || entry[1].at < best[1].at)) best = entry;
    return best;
  }
}

/** One turn of the event loop: every pending promise reaction runs first. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
