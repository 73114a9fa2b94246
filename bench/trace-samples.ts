/**
 * The samples of the in-node traces (stage-trace.ts, store-trace.ts, retrieve-trace.ts) and their
 * summaries. A module of its own, without side effects: importing a trace module installs its
 * trace, so the traces cannot share code by importing each other.
 */

export type Summary = {n: number; p50: number; p90: number; p99: number; max: number; mean: number};

/** Values recorded per stage, in arrival order. */
export class StageSamples {
  readonly #byStage = new Map<string, number[]>();

  record(stage: string, value: number): void {
    let list = this.#byStage.get(stage);
    if (list === undefined) this.#byStage.set(stage, (list = []));
    list.push(value);
  }

  /** Every stage's summary, values rounded to `decimals`. */
  summaries(decimals = 2): Record<string, Summary> {
    const out: Record<string, Summary> = {};
    for (const [stage, list] of this.#byStage) out[stage] = summarize(list, decimals);
    return out;
  }
}

/** Count, nearest-rank p50 / p90 / p99, max and mean of `values`, rounded to `decimals`. */
export function summarize(values: readonly number[], decimals = 2): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  const scale = 10 ** decimals;
  const round = (x: number): number => Math.round(x * scale) / scale;
  const mean = sorted.reduce((s, x) => s + x, 0) / Math.max(1, sorted.length);
  return {n: sorted.length, p50: round(at(0.5)), p90: round(at(0.9)), p99: round(at(0.99)), max: round(at(1)), mean: round(mean)};
}
