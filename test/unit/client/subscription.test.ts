import {afterEach, describe, expect, it} from "vitest";
import {Ed25519Account, ParsClient, type PushedMessage, type SubscriptionState} from "../../../src/client/index.js";
import {nobleBackend} from "../../../src/crypto/index.js";
import {FakeClock} from "../../../src/util/clock.js";
import {fakeNode, type FakeNode} from "../../utils/fake-node.js";
import {waitFor} from "../../utils/swarm-harness.js";

/**
 * Subscriptions and paging against a scripted node (test/utils/fake-node.ts), time driven by a
 * FakeClock: the subscription renews before the node's 65-minute expiry, resubscribes after
 * `subscription_ended` and after the connection drops, re-resolves the swarm after a wrong-swarm
 * refusal; retrieveAll refuses a node that pages without progress.
 */
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function setup(rpc: Parameters<typeof fakeNode>[0] = () => ({status: 200, body: {}})): Promise<{node: FakeNode; client: ParsClient; clock: FakeClock}> {
  const node = await fakeNode(rpc);
  cleanup.push(() => node.close());
  const clock = new FakeClock(Date.now());
  const client = await ParsClient.init({seeds: [node.url], direct: true}, {pq: nobleBackend, clock});
  cleanup.push(() => client.close());
  return {node, client, clock};
}

const subscribes = (node: FakeNode): Array<Record<string, unknown>> => node.frames.filter((f) => f.frame.type === "subscribe").map((f) => f.frame);
const answer = (node: FakeNode, frame: Record<string, unknown>): void => {
  for (const s of node.sockets) if (s.readyState === s.OPEN) s.send(JSON.stringify(frame));
};

describe("Subscription", () => {
  it("subscribes with a signed monitor request, delivers pushes, renews before expiry, and resubscribes after subscription_ended", async () => {
    const {node, client, clock} = await setup();
    const me = new Ed25519Account(new Uint8Array(32).fill(3));
    const got: PushedMessage[] = [];
    const states: SubscriptionState[] = [];
    const sub = client.subscribe(me, {namespaces: [0, 5], onMessage: (m) => got.push(m), onState: (s) => states.push(s)});
    cleanup.push(() => sub.close());
    await waitFor("subscribe frame", () => subscribes(node).length === 1, 5_000);
    const params = subscribes(node)[0]!.params as Record<string, unknown>;
    expect(params).toMatchObject({P: me.ownerFields.pubkey_ed25519, n: [0, 5], d: true, t: Math.floor(clock.now() / 1000)});
    answer(node, {id: "sub", type: "subscribe", success: true, expires_at: clock.now() + 3_900_000});
    await sub.ready;
    answer(node, {type: "message", account: me.id, hash: "h".repeat(43), namespace: 5, timestamp: 1, expiry: 2, data: Buffer.from("hi").toString("base64")});
    await waitFor("push", () => got.length === 1, 5_000);
    expect(got[0]).toMatchObject({namespace: 5, data: Buffer.from("hi")});

    await clock.advance(55 * 60_000);
    await waitFor("renewal", () => subscribes(node).length === 2, 5_000);

    answer(node, {type: "subscription_ended", account: me.id, reason: "expired"});
    await waitFor("connection dropped", () => states.includes("reconnecting"), 5_000);
    await clock.advance(1_000);
    await waitFor("resubscribed on a new connection", () => subscribes(node).length === 3 && node.sockets.length === 2, 5_000);
    sub.close();
    expect(states.at(-1)).toBe("closed");
  });

  it("a wrong-swarm refusal re-resolves the swarm before reconnecting; a dropped connection reconnects", async () => {
    const {node, client, clock} = await setup();
    const me = new Ed25519Account(new Uint8Array(32).fill(4));
    let reconnects = 0;
    const sub = client.subscribe(me, {onMessage: () => undefined, onState: (s) => void (s === "reconnecting" && reconnects++)});
    cleanup.push(() => sub.close());
    await waitFor("subscribe", () => subscribes(node).length === 1, 5_000);
    const resolved = node.calls.filter((m) => m === "get_swarm").length;
    answer(node, {id: "sub", type: "error", code: "MONITOR_ERROR_WRONG_SWARM", errcode: 6, error: "Wrong swarm"});
    await waitFor("dropped", () => node.sockets[0]!.readyState !== node.sockets[0]!.OPEN, 5_000);
    await clock.advance(1_000);
    await waitFor("resubscribed", () => subscribes(node).length === 2, 5_000);
    expect(node.calls.filter((m) => m === "get_swarm").length).toBe(resolved + 1);

    node.sockets[1]!.terminate();
    await waitFor("reconnect scheduled", () => reconnects === 2, 5_000);
    await clock.advance(2_000);
    await waitFor("third subscription", () => subscribes(node).length === 3, 5_000);
  });
});

describe("ParsClient.close", () => {
  it("ends its subscriptions: their sockets close and no reconnect follows", async () => {
    const {node, client, clock} = await setup();
    const states: SubscriptionState[] = [];
    client.subscribe(new Ed25519Account(new Uint8Array(32).fill(6)), {onMessage: () => undefined, onState: (st) => states.push(st)});
    await waitFor("subscribe", () => subscribes(node).length === 1, 5_000);
    await client.close();
    expect(states.at(-1)).toBe("closed");
    await waitFor("socket closed", () => node.sockets[0]!.readyState === node.sockets[0]!.CLOSED, 5_000);
    await clock.advance(60_000);
    expect(node.sockets).toHaveLength(1);
  });
});

describe("retrieveAll", () => {
  it("refuses a node that pages without progress", async () => {
    const page = {messages: [{hash: "x".repeat(43), timestamp: 1, expiration: 2, data: ""}], more: true};
    const {client} = await setup((method) => (method === "retrieve" ? {status: 200, body: page} : {status: 200, body: {}}));
    await expect(client.retrieveAll(new Ed25519Account(new Uint8Array(32).fill(5)))).rejects.toMatchObject({code: "CLIENT_ERROR_BAD_RESPONSE"});
  });
});
