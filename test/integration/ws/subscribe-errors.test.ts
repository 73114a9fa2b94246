/**
 * Every subscription refusal, over a real connection: Session's errcodes 1–6 with Session's texts
 * where Session has one, the Pars limit errcode 7, and frame-level errors. The connection stays
 * usable after each.
 */
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {CTX} from "../../../src/crypto/contexts.js";
import {ed25519, ed25519Account, pqAccount, sessionAccount} from "../../utils/keys.js";
import {seconds, startWsNode, sub05, subP, subPq, subToken, TestClient, type WsTestNode} from "./harness.js";

const DAY_S = 86_400;
let node: WsTestNode;
let c: TestClient;

beforeAll(async () => {
  node = await startWsNode({ws: {maxNamespacesPerSubscription: 4}});
  c = await TestClient.connect(node.url);
});
afterAll(async () => {
  c.close();
  await node.close();
});

const t = (): number => seconds(node.h.clock.now());
const acc = sessionAccount();
const group = ed25519Account("03");

async function refused(params: unknown): Promise<{errcode: number; error: string; code: string}> {
  const reply = await c.request("subscribe", {params});
  expect(reply.type, JSON.stringify(reply)).toBe("error");
  return {errcode: reply.errcode, error: reply.error, code: reply.code};
}

describe("errcode 1: bad arguments", () => {
  it.each([
    ["params not an object", "x", "Invalid arguments: subscription parameters must be an object"],
    ["both p and P", () => ({...sub05(acc, [0], false, t()), p: group.hex}), "Invalid arguments: Cannot provide both p= and P= pubkey values"],
    ["neither p nor P", () => ({n: [0], t: t(), s: "x"}), "Invalid arguments: Either p= or P= must be given"],
    ["n missing", () => ({...sub05(acc, [0], false, t()), n: undefined}), "Invalid arguments: required n= namespace list is missing"],
    ["n not integers", () => ({...sub05(acc, [0], false, t()), n: ["0"]}), "Invalid arguments: n= must be a list of integers"],
    ["s missing", () => ({...sub05(acc, [0], false, t()), s: undefined}), "Invalid arguments: required s= signature is missing"],
    ["t missing", () => ({...sub05(acc, [0], false, t()), t: undefined}), "Invalid arguments: required signature timestamp is missing"],
    ["t not an integer", () => ({...sub05(acc, [0], false, t()), t: "123"}), "Invalid arguments: t= must be an integer (seconds)"],
    ["d not a flag", () => ({...sub05(acc, [0], false, t()), d: 2}), "Invalid arguments: d= must be a boolean, 0 or 1"],
    ["S without T", () => ({...subP(group, [0], false, t()), S: "x"}), "Invalid arguments: S= and T= must be given together"],
    ["PQ keys on a non-07 account", () => ({...subP(group, [0], false, t()), pubkey_mldsa: "x"}), "Invalid arguments: pubkey_mldsa and pubkey_mlkem are only permitted for 07[...] pubkeys"],
  ])("%s", async (_name, params, error) => {
    expect(await refused(typeof params === "function" ? params() : params)).toEqual({errcode: 1, code: "MONITOR_ERROR_BAD_ARGS", error});
  });
});

describe("errcode 2: bad pubkey", () => {
  const pq = pqAccount();
  it.each([
    ["p of 32 bytes", () => ({...subP(group, [0], false, t()), p: group.hex.slice(2)}), "Provided p= pubkey must be 33 bytes"],
    ["P of 33 bytes", () => ({...sub05(acc, [0], false, t()), P: acc.hex}), "Provided P= Session Ed25519 pubkey must be 32 bytes"],
    ["P not a curve point", () => ({...sub05(acc, [0], false, t()), P: "02".repeat(32)}), "Invalid P= ed25519 public key"],
    ["07 without its keys", () => ({...subPq(pq, [0], false, t()), pubkey_mlkem: undefined}), "pubkey_mldsa and pubkey_mlkem are required for 07[...] pubkeys"],
    ["07 with a short ML-DSA key", () => ({...subPq(pq, [0], false, t()), pubkey_mldsa: "AAAA"}), "invalid pubkey_mldsa: expected hex or base64 encoded ML-DSA-65 public key"],
    ["token of 35 bytes", () => ({...subToken(group, ed25519(), 1, [0], t()), T: "00".repeat(35)}), "Provided T subaccount token must be 36 bytes"],
  ])("%s", async (_name, params, error) => {
    expect(await refused(params())).toEqual({errcode: 2, code: "MONITOR_ERROR_BAD_PUBKEY", error});
  });
});

describe("errcode 3: bad namespaces", () => {
  it.each([
    ["not ascending", [2, 1], "Invalid n= namespace list: namespaces must be ascending"],
    ["duplicates", [1, 1], "Invalid n= namespace list: namespaces must be ascending"],
    ["out of int16 range", [40_000], "Invalid n= namespace list: namespace 40000 is out of range"],
    ["empty", [], "Invalid n= namespace list: at least one namespace is required"],
    ["over the per-subscription limit", [1, 2, 3, 4, 5], "Invalid n= namespace list: at most 4 namespaces per subscription"],
  ])("%s", async (_name, n, error) => {
    expect(await refused({...sub05(acc, [0], false, t()), n})).toEqual({errcode: 3, code: "MONITOR_ERROR_BAD_NAMESPACE", error});
  });

  it("also when a merge would exceed the limit", async () => {
    expect((await c.subscribe(sub05(acc, [1, 2, 3], false, t()))).success).toBe(true);
    expect(await refused(sub05(acc, [4, 5], false, t()))).toMatchObject({errcode: 3, error: "Invalid n= namespace list: at most 4 namespaces per subscription"});
    expect((await c.request("unsubscribe", {params: {account: acc.hex}})).removed).toBe(true);
  });
});

describe("errcode 4: bad timestamp", () => {
  it.each([
    ["14 days and a second old", -14 * DAY_S - 1, "too old"],
    ["a day and a second ahead", DAY_S + 1, "in the future"],
  ])("%s", async (_name, offset, why) => {
    expect(await refused(sub05(acc, [0], false, t() + offset))).toEqual({
      errcode: 4,
      code: "MONITOR_ERROR_BAD_TIMESTAMP",
      error: `Invalid t= signature timestamp: timestamp is ${why}`,
    });
  });

  it("milliseconds instead of seconds are in the future; the window's edges are accepted", async () => {
    expect((await refused(sub05(acc, [0], false, node.h.clock.now()))).errcode).toBe(4);
    expect((await c.subscribe(sub05(acc, [0], false, t() - 14 * DAY_S + 1))).success).toBe(true);
    expect((await c.subscribe(sub05(acc, [0], false, t() + DAY_S))).success).toBe(true);
  });
});

describe("errcode 5: bad signature", () => {
  const pq = pqAccount();
  const member = ed25519();
  const sigFail = {errcode: 5, code: "MONITOR_ERROR_BAD_SIGNATURE", error: "Signature verification failed"};
  it.each([
    ["another key signed", () => ({...sub05(acc, [0], false, t()), s: ed25519().sign("MONITOR").toString("base64")}), sigFail],
    ["signed for d=1, sent d=0", () => ({...sub05(acc, [0], true, t()), d: false}), sigFail],
    ["signed for other namespaces", () => ({...subP(group, [0, 1], false, t()), n: [0]}), sigFail],
    ["signature of 63 bytes", () => ({...sub05(acc, [0], false, t()), s: Buffer.alloc(63).toString("base64")}), {...sigFail, error: "Provided s= signature must be 64 bytes"}],
    ["07 signed without the request context", () => ({...subPq(pq, [0], false, t()), s: pq.sign(`MONITOR${pq.hex}${t()}00`, new Uint8Array()).toString("base64")}), sigFail],
    ["07 keys of another account", () => ({...subPq(pqAccount(), [0], false, t()), p: pq.hex}), sigFail],
    ["token without read access", () => subToken(group, member, 0x02, [0], t()), {...sigFail, error: "Subaccount verification failed: token lacks read access"}],
    ["token for another prefix", () => ({...subToken({...group, hex: "05" + group.hex.slice(2)}, member, 0x01, [0], t()), p: group.hex}), {...sigFail, error: "Subaccount verification failed: token is for another account prefix"}],
    ["token not signed by the account", () => ({...subToken(group, member, 0x01, [0], t()), S: ed25519().sign("t").toString("base64")}), sigFail],
  ])("%s", async (_name, params, expected) => {
    expect(await refused(params())).toEqual(expected);
  });

  it("the same 07 request with the right context is accepted", async () => {
    const ok = {...subPq(pq, [0], false, t()), s: pq.sign(`MONITOR${pq.hex}${t()}00`, CTX.REQUEST_AUTH).toString("base64")};
    expect((await c.subscribe(ok)).success).toBe(true);
  });
});

describe("errcode 6: wrong swarm or not ready", () => {
  it("refuses accounts the router says are not ours", async () => {
    const other = await startWsNode({modules: {router: {isOurs: () => false, notReadyReasons: () => []}}});
    const c2 = await TestClient.connect(other.url);
    try {
      const reply = await c2.subscribe(sub05(acc, [0], false, t()));
      expect(reply).toMatchObject({type: "error", errcode: 6, code: "MONITOR_ERROR_WRONG_SWARM", error: "Wrong swarm: this service node's swarm does not store this account"});
    } finally {
      c2.close();
      await other.close();
    }
  });

  it("refuses everything until the node is ready", async () => {
    const other = await startWsNode({notReady: () => ["not in any swarm"]});
    const c2 = await TestClient.connect(other.url);
    try {
      expect(await c2.subscribe(sub05(acc, [0], false, t()))).toMatchObject({errcode: 6, error: "Service node is not ready: not in any swarm"});
    } finally {
      c2.close();
      await other.close();
    }
  });
});

describe("errcode 7 (Pars): too many subscriptions on one connection", () => {
  it("refuses a new account at the limit but still renews held ones", async () => {
    const other = await startWsNode({ws: {maxSubscriptionsPerConnection: 2}});
    const c2 = await TestClient.connect(other.url);
    try {
      const [a, b, d] = [sessionAccount(), sessionAccount(), sessionAccount()];
      expect((await c2.subscribe([sub05(a, [0], false, t()), sub05(b, [0], false, t())])).results.map((r: {success?: boolean}) => r.success)).toEqual([true, true]);
      expect(await c2.subscribe(sub05(d, [0], false, t()))).toMatchObject({
        errcode: 7,
        code: "MONITOR_ERROR_TOO_MANY_SUBSCRIPTIONS",
        error: "Too many subscriptions: at most 2 accounts per connection",
      });
      expect((await c2.subscribe(sub05(a, [1], false, t()))).success).toBe(true);
      expect(await c2.subscribe([sub05(a, [0], false, t()), sub05(b, [0], false, t()), sub05(d, [0], false, t())])).toMatchObject({
        errcode: 1,
        error: "Invalid arguments: a subscription list holds 1 to 2 entries",
      });
    } finally {
      c2.close();
      await other.close();
    }
  });
});

describe("frame errors keep the connection open", () => {
  it.each([
    ["malformed JSON", "{not json", {type: "error", code: "WS_ERROR_BAD_JSON", error: "invalid json"}],
    ["not an object", "[1,2]", {type: "error", code: "WS_ERROR_BAD_FRAME", error: "a frame must be a JSON object"}],
    ["unknown type", JSON.stringify({id: 7, type: "nope"}), {id: 7, type: "error", code: "WS_ERROR_BAD_FRAME", error: 'unknown frame type "nope"'}],
    ["bad id", JSON.stringify({id: {x: 1}, type: "ping"}), {type: "error", code: "WS_ERROR_BAD_FRAME", error: '"id" must be a string of at most 128 characters or an integer'}],
    ["bad unsubscribe", JSON.stringify({id: "u", type: "unsubscribe", params: {account: "05"}}), {id: "u", type: "error", code: "WS_ERROR_BAD_FRAME", error: "unsubscribe: params.account must be the 66-hex account"}],
  ])("%s", async (_name, raw, expected) => {
    const before = c.frames.length;
    c.send(raw);
    const reply = await c.waitFor((f) => c.frames.indexOf(f) >= before && f.type === "error");
    expect(reply).toEqual(expected);
    await c.sync();
  });

  it("binary frames", async () => {
    const before = c.frames.length;
    c.socket.send(Buffer.from([1, 2, 3]));
    const reply = await c.waitFor((f) => c.frames.indexOf(f) >= before && f.type === "error");
    expect(reply).toEqual({type: "error", code: "WS_ERROR_BAD_FRAME", error: "binary frames are not supported: send JSON text frames"});
    await c.sync();
  });
});
