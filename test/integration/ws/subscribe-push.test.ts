/**
 * Subscriptions and pushes with real `ws` clients: every account kind, namespaces, the data flag,
 * duplicates, other accounts, messages that bypass the RPC (replication/catch-up), merging,
 * unsubscribe, 65-minute expiry and renewal (manual clock), and subaccount revocation.
 */
import {afterEach, describe, expect, it} from "vitest";
import {ed25519, ed25519Account, pqAccount, sessionAccount, sessionHash} from "../../utils/keys.js";
import {message, seconds, startWsNode, sub05, subP, subPq, subToken, TestClient, type WsTestNode} from "./harness.js";

const MIN = 60_000;
let node: WsTestNode;
const clients: TestClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await node.close();
});

async function connect(): Promise<TestClient> {
  const c = await TestClient.connect(node.url);
  clients.push(c);
  return c;
}

const b64 = (s: string): string => Buffer.from(s).toString("base64");
const now = (): number => node.h.clock.now();

describe("subscribe", () => {
  it("05 account with P: pushes new messages in subscribed namespaces only, with data", async () => {
    node = await startWsNode();
    const c = await connect();
    const acc = sessionAccount();
    const reply = await c.subscribe(sub05(acc, [0, 5], true, seconds(now())));
    expect(reply).toEqual({id: reply.id, type: "subscribe", success: true, expires_at: now() + 65 * MIN});

    const stored = await c.rpc("store", {pubkey: acc.hex, timestamp: now(), ttl: 60_000, data: b64("hello")});
    expect(stored.code).toBe(200);
    await node.h.store.store(message(acc.hex, 5, "in ns 5", now()));
    await node.h.store.store(message(acc.hex, 3, "not subscribed", now()));
    await c.sync();

    expect(c.pushes()).toEqual([
      {type: "message", account: acc.hex, hash: sessionHash(acc.hex, 0, Buffer.from("hello")), namespace: 0, timestamp: now(), expiry: now() + 60_000, data: b64("hello")},
      {type: "message", account: acc.hex, hash: sessionHash(acc.hex, 5, Buffer.from("in ns 5")), namespace: 5, timestamp: now(), expiry: now() + 3_600_000, data: b64("in ns 5")},
    ]);
  });

  it("03 account with p and d=0: pushes without data; no push for a duplicate or for other accounts", async () => {
    node = await startWsNode();
    const c = await connect();
    const group = ed25519Account("03");
    const other = ed25519Account("03");
    expect((await c.subscribe(subP(group, [0], false, seconds(now())))).success).toBe(true);

    const msg = message(group.hex, 0, "once", now());
    expect((await node.h.store.store(msg)).status).toBe("new");
    expect((await node.h.store.store(msg)).status).toBe("exists");
    await node.h.store.store(message(other.hex, 0, "someone else", now()));
    await c.sync();

    expect(c.pushes()).toEqual([{type: "message", account: group.hex, hash: msg.hash, namespace: 0, timestamp: msg.timestamp, expiry: msg.expiry}]);
    expect(node.ws.stats()).toMatchObject({connections: 1, subscriptions: 1, pushes: 1});
  });

  it("07 account with ML-DSA-65: subscribes and receives pushes", async () => {
    node = await startWsNode();
    const c = await connect();
    const acc = pqAccount();
    const reply = await c.subscribe(subPq(acc, [-10, 42], true, seconds(now())));
    expect(reply.success).toBe(true);
    await node.h.store.store(message(acc.hex, 42, "pq", now()));
    await c.sync();
    expect(c.pushes().map((p) => [p.account, p.namespace, p.data])).toEqual([[acc.hex, 42, b64("pq")]]);
  });

  it("subaccount token with read access: subscribes; pushes stop once the token is revoked", async () => {
    node = await startWsNode();
    const c = await connect();
    const owner = ed25519Account("03");
    const member = ed25519();
    expect((await c.subscribe(subToken(owner, member, 0x01, [11], seconds(now())))).success).toBe(true);
    await node.h.store.store(message(owner.hex, 11, "before", now()));
    await c.sync();
    expect(c.pushes()).toHaveLength(1);

    const tok = Buffer.concat([Buffer.from([0x03, 0x01, 0, 0]), member.pub]);
    await node.h.store.revokeSubaccounts(owner.hex, [tok]);
    await node.h.store.store(message(owner.hex, 11, "after", now()));
    await c.sync();
    expect(c.pushes()).toHaveLength(1);
    expect(await c.waitFor((f) => f.type === "subscription_ended")).toEqual({type: "subscription_ended", account: owner.hex, reason: "revoked"});
    expect(node.ws.stats().subscriptions).toBe(0);
    // A revoked token cannot subscribe again.
    const again = await c.subscribe(subToken(owner, member, 0x01, [11], seconds(now())));
    expect(again).toMatchObject({type: "error", errcode: 5, error: "Subaccount verification failed: token has been revoked"});
  });

  it("accepts a list and answers each entry in order", async () => {
    node = await startWsNode();
    const c = await connect();
    const a = sessionAccount();
    const b = ed25519Account("03");
    const t = seconds(now());
    const reply = await c.subscribe([sub05(a, [0], false, t), {...subP(b, [0], false, t), s: a.ed.sign("x").toString("base64")}]);
    expect(reply.results).toEqual([
      {success: true, expires_at: now() + 65 * MIN},
      {errcode: 5, code: "MONITOR_ERROR_BAD_SIGNATURE", error: "Signature verification failed"},
    ]);
  });
});

describe("one subscription per account and connection", () => {
  it("re-subscribing merges namespaces, ORs the data flag and resets the expiry (Session)", async () => {
    node = await startWsNode();
    const c = await connect();
    const acc = sessionAccount();
    await c.subscribe(sub05(acc, [1], true, seconds(now())));
    node.h.clock.advance(30 * MIN);
    const renewed = await c.subscribe(sub05(acc, [2], false, seconds(now())));
    expect(renewed.expires_at).toBe(now() + 65 * MIN);
    expect(node.ws.stats().subscriptions).toBe(1);
    await node.h.store.store(message(acc.hex, 1, "one", now()));
    await node.h.store.store(message(acc.hex, 2, "two", now()));
    await c.sync();
    expect(c.pushes().map((p) => [p.namespace, p.data])).toEqual([
      [1, b64("one")],
      [2, b64("two")],
    ]);
  });

  it("two connections on one account each get the message once", async () => {
    node = await startWsNode();
    const [c1, c2] = [await connect(), await connect()];
    const acc = sessionAccount();
    await c1.subscribe(sub05(acc, [0], false, seconds(now())));
    await c2.subscribe(sub05(acc, [0], false, seconds(now())));
    await c2.subscribe(sub05(acc, [0], false, seconds(now())));
    await node.h.store.store(message(acc.hex, 0, "x", now()));
    await Promise.all([c1.sync(), c2.sync()]);
    expect([c1.pushes().length, c2.pushes().length]).toEqual([1, 1]);
  });

  it("unsubscribe removes namespaces, then the subscription", async () => {
    node = await startWsNode();
    const c = await connect();
    const acc = sessionAccount();
    await c.subscribe(sub05(acc, [0, 1], false, seconds(now())));
    expect(await c.request("unsubscribe", {params: {account: acc.hex, n: [0]}})).toMatchObject({type: "unsubscribe", removed: true});
    await node.h.store.store(message(acc.hex, 0, "gone", now()));
    await node.h.store.store(message(acc.hex, 1, "kept", now()));
    await c.sync();
    expect(c.pushes().map((p) => p.namespace)).toEqual([1]);
    expect((await c.request("unsubscribe", {params: {account: acc.hex}})).removed).toBe(true);
    expect((await c.request("unsubscribe", {params: {account: acc.hex}})).removed).toBe(false);
    expect(node.ws.stats().subscriptions).toBe(0);
  });

  it("a closed connection's subscriptions are dropped", async () => {
    node = await startWsNode();
    const c = await connect();
    await c.subscribe(sub05(sessionAccount(), [0], false, seconds(now())));
    expect(node.ws.stats()).toMatchObject({connections: 1, subscriptions: 1});
    c.close();
    await c.closed;
    await expect.poll(() => node.ws.stats()).toMatchObject({connections: 0, subscriptions: 0});
  });
});

describe("expiry", () => {
  it("a subscription lasts 65 minutes unless renewed", async () => {
    node = await startWsNode();
    const c = await connect();
    const acc = sessionAccount();
    await c.subscribe(sub05(acc, [0], false, seconds(now())));
    node.h.clock.advance(65 * MIN);
    await node.h.store.store(message(acc.hex, 0, "at expiry", now()));
    node.h.clock.advance(1);
    await node.h.store.store(message(acc.hex, 0, "after expiry", now()));
    await c.sync();
    expect(c.pushes()).toHaveLength(1);

    expect(node.ws.sweep()).toBe(1);
    expect(await c.waitFor((f) => f.type === "subscription_ended")).toEqual({type: "subscription_ended", account: acc.hex, reason: "expired"});
    expect(node.ws.stats().subscriptions).toBe(0);
  });

  it("renewing before expiry keeps pushes flowing past the first 65 minutes", async () => {
    node = await startWsNode();
    const c = await connect();
    const acc = sessionAccount();
    await c.subscribe(sub05(acc, [0], false, seconds(now())));
    node.h.clock.advance(60 * MIN);
    await c.subscribe(sub05(acc, [0], false, seconds(now())));
    node.h.clock.advance(60 * MIN);
    await node.h.store.store(message(acc.hex, 0, "two hours in", now()));
    await c.sync();
    expect(c.pushes()).toHaveLength(1);
    expect(node.ws.sweep()).toBe(0);
  });
});
