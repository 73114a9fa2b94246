/**
 * Feeds the network view: every `pollIntervalMs` (±10 %), and at once when the membership
 * changes, fetches the newest StorageProof of every other membership node, at most `concurrency`
 * at a time, each bounded by `requestTimeoutMs`. Rounds never overlap. A node that fails to answer
 * keeps the proof already held (it ages out by the activity rule); a bad answer is logged, never
 * thrown. After a round in which some fetch failed (typically nodes that are starting and have no
 * proof yet: 503), the next round comes sooner, 5 s then doubling up to the interval, so a fresh
 * network's view fills in seconds rather than a whole interval, while a node that stays down costs
 * only a few extra rounds.
 */
import type {Clock} from "../util/index.js";
import {CoalescedTask} from "../util/index.js";
import type {LatestProofFetcher} from "./proof-fetch.js";
import type {OfferResult} from "./proof-view.js";

export interface ProofPollerOptions {
  readonly pollIntervalMs: number;
  readonly requestTimeoutMs: number;
  readonly concurrency: number;
}

export interface PollTarget {
  /** The node to poll; the peer client finds its address in the membership. */
  readonly nodeId: string;
}

export interface PollerLogger {
  debug(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface ProofPollerModules {
  /** Nodes to poll now (the membership without us). */
  readonly targets: () => readonly PollTarget[];
  readonly fetch: LatestProofFetcher;
  /** Hands a fetched body to the view. */
  readonly offer: (nodeId: string, body: unknown) => OfferResult;
  readonly logger: PollerLogger;
  /** Jitter source, [0, 1). Default Math.random. */
  readonly random?: () => number;
  /** Drives the round timers (default the system clock). */
  readonly clock?: Clock;
}

/** First catch-up delay after a round with failures; doubled per further such round. */
export const CATCH_UP_FIRST_MS = 5_000;

export interface RoundStats {
  polled: number;
  accepted: number;
  kept: number;
  rejected: number;
  failed: number;
}

export class ProofPoller {
  readonly #opts: ProofPollerOptions;
  readonly #m: ProofPollerModules;
  readonly #closing = new AbortController();
  /** Last rejection reason per node: a repeated one is logged at debug, not warn. */
  readonly #lastRejection = new Map<string, string>();
  readonly #task: CoalescedTask<RoundStats>;

  constructor(opts: ProofPollerOptions, modules: ProofPollerModules) {
    this.#opts = opts;
    this.#m = modules;
    const interval = opts.pollIntervalMs;
    this.#task = new CoalescedTask({
      run: () => this.#run(),
      failed: (stats) => stats.failed > 0,
      intervalMs: interval,
      jitter: 0.1,
      backoff: {initialMs: CATCH_UP_FIRST_MS, factor: 2, maxMs: interval, jitter: 0.1},
      ...(modules.clock === undefined ? {} : {clock: modules.clock}),
      ...(modules.random === undefined ? {} : {random: modules.random}),
    });
  }

  /** Polls now, then every interval. */
  start(): void {
    this.poke();
  }

  /** A round as soon as possible (after the running one, if any). */
  poke(): void {
    this.#task.trigger();
  }

  /** One round over every target (public for tests); joins the running round if there is one. */
  round(): Promise<RoundStats> {
    return this.#task.run();
  }

  async close(): Promise<void> {
    this.#closing.abort();
    await this.#task.close();
  }

  async #run(): Promise<RoundStats> {
    const targets = this.#m.targets();
    const stats: RoundStats = {polled: 0, accepted: 0, kept: 0, rejected: 0, failed: 0};
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < targets.length && !this.#closing.signal.aborted) await this.#pollOne(targets[next++]!, stats);
    };
    await Promise.all(Array.from({length: Math.min(this.#opts.concurrency, targets.length)}, worker));
    const current = new Set(targets.map((t) => t.nodeId));
    for (const id of [...this.#lastRejection.keys()]) if (!current.has(id)) this.#lastRejection.delete(id);
    this.#m.logger.debug({...stats}, "network view round done");
    return stats;
  }

  async #pollOne(target: PollTarget, stats: RoundStats): Promise<void> {
    stats.polled++;
    let body: unknown;
    try {
      body = await this.#m.fetch(target.nodeId, this.#opts.requestTimeoutMs, this.#closing.signal);
    } catch (err) {
      stats.failed++;
      this.#m.logger.debug({node: target.nodeId, err: err instanceof Error ? err.message : String(err)}, "could not fetch a node's storage proof");
      return;
    }
    const result = this.#m.offer(target.nodeId, body);
    if (result.kind !== "rejected") {
      stats[result.kind]++;
      this.#lastRejection.delete(target.nodeId);
      return;
    }
    stats.rejected++;
    const repeated = this.#lastRejection.get(target.nodeId) === result.reason;
    this.#lastRejection.set(target.nodeId, result.reason);
    this.#m.logger[repeated ? "debug" : "warn"]({node: target.nodeId, reason: result.reason}, "storage proof from a node rejected");
  }
}
