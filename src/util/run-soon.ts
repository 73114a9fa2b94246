/**
 * Runs `fn` once, after `delayMs` ms, or at the end of this event-loop turn (setImmediate) when
 * `delayMs` is 0; returns how to cancel it. Each kind is cleared by its own function:
 * clearImmediate on a Timeout corrupts Node's timer lists (the group commit's delay did, 960f677).
 */
export function runSoon(fn: () => void, delayMs: number): () => void {
  if (delayMs > 0) {
    const timeout = setTimeout(fn, delayMs);
    return () => clearTimeout(timeout);
  }
  const immediate = setImmediate(fn);
  return () => clearImmediate(immediate);
}
