/**
 * Anti-entropy (docs/PROTOCOL.md (Replication) §5): every member of a swarm periodically pulls
 * from each peer what it lacks. One round per peer: compare the 4,096 bucket digests (DigestIndex),
 * exchange the hash and tombstone lists of the buckets that differ, apply the peer's tombstones
 * we lack (a delete or a shortened expiry we missed), then fetch the messages we lack in bounded
 * batches. Pull only: the peer repairs its own side in its own rounds, so a message is copied once
 * per node that lacks it, and a node never pulls back what it relocated or deleted. Rounds run at
 * startup, when our swarm's membership changes, after a failed round (with back-off) and every
 * `antiEntropyIntervalMs` ± 10 %. This is also how a new, returning or wiped node catches up.
 * Each round with a peer also pulls its subaccount revocation state (revocation-sync.ts).
 */
import type {ReplicationMetrics} from "../metrics/index.js";
import type {ReplicationTables, SqliteMessageStore} from "../storage/index.js";
import type {Logger} from "../util/index.js";
import type {Tombstone} from "../storage/index.js";
import type {Clock} from "../util/index.js";
import {CoalescedTask} from "../util/index.js";
import {authenticMessages} from "./batches.js";
import {bucketRange, type DigestIndex} from "./digest-index.js";
import {describeError} from "./logger.js";
import type {MembershipView} from "./membership-view.js";
import {SYNC_EXPIRY_MARGIN_MS, type ReplicationOptions} from "./options.js";
import type {RevocationSync} from "./revocation-sync.js";
import type {PeerTransport} from "./transport.js";
import {expectReply as expect, type BucketList} from "./wire.js";

/** Buckets asked for in one `hashes` request. */
const BUCKETS_PER_REQUEST = 256;

export interface AntiEntropyModules {
  readonly store: Pick<SqliteMessageStore, "storeBulk" | "applyTombstones">;
  readonly tables: Pick<ReplicationTables, "bucketMessages" | "bucketTombstones">;
  readonly index: DigestIndex;
  readonly revocations: Pick<RevocationSync, "pull">;
  readonly transport: Pick<PeerTransport, "request">;
  readonly view: MembershipView;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics?: ReplicationMetrics | null;
  /** Jitter source, [0, 1). */
  readonly random?: () => number;
}

export interface SyncResult {
  buckets: number;
  fetched: number;
  tombstones: number;
  /** Accounts whose revocation state changed here. */
  revocations: number;
}

export class AntiEntropy {
  readonly #opts: ReplicationOptions;
  readonly #m: AntiEntropyModules;
  readonly #task: CoalescedTask<boolean>;

  constructor(opts: ReplicationOptions, modules: AntiEntropyModules) {
    this.#opts = opts;
    this.#m = modules;
    const interval = opts.antiEntropyIntervalMs;
    this.#task = new CoalescedTask({
      run: () => this.#runRound(),
      failed: (failed) => failed,
      intervalMs: interval,
      jitter: 0.1,
      backoff: {initialMs: opts.retryInitialMs, factor: opts.retryFactor, maxMs: Math.min(interval, opts.retryMaxMs)},
      clock: modules.clock,
      ...(modules.random === undefined ? {} : {random: modules.random}),
    });
  }

  /** Runs a round soon (coalesced with a running one). */
  trigger(delayMs = 0): void {
    this.#task.schedule(delayMs);
  }

  async close(): Promise<void> {
    await this.#task.close();
  }

  /** One pull from `peer` (public for tests and for catching up a peer on demand). */
  async syncWith(peer: string): Promise<SyncResult> {
    const swarm = this.#m.view.ourSwarmWire();
    if (swarm === null) return {buckets: 0, fetched: 0, tombstones: 0, revocations: 0};
    // Revocations first: they are small and decide who may read and write.
    const revocations = await this.#m.revocations.pull(peer, swarm);
    const reply = expect(peer, await this.#m.transport.request(peer, {type: "digest", swarm}), "digest_ok");
    const differing = this.#m.index.differing(reply.digest);
    const result: SyncResult = {buckets: differing.length, fetched: 0, tombstones: 0, revocations};
    for (let i = 0; i < differing.length; ) {
      const asked = differing.slice(i, i + BUCKETS_PER_REQUEST);
      const lists = expect(peer, await this.#m.transport.request(peer, {type: "hashes", swarm, buckets: asked}), "hashes_ok").buckets;
      if (lists.length === 0) break; // the peer sent nothing: avoid looping
      const {missing, tombstones} = this.#compare(lists);
      if (tombstones.length > 0) result.tombstones += (await this.#m.store.applyTombstones(tombstones)).merged;
      result.fetched += await this.#fetch(peer, swarm, missing);
      i += lists.length;
    }
    return result;
  }

  /** One round with every peer; true if one of them failed. */
  async #runRound(): Promise<boolean> {
    let failed = false;
    for (const peer of this.#m.view.peers()) {
      if (this.#task.closed) return failed;
      try {
        const r = await this.syncWith(peer.nodeId);
        this.#countRepairs(r);
        if (r.fetched + r.tombstones + r.revocations > 0) this.#m.logger.info({peer: peer.nodeId, ...r}, "anti-entropy repaired differences");
      } catch (err) {
        failed = true;
        this.#m.metrics?.antiEntropyRounds.inc({result: "failed"});
        this.#m.logger.debug({peer: peer.nodeId, err: describeError(err)}, "anti-entropy round with peer failed");
      }
    }
    return failed;
  }

  #countRepairs(r: SyncResult): void {
    const metrics = this.#m.metrics;
    if (metrics == null) return;
    metrics.antiEntropyRounds.inc({result: "ok"});
    metrics.antiEntropyRepairs.inc({kind: "messages"}, r.fetched);
    metrics.antiEntropyRepairs.inc({kind: "tombstones"}, r.tombstones);
    metrics.antiEntropyRepairs.inc({kind: "revocations"}, r.revocations);
  }

  /** What the peer's lists have that ours lack: hashes to fetch and tombstones to apply. */
  #compare(lists: BucketList[]): {missing: string[]; tombstones: Tombstone[]} {
    const {tables, view, clock} = this.#m;
    const now = clock.now();
    const served = view.servedBy(view.ourSwarm());
    const missing: string[] = [];
    const tombstones: Tombstone[] = [];
    for (const list of lists) {
      const {lo, hi} = bucketRange(list.bucket);
      const ours = new Set(tables.bucketMessages(lo, hi, now + SYNC_EXPIRY_MARGIN_MS).map((m) => m.hash));
      const ourTombs = new Map(tables.bucketTombstones(lo, hi, now).map((t) => [t.hash, t.cap]));
      for (const t of list.tombstones) {
        const cap = ourTombs.get(t.hash);
        if (served(t.account) && (cap === undefined || t.cap < cap)) tombstones.push(t);
      }
      const dead = new Set(list.tombstones.filter((t) => t.cap <= now).map((t) => t.hash));
      for (const h of list.messages) {
        const cap = ourTombs.get(h);
        if (!ours.has(h) && !dead.has(h) && (cap === undefined || cap > now)) missing.push(h);
      }
    }
    return {missing, tombstones};
  }

  /** Fetches `hashes` in batches and stores those of accounts we serve; returns how many were new. */
  async #fetch(peer: string, swarm: string, hashes: string[]): Promise<number> {
    let stored = 0;
    const served = this.#m.view.servedBy(this.#m.view.ourSwarm());
    for (let queue = hashes; queue.length > 0; ) {
      const asked = queue.slice(0, this.#opts.maxBatchMessages);
      const reply = expect(peer, await this.#m.transport.request(peer, {type: "fetch", swarm, hashes: asked}), "fetch_ok");
      const messages = authenticMessages(reply.messages.filter((m) => served(m.account)));
      // Insertion order is retrieve order: keep the senders' order as well as timestamps allow.
      messages.sort((a, b) => a.timestamp - b.timestamp);
      stored += (await this.#m.store.storeBulk(messages, {mergeExpiry: true})).length;
      const more = new Set(reply.more);
      if (reply.messages.length === 0 && more.size === asked.length) break; // no progress
      queue = [...asked.filter((h) => more.has(h)), ...queue.slice(asked.length)];
    }
    return stored;
  }
}
