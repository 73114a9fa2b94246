/**
 * Small helpers shared by the HTTP benchmark (`npm run bench`): statistics, env knobs, the
 * JSON-lines protocol between the orchestrator and its child processes.
 */
/** Median of a list (the lower middle for even lengths); 0 for an empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
}

/** Nearest-rank percentile of an ascending-sorted list; 0 for an empty list. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] ?? 0;
}

/** Rounds to `digits` decimals. */
export function round(value: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** A positive number from the environment, or `fallback` (invalid values throw, naming the variable). */
export function envNumber(name: string, fallback: number, env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, got "${raw}"`);
  return value;
}

/** `1234567` → `"1,234,567"`. */
export function formatInt(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

/**
 * Lines a child process writes on stdout for the orchestrator: `{"type": …, …}` JSON, one per line.
 * Anything else on stdout (e.g. the CLI's "listening on" line) is matched by the reader itself.
 */
export interface ChildMessage {
  type: string;
  [key: string]: unknown;
}

export function writeMessage(message: ChildMessage): void {
  process.stdout.write(`${JSON.stringify(message)}\n`);
}

export function parseMessage(line: string): ChildMessage | null {
  if (!line.startsWith("{")) return null;
  try {
    const value = JSON.parse(line) as unknown;
    if (typeof value === "object" && value !== null && typeof (value as {type?: unknown}).type === "string") {
      return value as ChildMessage;
    }
  } catch {
    // not one of ours
  }
  return null;
}
