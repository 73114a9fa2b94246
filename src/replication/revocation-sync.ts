/**
 * Replication of subaccount revocation state (docs/PROTOCOL.md (Replication) §5.5). Revocations
 * are few and small, so they travel as whole per-account states (every record of the account),
 * merged last-writer-wins by the receiver (SqliteRevocations): re-sending is always harmless and
 * arrival order never matters.
 *
 * - Pull (anti-entropy, swarm members only): compare 256-bucket revocation digests, list the
 *   records of the differing buckets, merge what the peer knows.
 * - Push (`push_revocations`, from any registered node): persisted retries of revoke/unrevoke
 *   forwards and relocation send the accounts' states; the receiver merges the accounts it serves
 *   and names them in its reply, which is what the sender counts as delivered.
 *
 * Records from a peer are validated as a whole (format, sizes, timestamps) before anything is
 * merged: bad input is a `bad_message` error and changes nothing.
 */
import type {RevocationRecord, SqliteMessageStore} from "../storage/index.js";
import type {Clock} from "../util/index.js";
import type {MembershipView} from "./membership-view.js";
import {MAX_REVOCATION_RECORDS, checkRecordTimes, revocationBucket} from "./revocation-records.js";
import type {RevocationIndex} from "./revocation-index.js";
import type {PeerTransport} from "./transport.js";
import {expectReply, type PeerReply} from "./wire.js";

export interface RevocationSyncModules {
  readonly revocations: Pick<SqliteMessageStore["revocations"], "merge" | "ofAccount">;
  readonly index: Pick<RevocationIndex, "differing" | "accountsIn">;
  readonly transport: Pick<PeerTransport, "request">;
  readonly view: Pick<MembershipView, "servedBy" | "ourSwarm">;
  readonly clock: Clock;
}

export class RevocationSync {
  readonly #m: RevocationSyncModules;

  constructor(modules: RevocationSyncModules) {
    this.#m = modules;
  }

  /** Pulls from `peer` the revocation records we lack; returns how many accounts changed here. */
  async pull(peer: string, swarm: string): Promise<number> {
    const {transport} = this.#m;
    const theirs = expectReply(peer, await transport.request(peer, {type: "revocation_digest", swarm}), "revocation_digest_ok");
    let buckets = this.#m.index.differing(theirs.digest);
    let changed = 0;
    while (buckets.length > 0) {
      const reply = expectReply(peer, await transport.request(peer, {type: "revocations", swarm, buckets}), "revocations_ok");
      const covered = new Set(reply.buckets.filter((b) => buckets.includes(b)));
      if (covered.size === 0) break; // no progress: try again next round
      changed += (await this.accept(reply.records.filter((r) => covered.has(revocationBucket(r.account))))).length;
      buckets = buckets.filter((b) => !covered.has(b));
    }
    return changed;
  }

  /**
   * Our records of the accounts our swarm serves in `buckets`: whole buckets while they fit in
   * MAX_REVOCATION_RECORDS (the first one always, cut at the limit), and the buckets covered.
   */
  list(buckets: number[]): Extract<PeerReply, {type: "revocations_ok"}> {
    const served = this.#m.view.servedBy(this.#m.view.ourSwarm());
    const records: RevocationRecord[] = [];
    const covered: number[] = [];
    for (const bucket of buckets) {
      const list = this.#m.index.accountsIn(bucket).filter(served).flatMap((a) => this.#m.revocations.ofAccount(a));
      if (covered.length > 0 && records.length + list.length > MAX_REVOCATION_RECORDS) break;
      records.push(...list.slice(0, MAX_REVOCATION_RECORDS));
      covered.push(bucket);
    }
    return {type: "revocations_ok", buckets: covered, records};
  }

  /** Checks every record, then merges those of accounts our swarm serves; returns those accounts. */
  async accept(records: RevocationRecord[]): Promise<string[]> {
    checkRecordTimes(records, this.#m.clock.now());
    const served = this.#m.view.servedBy(this.#m.view.ourSwarm());
    const ours = records.filter((r) => served(r.account));
    if (ours.length > 0) await this.#m.revocations.merge(ours);
    return [...new Set(ours.map((r) => r.account))];
  }

  /** The current records of `accounts` (every record of each, grouped by account). */
  statesOf(accounts: readonly string[]): RevocationRecord[] {
    return accounts.flatMap((a) => this.#m.revocations.ofAccount(a));
  }

  /**
   * Sends `records` (grouped by account, as statesOf gives them) to `peer` in messages of at most
   * MAX_REVOCATION_RECORDS, never splitting an account; returns the accounts it accepted.
   */
  async push(peer: string, records: readonly RevocationRecord[]): Promise<Set<string>> {
    const accepted = new Set<string>();
    for (let start = 0; start < records.length; ) {
      let end = Math.min(records.length, start + MAX_REVOCATION_RECORDS);
      // Back up to an account boundary unless one account alone fills the message.
      while (end < records.length && end > start && records[end]?.account === records[end - 1]?.account) end--;
      if (end === start) end = Math.min(records.length, start + MAX_REVOCATION_RECORDS);
      const batch = records.slice(start, end);
      const reply = expectReply(peer, await this.#m.transport.request(peer, {type: "push_revocations", records: batch}), "push_revocations_ok");
      reply.accounts.forEach((a) => accepted.add(a));
      start = end;
    }
    return accepted;
  }
}
