const SECOND_MS = 1000;
const MIB = 1024 * 1024;

/** A burst of bodies this large is worth a full GC once it is over (a normal request is < 1 MiB). */
export const RELEASE_AFTER_BYTES = 32 * MIB;
/** Wait this long after the last body was released: sockets of the same burst are still closing. */
export const RELEASE_DELAY_MS = 1 * SECOND_MS;
/** At most one forced GC per this long, however often bursts end (a full GC stops the loop ~10-50 ms). */
export const RELEASE_MIN_INTERVAL_MS = 30 * SECOND_MS;

export interface MemoryReleaseOptions {
  delayMs: number;
  minIntervalMs: number;
}

export interface MemoryReleaseModules {
  /** A full GC (`loadGc()`); null = nothing to do. */
  gc: (() => void) | null;
  now: () => number;
  logger: {debug(obj: object, msg?: string): void};
}

/**
 * Frees request bodies after a burst. Body Buffers live outside V8's heap (ArrayBuffer backing
 * stores) and are freed only when V8 collects their wrappers; an idle node may not run a full GC
 * for minutes, so after an attack RSS stayed at its peak (~130 MiB of dead bodies). One full GC,
 * once the budget has drained, hands that memory back to the allocator (docs/configuration.md,
 * "HTTP hardening"). Debounced: at most once per `minIntervalMs`, and a burst that ends inside
 * that window is collected at its end, so the last burst is always collected.
 */
export class MemoryRelease {
  #timer: NodeJS.Timeout | null = null;
  #lastAt = Number.NEGATIVE_INFINITY;
  #peakBytes = 0;
  #runs = 0;

  constructor(
    private readonly opts: MemoryReleaseOptions,
    private readonly m: MemoryReleaseModules,
  ) {}

  /** The bodies of a burst that held `peakBytes` at most have all been released. */
  drained(peakBytes: number): void {
    if (this.m.gc === null) return;
    this.#peakBytes = Math.max(this.#peakBytes, peakBytes);
    if (this.#timer !== null) return;
    const at = Math.max(this.m.now() + this.opts.delayMs, this.#lastAt + this.opts.minIntervalMs);
    this.#timer = setTimeout(() => this.#run(), at - this.m.now());
    this.#timer.unref();
  }

  /** Forced GCs so far (tests, /health). */
  get runs(): number {
    return this.#runs;
  }

  close(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #run(): void {
    this.#timer = null;
    this.#lastAt = this.m.now();
    this.#runs += 1;
    const before = process.memoryUsage();
    this.m.gc?.();
    const after = process.memoryUsage();
    this.m.logger.debug(
      {peakBodyBytes: this.#peakBytes, tookMs: this.m.now() - this.#lastAt, rssBefore: before.rss, rssAfter: after.rss, arrayBuffersBefore: before.arrayBuffers, arrayBuffersAfter: after.arrayBuffers},
      "request bodies released: full GC",
    );
    this.#peakBytes = 0;
  }
}
