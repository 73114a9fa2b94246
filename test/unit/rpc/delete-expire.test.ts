import {afterEach, beforeEach, describe, expect, it} from "vitest";
import {verifySignedReceipt} from "../../../src/receipts/response-signer.js";
import {sessionAccount, sessionHash, type SessionAccount} from "../../utils/keys.js";
import {rpcHarness, type RpcHarness} from "../../utils/rpc-harness.js";

const DAY = 86_400_000;
const b64 = (s: string): string => Buffer.from(s).toString("base64");

let h: RpcHarness;
let acc: SessionAccount;
let now: number;
beforeEach(async () => {
  h = await rpcHarness();
  acc = sessionAccount();
  now = h.clock.now();
});
afterEach(() => h.close());

/** Stores public-inbox messages (ns 0 and 10 need no auth), returns their hashes in order. */
async function seed(items: Array<{data: string; ns?: number; ts?: number}>): Promise<string[]> {
  const out: string[] = [];
  for (const it of items) {
    const ns = it.ns ?? 0;
    const res = await h.call("store", {pubkey: acc.hex, namespace: ns, timestamp: it.ts ?? now, ttl: DAY, data: b64(it.data)});
    expect(res.status, `seed ${it.data}`).toBe(200);
    out.push(sessionHash(acc.hex, ns, Buffer.from(it.data)));
  }
  return out;
}

const sig = (msg: string | Buffer): string => acc.ed.sign(msg).toString("base64");
const ed = (): string => acc.ed.pub.toString("hex");
const mine = (body: any): any => body.swarm[h.identity.nodeId];
const verifies = (receipt: string, entry: any): boolean =>
  verifySignedReceipt(h.ctx.pq, h.identity.nodeId, h.identity.mlDsa.publicKey, Buffer.from(receipt), entry);

describe("delete", () => {
  it("deletes the account's listed messages and signs PUBKEY ‖ requested ‖ deleted", async () => {
    const [a, b] = await seed([{data: "a"}, {data: "b"}]);
    const missing = "A".repeat(43);
    const messages = [b, missing, a] as string[];
    const res = await h.json("delete", {pubkey: acc.hex, pubkey_ed25519: ed(), messages, signature: sig("delete" + messages.join(""))});
    expect(res.status).toBe(200);
    const deleted = [a, b].sort() as string[];
    expect(mine(res.body).deleted).toEqual(deleted);
    expect(verifies(acc.hex + messages.join("") + deleted.join(""), mine(res.body))).toBe(true);
    expect(h.store.stats().messageCount).toBe(0);
  });

  it("answers 404 with required:true when nothing was deleted, and 401 on a bad signature", async () => {
    const messages = ["B".repeat(43)];
    const res = await h.call("delete", {pubkey: acc.hex, pubkey_ed25519: ed(), messages, required: true, signature: sig("delete" + messages[0])});
    expect(res.status).toBe(404);
    const bad = await h.call("delete", {pubkey: acc.hex, pubkey_ed25519: ed(), messages, signature: sig("delete")});
    expect(bad).toEqual({status: 401, body: "delete_msgs signature verification failed"});
  });

  it.each([
    [{messages: []}, "invalid request: messages does not contain any message hashes"],
    [{messages: ["short"]}, "invalid request: invalid message hash: short"],
    [{messages: undefined}, "invalid request: Required field 'messages' missing"],
    [{messages: [1]}, "invalid request: Invalid value given for 'messages': expected string array"],
    [{required: "yes"}, "invalid request: Invalid value given for 'required': expected boolean"],
  ])("rejects %j", async (override, body) => {
    const params = {pubkey: acc.hex, pubkey_ed25519: ed(), messages: ["C".repeat(43)], signature: sig("x"), ...override};
    expect(await h.call("delete", params)).toEqual({status: 400, body});
  });
});

describe("delete_all and delete_before", () => {
  it("delete_all of one namespace leaves the others", async () => {
    const [a, , c] = await seed([{data: "a"}, {data: "b", ns: 10}, {data: "c"}]);
    const ts = h.clock.now();
    const res = await h.json("delete_all", {pubkey: acc.hex, pubkey_ed25519: ed(), timestamp: ts, signature: sig(`delete_all${ts}`)});
    expect(res.status).toBe(200);
    const deleted = [a, c].sort() as string[];
    expect(mine(res.body).deleted).toEqual(deleted);
    expect(verifies(acc.hex + ts + deleted.join(""), mine(res.body))).toBe(true);
    expect(h.store.stats().messageCount).toBe(1);
  });

  it("delete_all with namespace all groups by namespace and signs the total order", async () => {
    const [a, b] = await seed([{data: "a"}, {data: "b", ns: 10}]);
    const ts = h.clock.now();
    const res = await h.json("delete_all", {pubkey: acc.hex, pubkey_ed25519: ed(), namespace: "all", timestamp: ts, signature: sig(`delete_allall${ts}`)});
    expect(mine(res.body).deleted).toEqual({0: [a], 10: [b]});
    expect(verifies(acc.hex + ts + [a, b].sort().join(""), mine(res.body))).toBe(true);
  });

  it("delete_all checks the timestamp window", async () => {
    const ts = h.clock.now() - 61_000;
    const res = await h.call("delete_all", {pubkey: acc.hex, pubkey_ed25519: ed(), timestamp: ts, signature: sig(`delete_all${ts}`)});
    expect(res).toEqual({status: 406, body: "delete_all timestamp too far from current time"});
  });

  it("delete_before removes messages with timestamp ≤ before, also for namespace all (broken in Session 2.8)", async () => {
    const [old0, , old10] = await seed([{data: "old0", ts: now - 5000}, {data: "new0"}, {data: "old10", ns: 10, ts: now - 5000}]);
    const before = now - 5000;
    const res = await h.json("delete_before", {pubkey: acc.hex, pubkey_ed25519: ed(), namespace: "all", before, signature: sig(`delete_beforeall${before}`)});
    expect(res.status).toBe(200);
    expect(mine(res.body).deleted).toEqual({0: [old0], 10: [old10]});
    expect(h.store.stats().messageCount).toBe(1);
    const future = h.clock.now() + 60_001;
    expect(await h.call("delete_before", {pubkey: acc.hex, pubkey_ed25519: ed(), before: future, signature: sig(`delete_before${future}`)})).toEqual({
      status: 401,
      body: "delete_before timestamp too far in the future",
    });
  });
});

describe("expire, expire_all and get_expiries", () => {
  it("sets one expiry for several messages and signs PUBKEY ‖ expiry ‖ requested ‖ updated", async () => {
    const [a, b] = await seed([{data: "a"}, {data: "b"}]);
    const exp = now + 2 * DAY;
    const messages = [b, a] as string[];
    const res = await h.json("expire", {pubkey: acc.hex, pubkey_ed25519: ed(), messages, expiry: exp, signature: sig(`expire${exp}${messages.join("")}`)});
    expect(res.status).toBe(200);
    const e = mine(res.body);
    expect(e.expiry).toBe(exp);
    expect(e.updated).toEqual([a, b].sort());
    expect(e.unchanged).toBeUndefined();
    expect(verifies(acc.hex + exp + messages.join("") + [a, b].sort().join(""), e)).toBe(true);
  });

  it("extend only raises; unchanged lists the rest with their expiry; expiries are clamped to 30 days", async () => {
    const [a] = await seed([{data: "a"}]);
    const lower = now + DAY / 2;
    const res = await h.json("expire", {pubkey: acc.hex, pubkey_ed25519: ed(), messages: [a], expiry: lower, extend: true, signature: sig(`expireextend${lower}${a}`)});
    const e = mine(res.body);
    expect(e.updated).toEqual([]);
    expect(e.unchanged).toEqual({[a as string]: now + DAY});
    expect(verifies(acc.hex + lower + a + "" + a + (now + DAY), e)).toBe(true);
    const far = now + 400 * DAY;
    const clamped = await h.json("expire", {pubkey: acc.hex, pubkey_ed25519: ed(), messages: [a], expiry: far, signature: sig(`expire${far}${a}`)});
    expect(mine(clamped.body).expiry).toBe(now + 30 * DAY);
  });

  it("supports one expiry per message", async () => {
    const [a, b] = await seed([{data: "a"}, {data: "b"}]);
    const expiry = [now + 2 * DAY, now + 3 * DAY];
    const res = await h.json("expire", {pubkey: acc.hex, pubkey_ed25519: ed(), messages: [a, b], expiry, signature: sig(`expire${expiry.join("")}${a}${b}`)});
    const byHash = new Map([[a, expiry[0]], [b, expiry[1]]]);
    const e = mine(res.body);
    expect(e.expiry).toEqual(e.updated.map((x: string) => byHash.get(x)));
  });

  it.each([
    [{expiry: []}, 400, "invalid request: 'expiry' does not contain any expiration timestamps"],
    [{shorten: true, extend: true}, 400, "invalid request: cannot specify both 'shorten' and 'extend'"],
    [{expiry: [1e12, 1e12, 1e12]}, 400, "invalid request: 'expiry' must be a single expiry, or the same length as 'messages'"],
  ])("rejects %j", async (override, status, body) => {
    const params = {pubkey: acc.hex, pubkey_ed25519: ed(), messages: ["A".repeat(43), "B".repeat(43)], expiry: now + DAY, signature: sig("x"), ...override};
    expect(await h.call("expire", params)).toEqual({status, body});
  });

  it("refuses expiries in the past", async () => {
    const past = now - 61_000;
    const res = await h.call("expire", {pubkey: acc.hex, pubkey_ed25519: ed(), messages: ["A".repeat(43)], expiry: past, signature: sig(`expire${past}${"A".repeat(43)}`)});
    expect(res).toEqual({status: 401, body: "expire: timestamp should be >= current time"});
  });

  it("expire_all only shortens", async () => {
    const [a] = await seed([{data: "a"}]);
    const exp = now + DAY / 2;
    const res = await h.json("expire_all", {pubkey: acc.hex, pubkey_ed25519: ed(), expiry: exp, signature: sig(`expire_all${exp}`)});
    expect(mine(res.body).updated).toEqual([a]);
    const later = now + 5 * DAY;
    const res2 = await h.json("expire_all", {pubkey: acc.hex, pubkey_ed25519: ed(), expiry: later, signature: sig(`expire_all${later}`)});
    expect(mine(res2.body).updated).toEqual([]);
    const stale = now - 61_000;
    expect(await h.call("expire_all", {pubkey: acc.hex, pubkey_ed25519: ed(), expiry: stale, signature: sig(`expire_all${stale}`)})).toEqual({
      status: 406,
      body: "expire_all timestamp should be >= current time",
    });
  });

  it("get_expiries answers for existing messages only, without t/hf", async () => {
    const [a] = await seed([{data: "a"}]);
    const ts = h.clock.now();
    const messages = [a, "Z".repeat(43)] as string[];
    const res = await h.json("get_expiries", {pubkey: acc.hex, pubkey_ed25519: ed(), messages, timestamp: ts, signature: sig(`get_expiries${ts}${messages.join("")}`)});
    expect(res).toEqual({status: 200, body: {expiries: {[a as string]: now + DAY}}});
  });
});

describe("revoke and unrevoke", () => {
  it("unrevoke returns the count removed; subaccounts may not revoke", async () => {
    const tok = Buffer.concat([Buffer.from([0x05, 0x01, 0, 0]), Buffer.alloc(32, 3)]);
    const ts = h.clock.now();
    const msg = (m: string) => Buffer.concat([Buffer.from(`${m}${ts}`), tok]);
    const revoke = await h.json("revoke_subaccount", {pubkey: acc.hex, pubkey_ed25519: ed(), revoke: tok.toString("base64"), timestamp: ts, signature: sig(msg("revoke_subaccount"))});
    expect(revoke.status).toBe(200);
    expect(mine(revoke.body).count).toBeUndefined();
    expect(h.store.isRevoked(acc.hex, tok)).toBe(true);
    const unrevoke = await h.json("unrevoke_subaccount", {pubkey: acc.hex, pubkey_ed25519: ed(), unrevoke: [tok.toString("hex")], timestamp: ts, signature: sig(msg("unrevoke_subaccount"))});
    expect(mine(unrevoke.body).count).toBe(1);
    expect(h.store.isRevoked(acc.hex, tok)).toBe(false);
    const tooMany = Array.from({length: 51}, () => tok.toString("hex"));
    expect(await h.call("revoke_subaccount", {pubkey: acc.hex, revoke: tooMany, timestamp: ts, signature: sig("x")})).toEqual({
      status: 400,
      body: "invalid request: invalid revoke: cannot revoke more than 50 subaccounts at once",
    });
    expect(await h.call("revoke_subaccount", {pubkey: acc.hex, revoke: ["zz"], timestamp: ts, signature: sig("x")})).toEqual({
      status: 400,
      body: "invalid request: invalid revoke: expected base64 or hex-encoded subaccount tag",
    });
  });
});
