/**
 * Subaccount revocations replicate durably (docs/PROTOCOL.md (Replication) §5.5), with real nodes
 * on loopback:
 * - a member that was down while a revoke was acknowledged, and comes back after the client
 *   request's ±60 s window (the nodes' shared clock is moved 5 minutes on), refuses the token;
 * - an unrevoke is not undone by anti-entropy with a member that still holds the revocation;
 * - after a swarm count change moves the account, the new swarm (which never saw the revoke)
 *   refuses the token, and the old swarm keeps nothing behind;
 * - bad records from a peer, over the real channel, get a `bad_message` error and change nothing.
 * Anti-entropy's periodic rounds are set far apart so the rounds that matter are run explicitly
 * (and at startup, as always).
 */
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {parseAccount} from "../../src/protocol/account.js";
import {userSwarm} from "../../src/swarm/mapping.js";
import type {Clock} from "../../src/util/clock.js";
import {ed25519, ed25519Account, type SessionAccount} from "../utils/keys.js";
import {SwarmHarness, pickLabels, rpc, waitFor, type HttpResult, type TestNode} from "../utils/swarm-harness.js";

const FLAGS = {"replication.antiEntropyIntervalMs": "600000", "replication.retryInitialMs": "200", "replication.retryMaxMs": "2000"};
const FIVE_MINUTES_MS = 5 * 60_000;

/** Every node's clock: real time plus an offset the test moves forward. */
class ShiftedClock implements Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
}

interface Subaccount {
  owner: SessionAccount;
  token: Buffer;
  sig: string;
  sub: ReturnType<typeof ed25519>;
}

/** A read+write subaccount token of a new 03 account (optionally one whose swarm satisfies `want`). */
function subaccount(want: (account: string) => boolean = () => true): Subaccount {
  let owner = ed25519Account("03");
  while (!want(owner.hex)) owner = ed25519Account("03");
  const sub = ed25519();
  const token = Buffer.concat([Buffer.from([0x03, 0x03, 0, 0]), sub.pub]);
  return {owner, token, sig: owner.ed.sign(token).toString("base64"), sub};
}

/** A store signed by the subaccount: 200 while the token is valid, 401 once it is revoked. */
function storeAs(n: TestNode, s: Subaccount, clock: Clock): Promise<HttpResult> {
  const ts = clock.now();
  return rpc(n.pool, "store", {
    pubkey: s.owner.hex,
    namespace: 11,
    timestamp: ts,
    ttl: 3_600_000,
    data: Buffer.from(`by subaccount at ${ts}`).toString("base64"),
    subaccount: s.token.toString("hex"),
    subaccount_sig: s.sig,
    signature: s.sub.sign(`store11${ts}`).toString("base64"),
  });
}

function tokenRequest(method: "revoke_subaccount" | "unrevoke_subaccount", s: Subaccount, ts: number): Record<string, unknown> {
  const field = method === "revoke_subaccount" ? "revoke" : "unrevoke";
  const signature = s.owner.ed.sign(Buffer.concat([Buffer.from(`${method}${ts}`), s.token])).toString("base64");
  return {pubkey: s.owner.hex, [field]: [s.token.toString("hex")], timestamp: ts, signature};
}

const revoked = (n: TestNode, s: Subaccount): boolean => n.node.store.isRevoked(s.owner.hex, s.token);
const ready = async (h: SwarmHarness): Promise<boolean> => (await Promise.all(h.nodes.map((n) => rpc(n.pool, "info", {})))).every((r) => r.status === 200);
const syncWith = (from: TestNode, peer: TestNode) => from.node.replication!.antiEntropy.syncWith(peer.node.nodeId);

describe("a swarm of three", () => {
  const clock = new ShiftedClock();
  const h = new SwarmHarness({mode: "pip0008", flags: FLAGS, clock});
  const s = subaccount();

  beforeAll(async () => {
    for (const label of await pickLabels("revocations", 1, [() => true, () => true, () => true])) await h.startNode(label);
    h.writeMembership(await h.nodeRecords());
    await waitFor("every node ready", () => ready(h));
  });
  afterAll(() => h.close());

  it("a member down while a revoke was acknowledged refuses the token after coming back past the request window", async () => {
    const [a, , c] = h.nodes as [TestNode, TestNode, TestNode];
    expect((await storeAs(c, s, clock)).status).toBe(200);
    const {label, port} = c;
    const downId = c.node.nodeId;
    await h.stopNode(c);

    const request = tokenRequest("revoke_subaccount", s, clock.now());
    const res = await rpc(a.pool, "revoke_subaccount", request);
    expect(res.status).toBe(200);
    // A stopped member refuses connections: said as such, not as a timeout (issue #11 item 6).
    expect(res.body.swarm[downId]).toEqual({failed: true, unreachable: true, reason: "connect ECONNREFUSED"});
    expect((await storeAs(a, s, clock)).status).toBe(401);

    clock.offsetMs += FIVE_MINUTES_MS;
    expect((await rpc(a.pool, "revoke_subaccount", request)).status, "the client request can no longer be replayed").toBe(406);
    const back = await h.startNode(label, {port});
    await waitFor("the restarted member to learn the revocation", () => revoked(back, s), 20_000);
    const refused = await storeAs(back, s, clock);
    expect(refused).toEqual({status: 401, body: "store signature verification failed"});
    await waitFor("the retries for it to drain", () => Object.keys(a.node.replication!.stats().pendingRetries).length === 0, 20_000);
  });

  it("anti-entropy does not undo an unrevoke that a member missed", async () => {
    const [a, b, c] = h.nodes as [TestNode, TestNode, TestNode];
    for (const n of h.nodes) expect(revoked(n, s), n.label).toBe(true);
    // c's own rounds are paused, so c cannot repair itself before a and b have pulled from it.
    await c.node.replication!.antiEntropy.close();
    // The unrevoke reached a and b; its forward to c was lost (and c's copy of the revoke is older).
    const at = clock.now();
    for (const n of [a, b]) expect(await n.node.store.unrevokeSubaccounts(s.owner.hex, [s.token], at)).toBe(1);
    expect(revoked(c, s), "c still holds the revocation").toBe(true);
    await syncWith(a, c);
    await syncWith(b, c);
    expect(revoked(a, s), "a pulled from c and kept the unrevoke").toBe(false);
    expect(revoked(b, s)).toBe(false);
    expect((await syncWith(c, a)).revocations, "c pulled the unrevoke").toBe(1);
    expect(revoked(c, s)).toBe(false);
    for (const n of h.nodes) expect((await storeAs(n, s, clock)).status, n.label).toBe(200);
  });

  it("an unrevoke acknowledged while a member is down reaches it and survives rounds in every direction", async () => {
    const [a, b, c] = h.nodes as [TestNode, TestNode, TestNode];
    expect((await rpc(b.pool, "revoke_subaccount", tokenRequest("revoke_subaccount", s, clock.now()))).status).toBe(200);
    for (const n of h.nodes) expect(revoked(n, s), n.label).toBe(true);
    const {label, port} = c;
    await h.stopNode(c);
    clock.offsetMs += 1; // the unrevoke is signed strictly after the revoke
    expect((await rpc(a.pool, "unrevoke_subaccount", tokenRequest("unrevoke_subaccount", s, clock.now()))).status).toBe(200);

    clock.offsetMs += FIVE_MINUTES_MS;
    const back = await h.startNode(label, {port});
    await waitFor("the restarted member to load the membership", async () => (await rpc(back.pool, "info", {})).status === 200);
    await Promise.all([syncWith(a, back), syncWith(b, back)]); // may run before back has caught up
    await waitFor("the restarted member to learn the unrevoke", () => !revoked(back, s), 20_000);
    for (const [x, y] of [[a, back], [b, back], [back, a], [back, b], [a, b], [b, a]] as const) await syncWith(x, y);
    for (const n of [a, b, back]) expect((await storeAs(n, s, clock)).status, n.label).toBe(200);
  });
});

describe("bad revocation records from a peer", () => {
  const clock = new ShiftedClock();
  const h = new SwarmHarness({mode: "pip0008", flags: FLAGS, clock});

  beforeAll(async () => {
    for (const label of await pickLabels("badrevocations", 1, [() => true, () => true, () => true])) await h.startNode(label);
    h.writeMembership(await h.nodeRecords());
    await waitFor("every node ready", () => ready(h));
  });
  afterAll(() => h.close());

  it("get a clear error over the channel and change nothing; the node keeps serving", async () => {
    const [a, b] = h.nodes as [TestNode, TestNode, TestNode];
    const s = subaccount();
    const transport = a.node.replication!.transport;
    const peer = b.node.nodeId;
    const good = {account: s.owner.hex, token: s.token, revoked: true, timestamp: clock.now()};
    const late = {...good, timestamp: clock.now() + 10 * 60_000};
    const badMessage = (text: RegExp) => ({type: "error", code: "bad_message", message: expect.stringMatching(text)});
    expect(await transport.request(peer, {type: "push_revocations", records: [good, late]})).toEqual(badMessage(/in the future/));
    const raw = (records: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify({v: 1, type: "push_revocations", records}));
    const wire = {account: s.owner.hex, token: s.token.toString("hex"), revoked: true, timestamp: clock.now()};
    expect(await transport.requestRaw(peer, raw([wire, {...wire, token: "00".repeat(35)}]))).toEqual(badMessage(/72 lowercase hex/));
    expect(await transport.requestRaw(peer, raw([wire, {...wire, revoked: null}]))).toEqual(badMessage(/boolean/));
    expect(await transport.requestRaw(peer, raw(Array.from({length: 10_001}, () => wire)))).toEqual(badMessage(/more than 10000/));
    expect(b.node.store.revocations.ofAccount(s.owner.hex), "nothing merged").toEqual([]);
    expect((await storeAs(b, s, clock)).status).toBe(200);

    expect(await transport.request(peer, {type: "push_revocations", records: [good]})).toEqual({type: "push_revocations_ok", accounts: [s.owner.hex]});
    expect(await storeAs(b, s, clock)).toEqual({status: 401, body: "store signature verification failed"});
  });
});

describe("a swarm count change", () => {
  const clock = new ShiftedClock();
  const h = new SwarmHarness({mode: "pip0008", flags: FLAGS, clock});
  // Served by swarm 1 once there are two swarms: only the three new nodes will serve it.
  const s = subaccount((account) => userSwarm(account, 2) === 1n);
  let labels: string[] = [];

  beforeAll(async () => {
    const inSwarm = (id: bigint) => (swarm: bigint) => swarm === id;
    labels = await pickLabels("revreloc", 2, [inSwarm(0n), inSwarm(0n), inSwarm(0n), inSwarm(1n), inSwarm(1n), inSwarm(1n)]);
    for (const label of labels.slice(0, 3)) await h.startNode(label);
    h.writeMembership(await h.nodeRecords());
    await waitFor("three ready nodes", () => ready(h));
  });
  afterAll(() => h.close());

  it("carries the revocation to the new swarm and leaves none behind", async () => {
    const old = [...h.nodes];
    expect((await storeAs(old[0]!, s, clock)).status).toBe(200);
    expect((await rpc(old[1]!.pool, "revoke_subaccount", tokenRequest("revoke_subaccount", s, clock.now()))).status).toBe(200);
    for (const n of old) expect(revoked(n, s), n.label).toBe(true);

    clock.offsetMs += FIVE_MINUTES_MS;
    const fresh: TestNode[] = [];
    for (const label of labels.slice(3)) fresh.push(await h.startNode(label));
    h.writeMembership(await h.nodeRecords());
    await waitFor("two swarms on every node", () => h.nodes.every((n) => n.node.membership?.snapshot?.view.swarmCount === 2));
    for (const n of fresh) expect(n.node.router.isOurs(parseAccount(s.owner.hex)!), n.label).toBe(true);
    await waitFor("every member of the new swarm to hold the revocation", () => fresh.every((n) => revoked(n, s)), 30_000);
    for (const n of fresh) expect(await storeAs(n, s, clock), n.label).toEqual({status: 401, body: "store signature verification failed"});
    await waitFor("the old swarm to hand the revocation state over", () => old.every((n) => n.node.store.revocations.ofAccount(s.owner.hex).length === 0), 30_000);
    expect((await storeAs(old[0]!, s, clock)).status, "the old swarm now answers 421").toBe(421);
  });
});
