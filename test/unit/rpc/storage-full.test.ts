/**
 * A store refused for lack of room (STORAGE_ERROR_FULL: the size limit, or a full disk) is told
 * apart from other failures: the node's entry is `{failed, storage_full, reason}` (not Session's
 * `query_failure`) and the answer is 507 when no swarm member stored it (docs/PROTOCOL.md (Client
 * RPC) §1).
 */
import type {PeerEntry} from "../../../src/protocol/response.js";
import {afterEach, describe, expect, it} from "vitest";
import type {SwarmRouter} from "../../../src/swarm/swarm-router.js";
import {sessionAccount, sessionHash} from "../../utils/keys.js";
import {rpcHarness, type RpcHarness} from "../../utils/rpc-harness.js";

const DAY = 86_400_000;
/** 64 KiB of data per message: a 512 KiB store fills within a dozen. */
const BIG = Buffer.alloc(64 * 1024, 1);

let h: RpcHarness;
afterEach(() => h.close());

const acc = sessionAccount();
const storeParams = (data: Buffer, ts: number): Record<string, unknown> => ({pubkey: acc.hex, timestamp: ts, ttl: DAY, data: data.toString("base64")});

/** Stores distinct big messages until the store refuses one; returns that answer. */
async function fillUntilRefused(): Promise<{status: number; body: any}> {
  for (let i = 0; i < 100; i++) {
    const res = await h.json("store", storeParams(Buffer.concat([BIG, Buffer.from(`#${i}`)]), h.clock.now()));
    if (res.status !== 200) return res;
  }
  throw new Error("the store never filled up");
}

/** A router for a swarm of us plus fixed peer entries. */
function swarmOf(peers: Record<string, PeerEntry>): SwarmRouter {
  return {
    notReadyReasons: () => [],
    isOurs: () => true,
    swarmFor: () => ({snodes: [], swarm: "0"}),
    forward: () => Promise.resolve(peers),
  };
}

describe("a store refused for lack of storage", () => {
  it("answers 507 with a storage_full entry on a lone node, and deletes still answer 200", async () => {
    h = await rpcHarness({sizeLimitBytes: 512 * 1024});
    const res = await fillUntilRefused();
    expect(res.status).toBe(507);
    const entry = res.body.swarm[h.identity.nodeId];
    expect(entry).toMatchObject({failed: true, storage_full: true});
    expect(entry.reason).toMatch(/storage full/);
    expect(entry.query_failure).toBeUndefined();

    const ts = h.clock.now();
    const del = await h.json("delete_all", {
      pubkey: acc.hex,
      pubkey_ed25519: acc.ed.pub.toString("hex"),
      timestamp: ts,
      signature: acc.ed.sign(`delete_all${ts}`).toString("base64"),
    });
    expect(del.status).toBe(200);
    expect((await h.json("store", storeParams(Buffer.from("fits again"), h.clock.now()))).status).toBe(200);
  });

  it("answers a forwarded store (recurse: false) with 507 and the entry alone", async () => {
    h = await rpcHarness({sizeLimitBytes: 512 * 1024});
    await fillUntilRefused();
    const res = await h.handler.handle("store", storeParams(Buffer.from("forwarded"), h.clock.now()), {recurse: false});
    expect(res.status).toBe(507);
    expect(res.body).toMatchObject({failed: true, storage_full: true});
  });

  it("answers 200 when another member stored it", async () => {
    h = await rpcHarness({sizeLimitBytes: 512 * 1024, router: swarmOf({peer: {hash: "x", expiry: 1}})});
    await fillUntilRefused().catch(() => undefined);
    const data = Buffer.from("peer has room");
    const res = await h.json("store", storeParams(data, h.clock.now()));
    expect(res.status).toBe(200);
    expect(res.body.hash).toBe(sessionHash(acc.hex, 0, data));
    expect(res.body.swarm[h.identity.nodeId]).toMatchObject({failed: true, storage_full: true});
  });

  it("answers 507 when no member stored it and one had no room, even if another timed out", async () => {
    h = await rpcHarness({sizeLimitBytes: 512 * 1024, router: swarmOf({peer: {failed: true, timeout: true}})});
    let res: {status: number; body: any} = {status: 0, body: null};
    for (let i = 0; i < 100 && res.status !== 507; i++) {
      res = await h.json("store", storeParams(Buffer.concat([BIG, Buffer.from(`t${i}`)]), h.clock.now()));
    }
    expect(res.status).toBe(507);
    expect(res.body.swarm.peer).toEqual({failed: true, timeout: true});
  });

  it("keeps Session's 500 and query_failure for other storage failures", async () => {
    h = await rpcHarness({router: swarmOf({peer: {failed: true, timeout: true}})});
    await h.store.close();
    const res = await h.json("store", storeParams(Buffer.from("closed"), h.clock.now()));
    expect(res.status).toBe(500);
    expect(res.body.swarm[h.identity.nodeId]).toMatchObject({failed: true, query_failure: true});
    expect(res.body.swarm[h.identity.nodeId].storage_full).toBeUndefined();
  });
});
