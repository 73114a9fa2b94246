/**
 * Relocation (docs/PROTOCOL.md (Replication) §6): when the membership changes which swarm
 * serves an account (a swarm count change, a node joining, leaving or moving, an empty swarm
 * filling up, or this node leaving), the account's tombstones and messages are pushed to every
 * member of the swarm that now serves it (the router's rule, empty swarms included), in batches
 * that keep insertion order, after the accounts' subaccount revocation state (so the new swarm
 * refuses revoked tokens as soon as possible). A message, tombstone or account's revocation state
 * is deleted here once a majority of that swarm's members hold it; the others get it from them by
 * anti-entropy. Whatever is not yet acknowledged stays and is retried with the persisted-retry
 * back-off, so nothing is lost and, unlike Session (its issue #470), nothing is left behind.
 */
import {setImmediate as nextTurn} from "node:timers/promises";
import type {Logger} from "../util/index.js";
import type {ReplicationTables, SqliteMessageStore} from "../storage/index.js";
import type {StoredMessage} from "../storage/index.js";
import type {NodeRecord} from "../swarm/index.js";
import type {Clock} from "../util/index.js";
import {CoalescedTask} from "../util/index.js";
import type {DigestIndex} from "./digest-index.js";
import {describeError} from "./logger.js";
import type {MembershipView} from "./membership-view.js";
import {BatchBuilder, type Batch} from "./batches.js";
import type {ReplicationOptions} from "./options.js";
import type {RevocationSync} from "./revocation-sync.js";
import type {PeerTransport} from "./transport.js";
import {expectReply} from "./wire.js";

const ACCOUNTS_PAGE = 1_000;

export interface RelocatorModules {
  readonly store: Pick<SqliteMessageStore, "deleteMoved" | "revocations">;
  readonly revocations: Pick<RevocationSync, "push" | "statesOf">;
  readonly tables: Pick<ReplicationTables, "accounts" | "accountMessages" | "accountTombstones" | "deleteTombstones">;
  readonly index: Pick<DigestIndex, "removeTombstone">;
  readonly transport: Pick<PeerTransport, "request">;
  readonly view: MembershipView;
  readonly clock: Clock;
  readonly logger: Logger;
}

export interface RelocationResult {
  /** Messages, tombstones and accounts' revocation states handed over and deleted here. */
  moved: number;
  /** Still here, not yet acknowledged by a majority of their swarm. */
  pending: number;
}

type Account = {id: number; account: string};

export class Relocator {
  readonly #opts: ReplicationOptions;
  readonly #m: RelocatorModules;
  /** No periodic pass: membership changes schedule one, and what stays pending is retried. */
  readonly #task: CoalescedTask<RelocationResult>;

  constructor(opts: ReplicationOptions, modules: RelocatorModules) {
    this.#opts = opts;
    this.#m = modules;
    this.#task = new CoalescedTask({
      run: () => this.pass(),
      failed: (r) => r.pending > 0,
      intervalMs: null,
      backoff: {initialMs: opts.retryInitialMs, factor: opts.retryFactor, maxMs: opts.retryMaxMs},
      clock: modules.clock,
    });
  }

  /** Runs a pass soon (coalesced with a running one). */
  schedule(delayMs = 0): void {
    this.#task.schedule(delayMs);
  }

  async close(): Promise<void> {
    await this.#task.close();
  }

  /** One pass over every account here that our swarm does not serve (public for tests). */
  async pass(): Promise<RelocationResult> {
    const result: RelocationResult = {moved: 0, pending: 0};
    if (this.#m.view.snapshot === null) return result;
    // Page by page, so a count change that moves most accounts never holds them all in memory.
    for (let after = 0; !this.#task.closed; ) {
      const page = this.#m.tables.accounts(after, ACCOUNTS_PAGE);
      for (const group of this.#byServingSwarm(page).values()) {
        const r = await this.#relocate(group.members, group.accounts);
        result.moved += r.moved;
        result.pending += r.pending;
      }
      if (page.length < ACCOUNTS_PAGE) break;
      after = page[page.length - 1]?.id ?? after;
      await nextTurn(); // a pass over a million accounts must not hold the event loop
    }
    if (result.moved + result.pending > 0) this.#m.logger.info({...result}, "relocation pass");
    return result;
  }

  /** The accounts of `page` whose serving swarm is not ours, by serving swarm. */
  #byServingSwarm(page: Account[]): Map<bigint, {members: readonly NodeRecord[]; accounts: Account[]}> {
    const ours = this.#m.view.ourSwarm();
    const groups = new Map<bigint, {members: readonly NodeRecord[]; accounts: Account[]}>();
    for (const a of page) {
      const serving = this.#m.view.servingOf(a.account);
      if (serving === null || serving.swarmId === ours) continue;
      const group = groups.get(serving.swarmId) ?? {members: serving.members, accounts: []};
      group.accounts.push(a);
      groups.set(serving.swarmId, group);
    }
    return groups;
  }

  async #relocate(members: readonly NodeRecord[], accounts: Account[]): Promise<RelocationResult> {
    const quorum = Math.floor(members.length / 2) + 1;
    const result = await this.#relocateRevocations(members, accounts, quorum);
    for (const batch of this.#batches(accounts)) {
      if (this.#task.closed) break;
      const acks = await this.#pushToAll(members, batch);
      const acked = (hash: string): boolean => (acks.get(hash) ?? 0) >= quorum;
      const tombs = this.#m.tables.deleteTombstones(batch.tombstones.map((t) => t.hash).filter(acked));
      for (const h of tombs) this.#m.index.removeTombstone(h);
      const moved = await this.#m.store.deleteMoved(batch.messages.map((m) => m.hash).filter(acked));
      result.moved += tombs.length + moved.length;
      result.pending += batch.tombstones.length + batch.messages.length - tombs.length - moved.length;
    }
    return result;
  }

  /** Pushes the accounts' revocation states to every member; forgets those a quorum accepted. */
  async #relocateRevocations(members: readonly NodeRecord[], accounts: Account[], quorum: number): Promise<RelocationResult> {
    const records = this.#m.revocations.statesOf(accounts.map((a) => a.account));
    if (records.length === 0) return {moved: 0, pending: 0};
    const withState = [...new Set(records.map((r) => r.account))];
    const acks = new Map<string, number>();
    const pushes = await Promise.allSettled(members.map((m) => this.#m.revocations.push(m.nodeId, records)));
    pushes.forEach((r, i) => {
      if (r.status === "fulfilled") r.value.forEach((a) => acks.set(a, (acks.get(a) ?? 0) + 1));
      else this.#m.logger.debug({peer: members[i]?.nodeId, err: describeError(r.reason)}, "relocation revocation push failed");
    });
    const acked = withState.filter((a) => (acks.get(a) ?? 0) >= quorum);
    const moved = acked.length === 0 ? [] : await this.#m.store.revocations.deleteAccounts(acked);
    return {moved: moved.length, pending: withState.length - moved.length};
  }

  /** How many members acknowledged each hash. */
  async #pushToAll(members: readonly NodeRecord[], batch: Batch): Promise<Map<string, number>> {
    const acks = new Map<string, number>();
    const replies = await Promise.allSettled(members.map((m) => this.#m.transport.request(m.nodeId, {type: "push", ...batch})));
    replies.forEach((r, i) => {
      const peer = members[i]?.nodeId ?? "";
      if (r.status === "rejected") {
        this.#m.logger.debug({peer, err: describeError(r.reason)}, "relocation push failed");
        return;
      }
      try {
        for (const h of expectReply(peer, r.value, "push_ok").held) acks.set(h, (acks.get(h) ?? 0) + 1);
      } catch (err) {
        this.#m.logger.debug({peer, err: describeError(err)}, "relocation push refused");
      }
    });
    return acks;
  }

  /** The accounts' tombstones and messages (insertion order), in bounded batches. */
  *#batches(accounts: Account[]): Generator<Batch> {
    const builder = new BatchBuilder(this.#opts);
    for (const a of accounts) {
      for (const t of this.#m.tables.accountTombstones(a.account, this.#m.clock.now())) {
        const full = builder.addTombstone(t);
        if (full !== null) yield full;
      }
      for (const message of this.#messagesOf(a.id)) {
        const full = builder.addMessage(message);
        if (full !== null) yield full;
      }
    }
    const last = builder.take();
    if (last !== null) yield last;
  }

  /** An account's unexpired messages in insertion order, read page by page. */
  *#messagesOf(ownerId: number): Generator<StoredMessage> {
    const page = this.#opts.maxBatchMessages;
    for (let after = 0; ; ) {
      const rows = this.#m.tables.accountMessages(ownerId, after, this.#m.clock.now(), page);
      for (const row of rows) yield row.message;
      if (rows.length < page) return;
      after = rows[rows.length - 1]?.id ?? after;
    }
  }
}
