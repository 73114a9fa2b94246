/**
 * Persisted forward retries (docs/PROTOCOL.md (Replication) §4; Session 2.11's policy): a
 * forward that did not reach a peer (connection refused, timeout, broken channel) is written to
 * `replication_retries` and retried after 1 s, then ×1.75 each time, at most every 60 s. A store is
 * re-delivered as a push of the message (batched per peer), a revoke or unrevoke as a push of the
 * account's current revocation state, an expire_all as a push of the caps it set here; other
 * methods replay the client's request, which the peer re-validates (a replayed delete_all only
 * covers what was sent by its signed timestamp: `deleteAllMethod`). A row is dropped when delivered, when the peer refuses it
 * (any HTTP status below 500, as Session does not retry non-timeout errors), when what it concerns
 * has expired (or the message is gone here), or when the peer is no longer in our swarm.
 */
import {peerLabel, type ReplicationMetrics} from "../metrics/index.js";
import type {ReplicationTables, RetryRow, RetryTable} from "../storage/index.js";
import type {Logger} from "../util/index.js";
import type {Clock} from "../util/index.js";
import {splitBatches} from "./batches.js";
import {describeError} from "./logger.js";
import type {MembershipView} from "./membership-view.js";
import {retryDelayMs, type ReplicationOptions} from "./options.js";
import type {PeerHealth} from "./peer-health.js";
import {capOf, isCapMethod, isRevocationMethod, retryTarget} from "./retry-target.js";
import type {RevocationSync} from "./revocation-sync.js";
import type {PeerTransport} from "./transport.js";
import {MAX_LIST_TOMBSTONES} from "./wire.js";

/** Rows handled per tick. */
const DUE_BATCH = 2_000;
/** Ticks are at least this far apart, and at most this far apart while rows exist. */
const MIN_TICK_MS = 20;
const MAX_TICK_MS = 1_000;
/** A peer's rows are woken at most this often (every authenticated frame from it asks to). */
const WAKE_INTERVAL_MS = 1_000;

export interface RetryQueueModules {
  readonly table: RetryTable;
  readonly tables: Pick<ReplicationTables, "messagesByHash" | "accountTombstones">;
  readonly revocations: Pick<RevocationSync, "push" | "statesOf">;
  readonly transport: Pick<PeerTransport, "request">;
  readonly view: Pick<MembershipView, "snapshot" | "peers">;
  readonly health: PeerHealth;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics?: ReplicationMetrics | null;
}

export class RetryQueue {
  readonly #opts: ReplicationOptions;
  readonly #m: RetryQueueModules;
  readonly #busy = new Set<string>();
  /** Peers with persisted rows (as of the last tick or enqueue) → when they were last woken. */
  readonly #pendingPeers = new Map<string, number>();
  #timer: NodeJS.Timeout | null = null;
  #timerAt = Number.POSITIVE_INFINITY;
  #tick: Promise<void> | null = null;
  #closed = false;

  constructor(opts: ReplicationOptions, modules: RetryQueueModules) {
    this.#opts = opts;
    this.#m = modules;
  }

  /** Resumes the rows persisted before a restart. */
  start(): void {
    for (const peer of this.#m.table.countByPeer().keys()) this.#pendingPeers.set(peer, 0);
    this.#schedule(0);
  }

  /** Persists a failed forward (nothing for requests that name no account or concern nothing alive). */
  enqueue(peer: string, method: string, params: Record<string, unknown>): void {
    const now = this.#m.clock.now();
    const target = retryTarget(method, params, now);
    if (target === null || target.expiry <= now) return;
    // A store or a revocation change is re-delivered from our state: its params are not needed.
    const json = target.hash === null && !isRevocationMethod(method) ? JSON.stringify(params) : "{}";
    const nextAttempt = now + retryDelayMs(this.#opts, 1);
    this.#m.table.add([{peer, method, params: json, account: target.account, hash: target.hash, expiry: target.expiry, nextAttempt, created: now}]);
    if (!this.#pendingPeers.has(peer)) this.#pendingPeers.set(peer, 0);
    this.#schedule(nextAttempt - now);
  }

  /** The peer showed a sign of life: its pending rows are due now. */
  wake(peer: string): void {
    const last = this.#pendingPeers.get(peer);
    const now = this.#m.clock.now();
    if (this.#closed || last === undefined || now - last < WAKE_INTERVAL_MS) return;
    this.#pendingPeers.set(peer, now);
    if (this.#m.table.wake(peer, now) > 0) this.#schedule(0);
  }

  /** Pending rows per peer. */
  pending(): Map<string, number> {
    return this.#m.table.countByPeer();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    await this.#tick?.catch(() => undefined);
  }

  #schedule(delayMs: number): void {
    if (this.#closed) return;
    const at = this.#m.clock.now() + Math.max(MIN_TICK_MS, delayMs);
    if (this.#timer !== null && this.#timerAt <= at) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#timerAt = Number.POSITIVE_INFINITY;
      this.#tick ??= this.#runTick().finally(() => {
        this.#tick = null;
        this.#scheduleNext();
      });
    }, at - this.#m.clock.now());
    this.#timer.unref();
  }

  #scheduleNext(): void {
    if (this.#closed) return;
    const pending = this.#m.table.countByPeer();
    for (const peer of this.#pendingPeers.keys()) if (!pending.has(peer)) this.#pendingPeers.delete(peer);
    const next = this.#m.table.nextDue();
    if (next !== null) this.#schedule(Math.min(MAX_TICK_MS, next - this.#m.clock.now()));
  }

  async #runTick(): Promise<void> {
    const {view, table, clock} = this.#m;
    const now = clock.now();
    if (view.snapshot === null) return;
    const dropped = table.prune(now, view.peers().map((p) => p.nodeId));
    if (dropped > 0) this.#m.logger.debug({dropped}, "retries dropped (expired, or the peer left our swarm)");
    const byPeer = new Map<string, RetryRow[]>();
    for (const row of table.due(now, DUE_BATCH)) byPeer.set(row.peer, [...(byPeer.get(row.peer) ?? []), row]);
    const runs = [...byPeer].filter(([peer]) => !this.#busy.has(peer)).map(([peer, rows]) => this.#deliver(peer, rows));
    await Promise.all(runs);
  }

  async #deliver(peer: string, rows: RetryRow[]): Promise<void> {
    this.#busy.add(peer);
    this.#m.metrics?.retries.inc({peer: peerLabel(peer)}, rows.length);
    try {
      const stores = rows.filter((r) => r.hash !== null);
      const revocations = rows.filter((r) => r.hash === null && isRevocationMethod(r.method));
      const others = rows.filter((r) => r.hash === null && !isRevocationMethod(r.method));
      if (!(await this.#deliverStores(peer, stores))) return this.#backOff([...revocations, ...others]);
      if (!(await this.#deliverRevocations(peer, revocations))) return this.#backOff(others);
      for (const [i, row] of others.entries()) {
        const delivered = isCapMethod(row.method) ? await this.#deliverCaps(peer, row) : await this.#deliverRpc(peer, row);
        if (!delivered) return this.#backOff(others.slice(i + 1));
      }
    } catch (err) {
      this.#m.logger.error({peer, err: describeError(err)}, "retry delivery failed");
    } finally {
      this.#busy.delete(peer);
    }
  }

  /** Pushes the stored messages; false if the peer could not be reached. */
  async #deliverStores(peer: string, rows: RetryRow[]): Promise<boolean> {
    if (rows.length === 0) return true;
    const messages = this.#m.tables.messagesByHash(rows.map((r) => r.hash as string), this.#m.clock.now());
    const present = new Set(messages.map((m) => m.hash));
    this.#m.table.remove(rows.filter((r) => !present.has(r.hash as string)).map((r) => r.id)); // deleted or expired here
    const byHash = new Map(rows.map((r) => [r.hash as string, r]));
    const batches = splitBatches(messages, this.#opts).map((batch) => ({batch, rows: batch.map((m) => byHash.get(m.hash) as RetryRow)}));
    for (const [i, {batch, rows: batchRows}] of batches.entries()) {
      try {
        const reply = await this.#m.transport.request(peer, {type: "push", messages: batch, tombstones: []});
        const held = new Set(reply.type === "push_ok" ? reply.held : []);
        this.#m.table.remove(batchRows.filter((r) => held.has(r.hash as string)).map((r) => r.id));
        this.#backOff(batchRows.filter((r) => !held.has(r.hash as string)));
        this.#m.health.markUp(peer);
      } catch (err) {
        this.#m.logger.debug({peer, err: describeError(err)}, "retry push failed");
        this.#backOff(batches.slice(i).flatMap((b) => b.rows));
        return false;
      }
    }
    return true;
  }

  /** Pushes the rows' accounts' revocation states; false if the peer could not be reached. */
  async #deliverRevocations(peer: string, rows: RetryRow[]): Promise<boolean> {
    if (rows.length === 0) return true;
    const records = this.#m.revocations.statesOf([...new Set(rows.map((r) => r.account))]);
    const withState = new Set(records.map((r) => r.account));
    this.#m.table.remove(rows.filter((r) => !withState.has(r.account)).map((r) => r.id)); // relocated away from us
    const pending = rows.filter((r) => withState.has(r.account));
    try {
      const accepted = await this.#m.revocations.push(peer, records);
      this.#m.table.remove(pending.filter((r) => accepted.has(r.account)).map((r) => r.id));
      this.#backOff(pending.filter((r) => !accepted.has(r.account)));
      this.#m.health.markUp(peer);
      return true;
    } catch (err) {
      this.#m.logger.debug({peer, err: describeError(err)}, "retry of revocations failed");
      this.#backOff(pending);
      return false;
    }
  }

  /**
   * Pushes the caps an expire_all set here: the account's tombstones whose cap is its expiry (a
   * later, lower cap travels with its own request). The row is done once the peer holds them all,
   * or when none is left here (lifted by a client's extension, or swept); false if the peer could
   * not be reached.
   */
  async #deliverCaps(peer: string, row: RetryRow): Promise<boolean> {
    const cap = capOf(JSON.parse(row.params) as Record<string, unknown>);
    const caps = cap === null ? [] : this.#m.tables.accountTombstones(row.account, this.#m.clock.now()).filter((t) => t.cap === cap);
    try {
      let held = true;
      for (let i = 0; i < caps.length; i += MAX_LIST_TOMBSTONES) {
        const tombstones = caps.slice(i, i + MAX_LIST_TOMBSTONES);
        const reply = await this.#m.transport.request(peer, {type: "push", messages: [], tombstones});
        const got = new Set(reply.type === "push_ok" ? reply.held : []);
        held &&= tombstones.every((t) => got.has(t.hash));
      }
      if (held) this.#m.table.remove([row.id]);
      else this.#backOff([row]);
      if (caps.length > 0) this.#m.health.markUp(peer);
      return true;
    } catch (err) {
      this.#m.logger.debug({peer, err: describeError(err)}, "retry push of caps failed");
      this.#backOff([row]);
      return false;
    }
  }

  /** Replays one request; false if the peer could not be reached. */
  async #deliverRpc(peer: string, row: RetryRow): Promise<boolean> {
    try {
      const params = JSON.parse(row.params) as Record<string, unknown>;
      const reply = await this.#m.transport.request(peer, {type: "rpc", method: row.method, params});
      if (reply.type === "rpc_ok" && reply.status >= 500) this.#backOff([row]);
      else this.#m.table.remove([row.id]);
      this.#m.health.markUp(peer);
      return true;
    } catch (err) {
      this.#m.logger.debug({peer, method: row.method, err: describeError(err)}, "retry failed");
      this.#backOff([row]);
      return false;
    }
  }

  #backOff(rows: RetryRow[]): void {
    const now = this.#m.clock.now();
    for (const r of rows) this.#m.table.reschedule(r.id, r.attempts + 1, now + retryDelayMs(this.#opts, r.attempts + 2));
  }
}
