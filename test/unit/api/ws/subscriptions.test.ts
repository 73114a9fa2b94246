import {describe, expect, it} from "vitest";
import type {MonitorGrant} from "../../../../src/api/ws/monitor-auth.js";
import {SubscriptionIndex, type Subscriber, type Subscription} from "../../../../src/api/ws/subscriptions.js";

const conn = (): Subscriber => ({subscriptions: new Map<string, Subscription>()});
const A = "05" + "aa".repeat(32);
const B = "03" + "bb".repeat(32);
const grant = (account: string, namespaces: number[], wantData = false, token: Buffer | null = null): MonitorGrant => ({account, namespaces, wantData, token});

describe("SubscriptionIndex", () => {
  const limits = {maxSubscriptionsPerConnection: 2, maxNamespacesPerSubscription: 3, subscriptionTtlMs: 100};

  it("indexes by account and merges re-subscriptions (namespaces ∪, data OR, fresh expiry)", () => {
    const idx = new SubscriptionIndex<Subscriber>(limits);
    const c1 = conn();
    const c2 = conn();
    expect(idx.add(c1, grant(A, [0], true), 1_000)).toEqual({ok: true, expiresAt: 1_100});
    expect(idx.add(c2, grant(A, [1]), 1_000)).toEqual({ok: true, expiresAt: 1_100});
    expect(idx.add(c1, grant(A, [2]), 1_050)).toEqual({ok: true, expiresAt: 1_150});
    expect(idx.size).toBe(2);
    expect([...(idx.subscribersOf(A) ?? [])]).toEqual([c1, c2]);
    expect(idx.subscribersOf(B)).toBeUndefined();
    const s = c1.subscriptions.get(A);
    expect([[...(s?.namespaces ?? [])], s?.wantData, s?.expiresAt]).toEqual([[0, 2], true, 1_150]);
  });

  it("tracks how a subscription was authorised: the account key sticks, else the latest token", () => {
    const idx = new SubscriptionIndex<Subscriber>(limits);
    const c = conn();
    idx.add(c, grant(A, [0], false, Buffer.from("t1")), 0);
    idx.add(c, grant(A, [0], false, Buffer.from("t2")), 0);
    expect(c.subscriptions.get(A)).toMatchObject({keyAuthorized: false, token: Buffer.from("t2")});
    idx.add(c, grant(A, [0]), 0);
    idx.add(c, grant(A, [0], false, Buffer.from("t3")), 0);
    expect(c.subscriptions.get(A)).toMatchObject({keyAuthorized: true});
  });

  it("enforces the per-connection and per-subscription limits", () => {
    const idx = new SubscriptionIndex<Subscriber>(limits);
    const c = conn();
    idx.add(c, grant(A, [0, 1]), 0);
    idx.add(c, grant(B, [0]), 0);
    expect(idx.add(c, grant("05" + "cc".repeat(32), [0]), 0)).toEqual({ok: false, reason: "too_many_subscriptions"});
    expect(idx.add(c, grant(A, [1, 2]), 0)).toEqual({ok: true, expiresAt: 100});
    expect(idx.add(c, grant(A, [3]), 0)).toEqual({ok: false, reason: "too_many_namespaces"});
  });

  it("removes namespaces, whole subscriptions and whole connections", () => {
    const idx = new SubscriptionIndex<Subscriber>(limits);
    const c = conn();
    idx.add(c, grant(A, [0, 1]), 0);
    idx.add(c, grant(B, [0]), 0);
    expect(idx.remove(c, A, [5])).toBe(false);
    expect(idx.remove(c, A, [0])).toBe(true);
    expect(idx.size).toBe(2);
    expect(idx.remove(c, A, [1])).toBe(true);
    expect([idx.size, idx.subscribersOf(A)]).toEqual([1, undefined]);
    idx.removeAll(c);
    expect([idx.size, c.subscriptions.size, idx.subscribersOf(B)]).toEqual([0, 0, undefined]);
  });

  it("sweeps expired subscriptions and those of accounts no longer ours, asking once per account", () => {
    const idx = new SubscriptionIndex<Subscriber>(limits);
    const [c1, c2] = [conn(), conn()];
    idx.add(c1, grant(A, [0]), 0);
    idx.add(c2, grant(A, [0]), 50);
    idx.add(c1, grant(B, [0]), 50);
    const asked: string[] = [];
    const ended = idx.sweep(120, (account) => (asked.push(account), account !== B));
    expect(ended.map((e) => [e.conn === c1 ? "c1" : "c2", e.account, e.why])).toEqual([
      ["c1", A, "expired"],
      ["c1", B, "wrong_swarm"],
    ]);
    expect(asked).toEqual([A, B]);
    expect(idx.size).toBe(1);
    expect(idx.sweep(150, () => true)).toEqual([]);
    expect(idx.sweep(151, () => true)).toHaveLength(1);
  });
});
