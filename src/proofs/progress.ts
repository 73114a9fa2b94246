/**
 * What an operator sees of a running refresh (RefreshProgress): periodic log records and the
 * `/health` facts, so a node answering challenges with 503 tells how long it will take.
 */
import type {RefreshProgress} from "./refresh.js";

export interface ProgressFacts {
  readonly full: boolean;
  readonly phase: RefreshProgress["phase"];
  readonly done: number;
  readonly total: number;
  /** done / total, in percent (one decimal). */
  readonly percent: number;
  readonly messagesRead: number;
  readonly messagesPerSecond: number;
  readonly elapsedSeconds: number;
  /** At the rate so far; null before any work is done. */
  readonly etaSeconds: number | null;
}

const oneDecimal = (v: number): number => Math.round(v * 10) / 10;

export function progressFacts(p: RefreshProgress): ProgressFacts {
  const seconds = p.elapsedMs / 1000;
  const rate = seconds > 0 ? p.done / seconds : 0;
  const etaSeconds = rate > 0 ? oneDecimal((p.total - p.done) / rate) : null;
  return {
    full: p.full,
    phase: p.phase,
    done: p.done,
    total: p.total,
    percent: p.total === 0 ? 100 : oneDecimal((100 * p.done) / p.total),
    messagesRead: p.messages,
    messagesPerSecond: seconds > 0 ? Math.round(p.messages / seconds) : 0,
    elapsedSeconds: oneDecimal(seconds),
    etaSeconds,
  };
}
