import {afterEach, beforeEach, describe, expect, it} from "vitest";
import {CTX} from "../../../src/crypto/contexts.js";
import {verifySignedReceipt} from "../../../src/signing/response-signer.js";
import {storeReceipt} from "../../../src/signing/receipts.js";
import {ed25519, ed25519Account, pqAccount, sessionAccount, sessionHash, type SessionAccount} from "../../utils/keys.js";
import {rpcHarness, type RpcHarness} from "../../utils/rpc-harness.js";

const DAY = 86_400_000;
const b64 = (s: string): string => Buffer.from(s).toString("base64");

let h: RpcHarness;
let now: number;
beforeEach(async () => {
  h = await rpcHarness();
  now = h.clock.now();
});
afterEach(() => h.close());

function signedRetrieve(acc: SessionAccount, ns = 0, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const ts = h.clock.now();
  const msg = `retrieve${ns === 0 ? "" : ns}${ts}`;
  return {pubkey: acc.hex, pubkey_ed25519: acc.ed.pub.toString("hex"), timestamp: ts, signature: acc.ed.sign(msg).toString("base64"), namespace: ns, ...extra};
}

function signedStore(acc: SessionAccount, ns: number, data: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const ts = h.clock.now();
  return {
    pubkey: acc.hex,
    pubkey_ed25519: acc.hex.startsWith("05") ? acc.ed.pub.toString("hex") : undefined,
    namespace: ns,
    timestamp: ts,
    ttl: DAY,
    data: b64(data),
    signature: acc.ed.sign(`store${ns === 0 ? "" : ns}${ts}`).toString("base64"),
    ...extra,
  };
}

describe("store", () => {
  it("stores to a public inbox without a signature and answers with a signed swarm entry", async () => {
    const acc = sessionAccount();
    const res = await h.json("store", {pubkey: acc.hex, timestamp: now, ttl: DAY, data: b64("hello")});
    expect(res.status).toBe(200);
    const hash = sessionHash(acc.hex, 0, Buffer.from("hello"));
    expect(res.body.hash).toBe(hash);
    expect(res.body.hf).toEqual([19, 4]);
    expect(res.body.t).toBe(now);
    const entry = res.body.swarm[h.identity.nodeId];
    expect(entry).toMatchObject({hash, expiry: now + DAY, t: now});
    expect(entry.already).toBeUndefined();
    const verifies = (receipt: Buffer): boolean => verifySignedReceipt(h.ctx.pq, h.identity.nodeId, h.identity.mlDsa.publicKey, receipt, entry);
    expect(verifies(storeReceipt({hash, expiry: now + DAY, already: false}))).toBe(true);
    // The expiry is signed: an entry node relaying this entry cannot change it (nor the hash).
    expect(verifies(storeReceipt({hash, expiry: now + DAY + 1, already: false}))).toBe(false);
    expect(verifies(storeReceipt({hash, expiry: now + DAY, already: true}))).toBe(false);
    expect(verifies(Buffer.from(hash))).toBe(false);
  });

  it("dedupes by hash: a repeat says already, a later expiry extends", async () => {
    const acc = sessionAccount();
    const p = {pubkey: acc.hex, timestamp: now, ttl: DAY, data: b64("same")};
    await h.call("store", p);
    const again = await h.json("store", p);
    expect(again.body.swarm[h.identity.nodeId]).toMatchObject({already: true, expiry: now + DAY});
    const longer = await h.json("store", {...p, ttl: 2 * DAY});
    expect(longer.body.swarm[h.identity.nodeId]).toMatchObject({already: true, expiry: now + 2 * DAY});
    const shorter = await h.json("store", {...p, ttl: DAY / 2});
    expect(shorter.body.swarm[h.identity.nodeId].expiry).toBe(now + 2 * DAY);
  });

  it("gives a store with neither ttl nor expiry the 24 h default", async () => {
    const acc = sessionAccount();
    const res = await h.json("store", {pubkey: acc.hex, timestamp: now, data: b64("x")});
    expect(res.body.swarm[h.identity.nodeId].expiry).toBe(now + DAY);
  });

  it("accepts stringified timestamp and ttl and an absolute expiry", async () => {
    const acc = sessionAccount();
    const a = await h.json("store", {pubkey: acc.hex, timestamp: String(now), ttl: String(DAY), data: b64("a")});
    expect(a.status).toBe(200);
    const b = await h.json("store", {pubKey: acc.hex, timestamp: now, expiry: now + 3 * DAY, data: b64("b")});
    expect(b.body.swarm[h.identity.nodeId].expiry).toBe(now + 3 * DAY);
  });

  it.each([
    [{ttl: 9_999}, 403, "Provided expiry/TTL is not valid."],
    [{ttl: 30 * DAY + 1, namespace: 1, signature: "x"}, 400, "invalid request: invalid signature: expected base64 encoded Ed25519 signature"],
    [{ttl: 14 * DAY + 1}, 403, "Provided expiry/TTL is not valid."],
    [{timestamp: "now"}, 400, 'invalid request: Invalid value given for \'timestamp\': "now"'],
    [{ttl: -5}, 400, "invalid request: Invalid value given for 'ttl': expected positive integer"],
    [{expiry: 1}, 400, "invalid request: Invalid timestamp for 'expiry': timestamp must be in milliseconds"],
    [{expiry: Date.now() + DAY}, 400, "invalid request: Cannot specify both 'expiry' and 'ttl'"],
    [{data: "!!"}, 400, "invalid request: Invalid 'data' value: not base64 encoded"],
    [{data: "A".repeat(102_404)}, 400, "invalid request: Message body exceeds maximum allowed length of 76800 bytes"],
    [{data: undefined}, 400, "invalid request: Required field 'data' missing"],
    [{pubkey: "05abc"}, 400, "invalid request: Pubkey must be 66 hex digits (33 bytes) long"],
    [{pubkey: undefined}, 400, "invalid request: Required field 'pubkey' missing"],
    [{pubKey: "05" + "a".repeat(64)}, 400, "invalid request: Cannot specify both 'pubkey' and 'pubKey'"],
    [{namespace: 40_000}, 400, "invalid request: Invalid value given for 'namespace': value out of range"],
    [{namespace: "1"}, 400, "invalid request: Invalid value given for 'namespace': expected 16-bit integer"],
    [{namespace: 1.5}, 400, "invalid request: Invalid value given for 'namespace': expected 16-bit integer"],
    [{timestamp: undefined}, 400, "invalid request: Required field 'timestamp' missing"],
  ])("rejects %j with %i", async (override, status, body) => {
    const acc = sessionAccount();
    const params = {pubkey: acc.hex, timestamp: now, ttl: DAY, data: b64("x"), ...override};
    const res = await h.call("store", params);
    expect(res).toEqual({status, body});
    expect(h.store.stats().messageCount).toBe(0);
  });

  it("rejects clock skew with 406", async () => {
    const acc = sessionAccount();
    const future = await h.call("store", {pubkey: acc.hex, timestamp: now + 10_001, ttl: DAY, data: b64("x")});
    expect(future).toEqual({status: 406, body: "Timestamp error: check your clock"});
    const expired = await h.call("store", {pubkey: acc.hex, timestamp: now - 2 * DAY, ttl: DAY, data: b64("x")});
    expect(expired).toEqual({status: 406, body: "Timestamp error: check your clock"});
  });

  it("needs a signature outside public inboxes and checks it", async () => {
    const acc = sessionAccount();
    const unsigned = await h.call("store", {pubkey: acc.hex, timestamp: now, ttl: DAY, data: b64("x"), namespace: 42});
    expect(unsigned).toEqual({status: 401, body: "store: signature required to store to namespace 42"});
    expect((await h.call("store", signedStore(acc, 42, "x"))).status).toBe(200);
    const wrongNs = {...signedStore(acc, 42, "y"), namespace: 43};
    expect(await h.call("store", wrongNs)).toEqual({status: 401, body: "store signature verification failed"});
    const otherEd = {...signedStore(acc, 42, "z"), pubkey_ed25519: ed25519().pub.toString("hex")};
    expect(await h.call("store", otherEd)).toEqual({status: 401, body: "store signature verification failed"});
    const stale = signedStore(acc, 42, "w");
    h.clock.advance(61_000);
    // The message timestamp is current, but the signature's timestamp is over a minute old.
    expect(await h.call("store", {...stale, timestamp: h.clock.now(), sig_timestamp: stale.timestamp})).toEqual({
      status: 406,
      body: "store signature timestamp too far from current time",
    });
  });

  it("only permits pubkey_ed25519 for 05 accounts", async () => {
    const acc = ed25519Account("03");
    const res = await h.call("store", {...signedStore(acc, 42, "x"), pubkey_ed25519: acc.ed.pub.toString("hex")});
    expect(res).toEqual({status: 400, body: "invalid request: pubkey_ed25519 is only permitted for 05[...] pubkeys"});
  });
});

describe("retrieve", () => {
  it("requires auth for private namespaces and returns messages with `expiration`", async () => {
    const acc = sessionAccount();
    await h.call("store", {pubkey: acc.hex, timestamp: now, ttl: DAY, data: b64("m1")});
    expect(await h.call("retrieve", {pubkey: acc.hex})).toEqual({status: 401, body: "retrieve: request signature required"});
    const res = await h.json("retrieve", signedRetrieve(acc));
    expect(res.status).toBe(200);
    expect(res.body.messages).toEqual([{hash: sessionHash(acc.hex, 0, Buffer.from("m1")), timestamp: now, expiration: now + DAY, data: b64("m1")}]);
    expect(res.body.more).toBe(false);
  });

  it("rejects bad signatures, foreign ed25519 keys and stale timestamps", async () => {
    const acc = sessionAccount();
    const bad = {...signedRetrieve(acc), signature: ed25519().sign("retrieve").toString("base64")};
    expect(await h.call("retrieve", bad)).toEqual({status: 401, body: "retrieve signature verification failed"});
    const other = sessionAccount();
    const foreign = {...signedRetrieve(other), pubkey: acc.hex};
    expect(await h.call("retrieve", foreign)).toEqual({status: 401, body: "retrieve signature verification failed"});
    const stale = signedRetrieve(acc);
    h.clock.advance(60_001);
    expect(await h.call("retrieve", stale)).toEqual({status: 406, body: "retrieve timestamp too far from current time"});
  });

  it("pages with max_count and last_hash in insertion order", async () => {
    const acc = sessionAccount();
    const hashes: string[] = [];
    for (let i = 0; i < 5; i++) {
      await h.call("store", {pubkey: acc.hex, timestamp: now, ttl: DAY, data: b64(`m${i}`)});
      hashes.push(sessionHash(acc.hex, 0, Buffer.from(`m${i}`)));
    }
    const first = await h.json("retrieve", signedRetrieve(acc, 0, {max_count: 2}));
    expect(first.body.messages.map((m: {hash: string}) => m.hash)).toEqual(hashes.slice(0, 2));
    expect(first.body.more).toBe(true);
    const next = await h.json("retrieve", signedRetrieve(acc, 0, {last_hash: hashes[1]}));
    expect(next.body.messages.map((m: {hash: string}) => m.hash)).toEqual(hashes.slice(2));
    expect(next.body.more).toBe(false);
  });

  it("honours max_size with at least one message", async () => {
    const acc = sessionAccount();
    for (let i = 0; i < 3; i++) await h.call("store", {pubkey: acc.hex, timestamp: now, ttl: DAY, data: b64("x".repeat(300) + i)});
    const res = await h.json("retrieve", signedRetrieve(acc, 0, {max_size: 10}));
    expect(res.body.messages).toHaveLength(1);
    expect(res.body.more).toBe(true);
  });

  it.each([
    [{last_hash: "short"}, "invalid request: Invalid last_hash: expected base64 (43 chars)"],
    [{last_hash: "!".repeat(43)}, "invalid request: Invalid last_hash: not base64"],
    [{lastHash: "a".repeat(43), last_hash: "b".repeat(43)}, "invalid request: Cannot specify both 'last_hash' and 'lastHash'"],
    [{max_count: "5"}, "invalid request: Invalid value given for 'max_count': expected integer"],
    [{timestamp: undefined}, "invalid request: Required field 'timestamp' missing"],
    [{signature: undefined}, "invalid request: Required field 'signature' missing"],
  ])("rejects %j", async (override, body) => {
    const acc = sessionAccount();
    expect(await h.call("retrieve", {...signedRetrieve(acc), ...override})).toEqual({status: 400, body});
  });

  it("serves the public outbox without auth and replaces its content on store", async () => {
    const acc = ed25519Account("03");
    expect((await h.call("store", signedStore(acc, -1, "profile-v1"))).status).toBe(200);
    h.clock.advance(1);
    expect((await h.call("store", signedStore(acc, -1, "profile-v2"))).status).toBe(200);
    const res = await h.json("retrieve", {pubkey: acc.hex, namespace: -1});
    expect(res.status).toBe(200);
    expect(res.body.messages.map((m: {data: string}) => m.data)).toEqual([b64("profile-v2")]);
    const legacy = await h.json("retrieve", {pubkey: acc.hex, namespace: -10});
    expect(legacy.status).toBe(200);
  });
});

describe("subaccounts", () => {
  function token(owner: SessionAccount, flags: number, sub = ed25519()): {token: Buffer; sig: string; sub: ReturnType<typeof ed25519>} {
    const t = Buffer.concat([Buffer.from([Number.parseInt(owner.hex.slice(0, 2), 16), flags, 0, 0]), sub.pub]);
    return {token: t, sig: owner.ed.sign(t).toString("base64"), sub};
  }

  it("lets a token with write store and with read retrieve, until revoked (except unrevocable namespaces)", async () => {
    const owner = ed25519Account("03");
    const rw = token(owner, 0x01 | 0x02);
    const ts = h.clock.now();
    const store = {
      pubkey: owner.hex,
      namespace: 11,
      timestamp: ts,
      ttl: DAY,
      data: b64("group msg"),
      subaccount: rw.token.toString("hex"),
      subaccount_sig: rw.sig,
      signature: rw.sub.sign(`store11${ts}`).toString("base64"),
    };
    expect((await h.call("store", store)).status).toBe(200);
    const retrieve = (ns: number) => ({
      pubkey: owner.hex,
      namespace: ns,
      timestamp: h.clock.now(),
      subaccount: rw.token.toString("base64"),
      subaccount_sig: rw.sig,
      signature: rw.sub.sign(`retrieve${ns}${h.clock.now()}`).toString("base64"),
    });
    expect((await h.json("retrieve", retrieve(11))).body.messages).toHaveLength(1);
    const revokeTs = h.clock.now();
    const revoke = {
      pubkey: owner.hex,
      revoke: [rw.token.toString("hex")],
      timestamp: revokeTs,
      signature: owner.ed.sign(Buffer.concat([Buffer.from(`revoke_subaccount${revokeTs}`), rw.token])).toString("base64"),
    };
    expect((await h.call("revoke_subaccount", revoke)).status).toBe(200);
    expect(await h.call("retrieve", retrieve(11))).toEqual({status: 401, body: "retrieve signature verification failed"});
    expect((await h.call("retrieve", retrieve(-11))).status).toBe(200);
  });

  it("refuses tokens lacking the flag, for another prefix, or signed by someone else", async () => {
    const owner = ed25519Account("03");
    const readOnly = token(owner, 0x01);
    const ts = h.clock.now();
    const base = {pubkey: owner.hex, namespace: 11, timestamp: ts, ttl: DAY, data: b64("m")};
    const withTok = (t: ReturnType<typeof token>) => ({
      ...base,
      subaccount: t.token.toString("hex"),
      subaccount_sig: t.sig,
      signature: t.sub.sign(`store11${ts}`).toString("base64"),
    });
    expect((await h.call("store", withTok(readOnly))).status).toBe(401);
    const wrongPrefix = token(ed25519Account("05", owner.ed), 0x03);
    expect((await h.call("store", withTok(wrongPrefix))).status).toBe(401);
    const anyPrefix = token(ed25519Account("05", owner.ed), 0x03 | 0x08);
    expect((await h.call("store", withTok(anyPrefix))).status).toBe(200);
    const forged = {...token(owner, 0x03), sig: ed25519().sign("x").toString("base64")};
    expect((await h.call("store", withTok(forged))).status).toBe(401);
    expect(await h.call("store", {...withTok(token(owner, 0x03)), subaccount_sig: undefined})).toEqual({
      status: 400,
      body: "invalid request: invalid subaccount: subaccount_sig is required when using subaccount",
    });
  });
});

describe("07 post-quantum accounts", () => {
  const acc = pqAccount(new Uint8Array(32).fill(1), new Uint8Array(64).fill(2));
  const keys = {pubkey_mldsa: Buffer.from(acc.dsa.publicKey).toString("base64"), pubkey_mlkem: Buffer.from(acc.kem.publicKey).toString("hex")};

  it("stores and retrieves with ML-DSA-65 signatures over Session's strings", async () => {
    const ts = h.clock.now();
    const store = {pubkey: acc.hex, namespace: 42, timestamp: ts, ttl: DAY, data: b64("pq"), ...keys, signature: acc.sign(`store42${ts}`, CTX.REQUEST_AUTH).toString("base64")};
    expect((await h.call("store", store)).status).toBe(200);
    const retrieve = {pubkey: acc.hex, namespace: 42, timestamp: ts, ...keys, signature: acc.sign(`retrieve42${ts}`, CTX.REQUEST_AUTH).toString("base64")};
    const res = await h.json("retrieve", retrieve);
    expect(res.body.messages.map((m: {data: string}) => m.data)).toEqual([b64("pq")]);
  });

  it("rejects a wrong context, keys that do not hash to the account, and missing keys", async () => {
    const ts = h.clock.now();
    const base = {pubkey: acc.hex, namespace: 42, timestamp: ts, ...keys};
    const wrongCtx = {...base, signature: acc.sign(`retrieve42${ts}`, CTX.STORAGE_PROOF).toString("base64")};
    expect(await h.call("retrieve", wrongCtx)).toEqual({status: 401, body: "retrieve signature verification failed"});
    const other = pqAccount();
    const swapped = {...base, pubkey_mldsa: Buffer.from(other.dsa.publicKey).toString("base64"), signature: other.sign(`retrieve42${ts}`, CTX.REQUEST_AUTH).toString("base64")};
    expect(await h.call("retrieve", swapped)).toEqual({status: 401, body: "retrieve signature verification failed"});
    const sig = acc.sign(`retrieve42${ts}`, CTX.REQUEST_AUTH).toString("base64");
    expect(await h.call("retrieve", {...base, pubkey_mlkem: undefined, signature: sig})).toEqual({
      status: 400,
      body: "invalid request: pubkey_mldsa and pubkey_mlkem are required for 07[...] pubkeys",
    });
    expect(await h.call("retrieve", {...base, signature: "AAAA"})).toEqual({
      status: 400,
      body: "invalid request: invalid signature: expected base64 encoded ML-DSA-65 signature",
    });
    expect(await h.call("retrieve", {...base, pubkey: sessionAccount().hex, signature: sig})).toEqual({
      status: 400,
      body: "invalid request: pubkey_mldsa and pubkey_mlkem are only permitted for 07[...] pubkeys",
    });
  });
});
