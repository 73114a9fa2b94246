/**
 * Progress of a long CLI operation (a devnet start, an audit) on stderr. On a terminal it is one
 * line rewritten in place; otherwise (a log file, journald, a pipe) it is a line per change of
 * phase and, while a phase lasts, one every `intervalMs`, so a log shows the operation is alive
 * without a line per node or per poll. stdout stays for results.
 */
import type {CliIo} from "./io.js";

/** How often a non-terminal repeats the current state while nothing else is printed. */
export const PROGRESS_INTERVAL_MS = 5_000;

export interface ProgressOptions {
  /** Prefix of every line, e.g. `devnet`. */
  readonly label: string;
  readonly intervalMs?: number;
}

export interface ProgressModules {
  readonly io: Pick<CliIo, "stderr" | "stderrTty">;
  readonly now?: () => number;
  /** Repeats `fn` every `ms` until the returned function is called (tests pass a manual one). */
  readonly every?: (fn: () => void, ms: number) => () => void;
}

const realEvery = (fn: () => void, ms: number): (() => void) => {
  const timer = setInterval(fn, ms);
  timer.unref();
  return () => clearInterval(timer);
};

export class Progress {
  readonly #label: string;
  readonly #intervalMs: number;
  readonly #io: ProgressModules["io"];
  readonly #now: () => number;
  readonly #startedAt: number;
  #phase = "";
  #detail = "";
  #lastPrintAt = -Infinity;
  #stop: (() => void) | null = null;
  #finished = false;

  constructor(opts: ProgressOptions, modules: ProgressModules) {
    this.#label = opts.label;
    this.#intervalMs = opts.intervalMs ?? PROGRESS_INTERVAL_MS;
    this.#io = modules.io;
    this.#now = modules.now ?? Date.now;
    this.#startedAt = this.#now();
    // Checked every second (the terminal's elapsed time moves); a non-terminal prints once intervalMs passed quietly.
    this.#stop = (modules.every ?? realEvery)(() => this.#tick(), Math.min(1_000, this.#intervalMs));
  }

  get #tty(): NonNullable<CliIo["stderrTty"]> | null {
    return this.#io.stderrTty ?? null;
  }

  /**
   * The operation's state: `phase` (e.g. `starting nodes`) and a detail that changes within it
   * (`2/6 listening`). A new phase is always printed; a new detail on a non-terminal only once
   * `intervalMs` passed since the last line.
   */
  update(phase: string, detail = ""): void {
    if (this.#finished) return;
    const newPhase = phase !== this.#phase;
    this.#phase = phase;
    this.#detail = detail;
    if (this.#tty !== null || newPhase || this.#now() - this.#lastPrintAt >= this.#intervalMs) this.#print();
  }

  /**
   * Ends the progress: clears the terminal line, then prints `summary` (if any) as an ordinary
   * line. Later calls, and updates after it (a start that lost a race to Ctrl-C), print nothing.
   */
  done(summary?: string): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#stop?.();
    this.#stop = null;
    if (this.#tty !== null) this.#tty.write("\r\x1b[2K");
    if (summary !== undefined) this.#io.stderr(`pars-storage: ${this.#label}: ${summary} (${this.#elapsed()})`);
  }

  #tick(): void {
    if (this.#phase === "") return;
    if (this.#tty !== null || this.#now() - this.#lastPrintAt >= this.#intervalMs) this.#print();
  }

  #elapsed(): string {
    return `${((this.#now() - this.#startedAt) / 1000).toFixed(1)} s`;
  }

  #print(): void {
    this.#lastPrintAt = this.#now();
    const text = `${this.#label}: ${this.#phase}${this.#detail === "" ? "" : ` ${this.#detail}`} (${this.#elapsed()})`;
    const tty = this.#tty;
    if (tty === null) {
      this.#io.stderr(`pars-storage: ${text}`);
      return;
    }
    // One line, cut to the terminal's width so it never wraps (a wrapped line cannot be rewritten).
    tty.write(`\r\x1b[2K${text.slice(0, Math.max(10, tty.columns - 1))}`);
  }
}
