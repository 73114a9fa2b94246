/**
 * `membership.source = "static"`: a membership document in a local file, reloaded when it changes.
 *
 * Change detection has two layers, because `fs.watch` is best effort (network file systems,
 * some container volumes and editors that replace files can miss or break notifications):
 *   1. `fs.watch` on the file's folder (not the file: a rename-replace swaps the inode, and the
 *      file may not exist yet), filtered by name and debounced;
 *   2. a `stat` every `checkIntervalMs` comparing inode, size, mtime and ctime.
 * Either one triggers a read; a document identical to the last one emitted is not emitted again.
 * Reads are serialised, so a burst of changes costs at most one extra read.
 */
import {createHash} from "node:crypto";
import type {Logger} from "../../util/index.js";
import {EventEmitter} from "node:events";
import {watch, type FSWatcher} from "node:fs";
import {readFile, stat} from "node:fs/promises";
import path from "node:path";
import {InvalidArgumentError} from "../../util/index.js";
import {clockTimers, systemClock, type Clock, type ClockTimers, type TimerHandle} from "../../util/index.js";
import {CoalescedTask} from "../../util/index.js";
import {MEMBERSHIP_MAX_DOCUMENT_BYTES, type MembershipSource, type MembershipSourceEvents} from "./source.js";

/** Coalesces a burst of notifications (write, then rename, then chmod) into one read. */
const WATCH_DEBOUNCE_MS = 25;

export interface StaticFileSourceOptions {
  /** Absolute path of the membership document. */
  readonly path: string;
  /** How often the file is `stat`ed besides change notifications. */
  readonly checkIntervalMs: number;
  /** Larger files are refused (default MEMBERSHIP_MAX_DOCUMENT_BYTES). */
  readonly maxBytes?: number;
  /** false: periodic checks only, no `fs.watch` (default true). */
  readonly watch?: boolean;
}

export interface StaticFileSourceModules {
  readonly logger: Logger;
  /** Drives the periodic check and the debounce (default the system clock). */
  readonly clock?: Clock;
}

export class StaticFileSource extends EventEmitter<MembershipSourceEvents> implements MembershipSource {
  readonly description: string;
  readonly #opts: Required<StaticFileSourceOptions>;
  readonly #logger: Logger;
  readonly #timers: ClockTimers;
  /** Reads are serialised; the periodic check is the task's interval. */
  readonly #task: CoalescedTask<void>;
  #watcher: FSWatcher | null = null;
  #debounce: TimerHandle | null = null;
  /** Inode/size/times seen by the last refresh; null = re-read on the next check. */
  #fingerprint: string | null = null;
  /** SHA-256 of the last document emitted. */
  #lastHash: string | null = null;
  #forceNext = false;
  #closed = false;

  constructor(opts: StaticFileSourceOptions, modules: StaticFileSourceModules) {
    super();
    if (!path.isAbsolute(opts.path)) throw new InvalidArgumentError(`membership file must be an absolute path, got ${opts.path}`);
    if (!Number.isSafeInteger(opts.checkIntervalMs) || opts.checkIntervalMs < 1) {
      throw new InvalidArgumentError("checkIntervalMs must be a positive integer");
    }
    this.#opts = {maxBytes: MEMBERSHIP_MAX_DOCUMENT_BYTES, watch: true, ...opts};
    this.#logger = modules.logger;
    this.description = `static file ${opts.path}`;
    const clock = modules.clock ?? systemClock;
    this.#timers = clockTimers(clock);
    this.#task = new CoalescedTask({run: () => this.#next(), intervalMs: this.#opts.checkIntervalMs, clock});
  }

  start(): void {
    if (this.#opts.watch) this.#watch();
    this.#trigger(true);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#watcher?.close();
    this.#watcher = null;
    if (this.#debounce !== null) this.#timers.clearTimeout(this.#debounce);
    await this.#task.close();
  }

  #watch(): void {
    const dir = path.dirname(this.#opts.path);
    const name = path.basename(this.#opts.path);
    try {
      this.#watcher = watch(dir, {persistent: false}, (_event, changed) => {
        if (changed === null || changed === name) this.#debounced();
      });
      this.#watcher.on("error", (err) => {
        this.#logger.warn({dir, err: err.message}, "membership file watch failed; relying on periodic checks");
        this.#watcher?.close();
        this.#watcher = null;
      });
    } catch (err) {
      const reason = (err as Error).message;
      this.#logger.warn({dir, err: reason, checkIntervalMs: this.#opts.checkIntervalMs}, "cannot watch the membership file's folder; relying on periodic checks");
    }
  }

  #debounced(): void {
    if (this.#closed) return;
    if (this.#debounce !== null) this.#timers.clearTimeout(this.#debounce);
    this.#debounce = this.#timers.setTimeout(() => this.#trigger(true), WATCH_DEBOUNCE_MS);
  }

  /** Runs a refresh now, or once more after the one in progress. */
  #trigger(force: boolean): void {
    if (this.#closed) return;
    this.#forceNext ||= force;
    this.#task.trigger();
  }

  /** A refresh, forced if a trigger since the last one asked for it. */
  #next(): Promise<void> {
    const force = this.#forceNext;
    this.#forceNext = false;
    return this.#refresh(force);
  }

  async #refresh(force: boolean): Promise<void> {
    const file = this.#opts.path;
    try {
      const info = await statOrNull(file);
      const fingerprint = info === null ? "missing" : `${info.ino}:${info.size}:${info.mtimeMs}:${info.ctimeMs}`;
      if (!force && fingerprint === this.#fingerprint) return;
      this.#fingerprint = fingerprint;
      if (info === null) return this.#fail("membership file not found");
      if (info.size > this.#opts.maxBytes) return this.#fail(`membership file is larger than ${this.#opts.maxBytes} bytes`);
      const text = await readFile(file, "utf8");
      const hash = createHash("sha256").update(text).digest("hex");
      if (this.#closed || hash === this.#lastHash) return;
      this.#lastHash = hash;
      this.emit("document", {text, origin: file});
    } catch (err) {
      this.#fingerprint = null; // retry on the next check
      this.#fail(`cannot read membership file: ${(err as Error).message}`);
    }
  }

  #fail(reason: string): void {
    if (!this.#closed) this.emit("failure", {origin: this.#opts.path, reason});
  }
}

async function statOrNull(file: string): Promise<{ino: number; size: number; mtimeMs: number; ctimeMs: number} | null> {
  try {
    return await stat(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}
