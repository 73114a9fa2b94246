/**
 * Persisted retries against a real SQLite table and a scripted peer: the back-off, delivery of a
 * store as a push, of a revoke as a push of the account's revocation state, of an expire_all as a
 * push of the caps it set, dropping on refusal,
 * on expiry and when the peer leaves, and resuming after a restart.
 */
import {afterEach, beforeAll, beforeEach, describe, expect, it} from "vitest";
import {initHashing} from "../../../src/crypto/hash.js";
import {resolveReplicationOptions} from "../../../src/replication/options.js";
import {PeerHealth} from "../../../src/replication/peer-health.js";
import {PeerClientError} from "../../../src/peer/peer-retry.js";
import {RetryQueue} from "../../../src/replication/retry-queue.js";
import {RevocationIndex} from "../../../src/replication/revocation-index.js";
import {RevocationSync} from "../../../src/replication/revocation-sync.js";
import type {PeerReply, PeerRequest} from "../../../src/replication/wire.js";
import {ReplicationTables, RetryTable, type SqliteMessageStore} from "../../../src/storage/index.js";
import type {NodeRecord} from "../../../src/swarm/record-types.js";
import {systemClock} from "../../../src/util/clock.js";
import {sessionAccount, sessionHash} from "../../utils/keys.js";
import {silent} from "../../utils/rpc-harness.js";
import {openTestStore} from "../../utils/store.js";

const PEER = "33".repeat(32);
const opts = resolveReplicationOptions({retryInitialMs: 20, retryFactor: 2, retryMaxMs: 100});
let store: SqliteMessageStore;
let peers: string[];
let calls: Array<{at: number; req: PeerRequest}>;
let answer: (req: PeerRequest) => Promise<PeerReply>;

beforeAll(() => initHashing());
beforeEach(async () => {
  store = await openTestStore({}, {clock: systemClock});
  peers = [PEER];
  calls = [];
});
afterEach(() => store.close());

function queue(): RetryQueue {
  const transport = {
    request: (_peer: string, req: PeerRequest): Promise<PeerReply> => {
      calls.push({at: Date.now(), req});
      return answer(req);
    },
  };
  const view = {servedBy: () => () => true, ourSwarm: () => 0n};
  return new RetryQueue(opts, {
    table: new RetryTable(store.db),
    tables: new ReplicationTables(store.db),
    revocations: new RevocationSync({revocations: store.revocations, index: new RevocationIndex(), transport, view, clock: systemClock}),
    transport,
    view: {snapshot: {} as never, peers: () => peers.map((nodeId) => ({nodeId}) as NodeRecord)},
    health: new PeerHealth(1_000, systemClock),
    clock: systemClock,
    logger: silent,
  });
}

const down = (): Promise<PeerReply> => Promise.reject(new PeerClientError({code: "PEER_CLIENT_ERROR_CONNECT", peer: PEER, attempts: 1, cause: "ECONNREFUSED"}));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const until = async (check: () => boolean, ms = 2_000): Promise<void> => {
  for (const deadline = Date.now() + ms; !check(); await sleep(5)) if (Date.now() > deadline) throw new Error("timed out");
};

async function storedMessage(text: string): Promise<Record<string, unknown>> {
  const acc = sessionAccount();
  const data = Buffer.from(text);
  const now = Date.now();
  const hash = sessionHash(acc.hex, 0, data);
  await store.store({account: acc.hex, hash, namespace: 0, timestamp: now, expiry: now + 60_000, data, replaceNamespace: false});
  return {pubkey: acc.hex, timestamp: now, ttl: 60_000, data: data.toString("base64")};
}

describe("RetryQueue", () => {
  it("re-delivers a store as a push of the message, backing off ×2 up to the cap until the peer holds it", async () => {
    const params = await storedMessage("hello");
    let failures = 3;
    answer = (req) => {
      if (failures-- > 0) return down();
      const held = req.type === "push" ? req.messages.map((m) => m.hash) : [];
      return Promise.resolve({type: "push_ok", held});
    };
    const q = queue();
    q.start();
    q.enqueue(PEER, "store", params);
    await until(() => q.pending().size === 0);
    await q.close();
    expect(calls.map((c) => c.req.type)).toEqual(["push", "push", "push", "push"]);
    const gaps = calls.slice(1).map((c, i) => c.at - calls[i]!.at);
    [40, 80, 100].forEach((want, i) => {
      expect(gaps[i]!, `gap ${i} of ${gaps.join(",")}`).toBeGreaterThanOrEqual(want - 5);
      expect(gaps[i]!, `gap ${i} of ${gaps.join(",")}`).toBeLessThan(want + 150);
    });
  });

  it("replays other methods and drops them once the peer answers, even with a refusal", async () => {
    answer = () => Promise.resolve({type: "rpc_ok", status: 401, body: "delete signature verification failed"});
    const q = queue();
    q.start();
    q.enqueue(PEER, "delete", {pubkey: sessionAccount().hex, messages: ["x"], signature: "s"});
    await until(() => q.pending().size === 0);
    await q.close();
    expect(calls).toHaveLength(1);
    expect(calls[0]!.req).toMatchObject({type: "rpc", method: "delete", params: {messages: ["x"]}});
  });

  it("re-delivers a revoke as a push of the account's revocation state, never as the client request", async () => {
    const acc = sessionAccount();
    const token = Buffer.alloc(36, 7);
    const signedAt = Date.now() - 600_000; // the client request's ±60 s window is long gone
    await store.revokeSubaccounts(acc.hex, [token], signedAt);
    let failures = 2;
    answer = (req) => {
      if (failures-- > 0) return down();
      const accounts = req.type === "push_revocations" ? [...new Set(req.records.map((r) => r.account))] : [];
      return Promise.resolve({type: "push_revocations_ok", accounts});
    };
    const q = queue();
    q.start();
    q.enqueue(PEER, "revoke_subaccount", {pubkey: acc.hex, revoke: [token.toString("hex")], timestamp: signedAt, signature: "s"});
    await until(() => q.pending().size === 0);
    await q.close();
    expect(calls.map((c) => c.req.type)).toEqual(["push_revocations", "push_revocations", "push_revocations"]);
    expect(calls[2]!.req).toEqual({type: "push_revocations", records: [{account: acc.hex, token, revoked: true, timestamp: signedAt}]});
  });

  it("re-delivers an expire_all as a push of the caps it set here, never as the client request", async () => {
    const params = await storedMessage("capped");
    const account = params.pubkey as string;
    const hash = sessionHash(account, 0, Buffer.from("capped"));
    const expiry = Date.now() + 30_000;
    const other = await storedMessage("another account, same cap");
    await store.expireAll(account, 0, expiry);
    await store.expireAll(other.pubkey as string, 0, expiry);
    let held = false;
    answer = (req) => {
      const tombstones = req.type === "push" ? req.tombstones.map((t) => t.hash) : [];
      return Promise.resolve({type: "push_ok", held: held ? tombstones : []}); // not held: the peer's view lags
    };
    const q = queue();
    q.start();
    q.enqueue(PEER, "expire_all", {pubkey: account, expiry, signature: "s"});
    await until(() => calls.length >= 2);
    held = true;
    await until(() => q.pending().size === 0);
    await q.close();
    expect(new Set(calls.map((c) => c.req.type))).toEqual(new Set(["push"]));
    const push = calls.at(-1)!.req as Extract<PeerRequest, {type: "push"}>;
    expect(push.messages).toEqual([]);
    expect(push.tombstones).toEqual([{hash, account, cap: expiry, until: expect.any(Number) as number}]);
  });

  it("drops an expire_all retry without a call when none of its caps is left here", async () => {
    answer = () => Promise.reject(new Error("no call expected"));
    const q = queue();
    q.start();
    q.enqueue(PEER, "expire_all", {pubkey: sessionAccount().hex, expiry: Date.now() + 30_000, signature: "s"});
    await until(() => q.pending().size === 0);
    await q.close();
    expect(calls).toEqual([]);
  });

  it("keeps a revocation retry until the peer accepts the account, drops it when the state left us", async () => {
    const acc = sessionAccount();
    await store.unrevokeSubaccounts(acc.hex, [Buffer.alloc(36, 1)]);
    let accept = false;
    answer = () => Promise.resolve({type: "push_revocations_ok", accounts: accept ? [acc.hex] : []});
    const q = queue();
    q.start();
    q.enqueue(PEER, "unrevoke_subaccount", {pubkey: acc.hex, unrevoke: ["x"], timestamp: 1, signature: "s"});
    await until(() => calls.length >= 2);
    expect(q.pending().get(PEER), "not accepted yet: still pending").toBe(1);
    accept = true;
    await until(() => q.pending().size === 0);
    const sent = calls.length;
    q.enqueue(PEER, "revoke_subaccount", {pubkey: acc.hex, revoke: ["x"], timestamp: 1, signature: "s"});
    await store.revocations.deleteAccounts([acc.hex]); // relocated meanwhile: nothing left to send
    await until(() => q.pending().size === 0);
    await q.close();
    expect(calls.length, "no push for an account without state").toBe(sent);
  });

  it("drops rows when the peer leaves our swarm or the message is gone, and resumes after a restart", async () => {
    answer = down;
    const first = queue();
    first.enqueue(PEER, "delete", {pubkey: sessionAccount().hex, messages: ["x"]});
    first.enqueue(PEER, "store", await storedMessage("kept"));
    const gone = await storedMessage("gone");
    first.enqueue(PEER, "store", gone);
    await first.close();
    await store.deleteAll(gone.pubkey as string, "all");
    expect(first.pending().get(PEER)).toBe(3);

    let delivered: string[] = [];
    answer = (req) => {
      if (req.type === "push") delivered = req.messages.map((m) => m.hash);
      return Promise.resolve(req.type === "push" ? {type: "push_ok", held: delivered} : {type: "rpc_ok", status: 200, body: {}});
    };
    const restarted = queue();
    restarted.start();
    await until(() => restarted.pending().size === 0);
    expect(delivered).toHaveLength(1);

    answer = down;
    restarted.enqueue(PEER, "delete", {pubkey: sessionAccount().hex, messages: ["y"]});
    peers = [];
    await until(() => restarted.pending().size === 0);
    await restarted.close();
  });
});
