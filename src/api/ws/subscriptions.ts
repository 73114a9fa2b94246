/**
 * Who is subscribed to what: per connection one subscription per account (Session keys monitors
 * by (account, connection)), and an index account → connections so that a new message costs
 * O(subscribers of its account), never O(connections).
 */
import type {MonitorGrant} from "./monitor-auth.js";

export interface Subscription {
  readonly account: string;
  readonly namespaces: Set<number>;
  wantData: boolean;
  expiresAt: number;
  /** True once the account key (not a subaccount) signed a subscription for it. */
  keyAuthorized: boolean;
  /** The latest subaccount token that authorised it (checked against revocation on every push). */
  token: Buffer | null;
}

/** A connection as far as subscriptions are concerned. */
export interface Subscriber {
  readonly subscriptions: Map<string, Subscription>;
}

export type AddResult = {ok: true; expiresAt: number} | {ok: false; reason: "too_many_subscriptions" | "too_many_namespaces"};

export interface SubscriptionLimits {
  maxSubscriptionsPerConnection: number;
  maxNamespacesPerSubscription: number;
  subscriptionTtlMs: number;
}

export class SubscriptionIndex<C extends Subscriber> {
  readonly #byAccount = new Map<string, Set<C>>();
  #count = 0;

  constructor(private readonly limits: SubscriptionLimits) {}

  /** Subscriptions held over all connections. */
  get size(): number {
    return this.#count;
  }

  /**
   * Session's update_monitors: a new subscription, or for one this connection already holds, the
   * union of namespaces, the OR of the data flag and a fresh expiry.
   */
  add(conn: C, grant: MonitorGrant, nowMs: number): AddResult {
    const expiresAt = nowMs + this.limits.subscriptionTtlMs;
    const existing = conn.subscriptions.get(grant.account);
    if (existing === undefined) {
      if (conn.subscriptions.size >= this.limits.maxSubscriptionsPerConnection) return {ok: false, reason: "too_many_subscriptions"};
      const sub: Subscription = {
        account: grant.account,
        namespaces: new Set(grant.namespaces),
        wantData: grant.wantData,
        expiresAt,
        keyAuthorized: grant.token === null,
        token: grant.token,
      };
      conn.subscriptions.set(grant.account, sub);
      this.#link(conn, grant.account);
      return {ok: true, expiresAt};
    }
    const added = grant.namespaces.filter((n) => !existing.namespaces.has(n)).length;
    if (existing.namespaces.size + added > this.limits.maxNamespacesPerSubscription) return {ok: false, reason: "too_many_namespaces"};
    for (const n of grant.namespaces) existing.namespaces.add(n);
    existing.wantData ||= grant.wantData;
    existing.expiresAt = expiresAt;
    existing.keyAuthorized ||= grant.token === null;
    existing.token = grant.token ?? existing.token;
    return {ok: true, expiresAt};
  }

  /**
   * Removes `namespaces` (all when omitted) from the connection's subscription to `account`; the
   * subscription goes when none remain. Returns whether anything was removed.
   */
  remove(conn: C, account: string, namespaces?: readonly number[]): boolean {
    const sub = conn.subscriptions.get(account);
    if (sub === undefined) return false;
    if (namespaces !== undefined) {
      const before = sub.namespaces.size;
      for (const n of namespaces) sub.namespaces.delete(n);
      if (sub.namespaces.size > 0) return sub.namespaces.size < before;
    }
    conn.subscriptions.delete(account);
    this.#unlink(conn, account);
    return true;
  }

  /** Drops every subscription of a closing connection. */
  removeAll(conn: C): void {
    for (const account of conn.subscriptions.keys()) this.#unlink(conn, account);
    conn.subscriptions.clear();
  }

  /** The connections subscribed to `account` (live view; do not mutate while iterating). */
  subscribersOf(account: string): ReadonlySet<C> | undefined {
    return this.#byAccount.get(account);
  }

  /**
   * Removes and returns expired subscriptions and those whose account `isOurs` (asked once per
   * account) no longer accepts: the periodic sweep.
   */
  sweep(nowMs: number, isOurs: (account: string) => boolean): Array<{conn: C; account: string; why: "expired" | "wrong_swarm"}> {
    const ended: Array<{conn: C; account: string; why: "expired" | "wrong_swarm"}> = [];
    for (const [account, conns] of this.#byAccount) {
      const ours = isOurs(account);
      for (const conn of conns) {
        const sub = conn.subscriptions.get(account);
        if (sub !== undefined && sub.expiresAt < nowMs) ended.push({conn, account, why: "expired"});
        else if (!ours) ended.push({conn, account, why: "wrong_swarm"});
      }
    }
    for (const e of ended) this.remove(e.conn, e.account);
    return ended;
  }

  #link(conn: C, account: string): void {
    let set = this.#byAccount.get(account);
    if (set === undefined) {
      set = new Set();
      this.#byAccount.set(account, set);
    }
    set.add(conn);
    this.#count += 1;
  }

  #unlink(conn: C, account: string): void {
    const set = this.#byAccount.get(account);
    if (set === undefined || !set.delete(conn)) return;
    this.#count -= 1;
    if (set.size === 0) this.#byAccount.delete(account);
  }
}
