/**
 * A forwarded delete_all (fan-out or persisted retry, `recurse: false`) deletes only messages
 * timestamped at or before its signed timestamp; from a client it deletes everything, as in Session
 * (docs/PROTOCOL.md (Replication) §4.1).
 */
import {afterEach, beforeEach, describe, expect, it} from "vitest";
import {sessionAccount, sessionHash, type SessionAccount} from "../../utils/keys.js";
import {rpcHarness, type RpcHarness} from "../../utils/rpc-harness.js";

let h: RpcHarness;
let acc: SessionAccount;
beforeEach(async () => {
  h = await rpcHarness();
  acc = sessionAccount();
});
afterEach(() => h.close());

/** Stores public-inbox messages (ns 0 and 10 need no auth) with the given timestamps. */
async function seed(items: Array<{data: string; ts: number; ns?: number}>): Promise<string[]> {
  const out: string[] = [];
  for (const it of items) {
    const ns = it.ns ?? 0;
    const res = await h.call("store", {pubkey: acc.hex, namespace: ns, timestamp: it.ts, ttl: 86_400_000, data: Buffer.from(it.data).toString("base64")});
    expect(res.status, `seed ${it.data}`).toBe(200);
    out.push(sessionHash(acc.hex, ns, Buffer.from(it.data)));
  }
  return out;
}

function deleteAll(ts: number, namespace?: "all"): Record<string, unknown> {
  const signature = acc.ed.sign(`delete_all${namespace ?? ""}${ts}`).toString("base64");
  return {pubkey: acc.hex, pubkey_ed25519: acc.ed.pub.toString("hex"), timestamp: ts, signature, ...(namespace === undefined ? {} : {namespace})};
}

const held = (hashes: string[]): string[] => [...h.store.getExpiries(acc.hex, hashes).keys()].sort();

describe("delete_all forwarded by a swarm peer", () => {
  it("keeps the messages timestamped after the request, and deletes the rest", async () => {
    const now = h.clock.now();
    const [before, at, after] = await seed([{data: "before", ts: now - 1}, {data: "at", ts: now}, {data: "after", ts: now + 1}]);
    const res = await h.handler.handle("delete_all", deleteAll(now), {recurse: false});
    expect(res.status).toBe(200);
    expect((res.body as {deleted: string[]}).deleted).toEqual([before, at].sort());
    expect(held([before!, at!, after!])).toEqual([after]);
  });

  it("is bounded the same way when replayed late, whatever the member's clock says", async () => {
    const ts = h.clock.now();
    const [covered] = await seed([{data: "covered", ts: ts - 1_000}]);
    h.clock.advance(65_000); // a retry inside the forwarded ±70 s window
    const [later, otherNs] = await seed([{data: "sent after the request", ts: ts + 30_000}, {data: "in ns 10, later", ts: ts + 40_000, ns: 10}]);
    const res = await h.handler.handle("delete_all", deleteAll(ts, "all"), {recurse: false});
    expect((res.body as {deleted: Record<string, string[]>}).deleted).toEqual({0: [covered]});
    expect(held([covered!, later!, otherNs!])).toEqual([later, otherNs].sort());
  });

  it("from a client, deletes every message of the namespace, later timestamps included (Session)", async () => {
    const now = h.clock.now();
    const hashes = await seed([{data: "before", ts: now - 1}, {data: "future-dated", ts: now + 5_000}]);
    const res = await h.json("delete_all", deleteAll(now));
    expect(res.status).toBe(200);
    expect(held(hashes)).toEqual([]);
  });
});
