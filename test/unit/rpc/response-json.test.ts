import {afterEach, beforeEach, describe, expect, it, vi} from "vitest";
import type {RpcResponse} from "../../../src/protocol/response.js";
import type {RpcContext} from "../../../src/rpc/context.js";
import {objectJson, responseJson, withSignedJson} from "../../../src/rpc/response-json.js";
import type {SwarmRouter} from "../../../src/swarm/swarm-router.js";
import {CTX} from "../../../src/crypto/index.js";
import {pqAccount, sessionAccount, sessionHash} from "../../utils/keys.js";
import {rpcHarness, type RpcHarness} from "../../utils/rpc-harness.js";

const DAY = 86_400_000;
const b64 = (s: string): string => Buffer.from(s).toString("base64");

let h: RpcHarness;
beforeEach(async () => {
  h = await rpcHarness();
});
afterEach(() => h.close());

/** The serialiser the HTTP reply used before: the new one must give these bytes. */
const old = (body: RpcResponse["body"]): string => JSON.stringify(body);

function json(res: RpcResponse): string {
  if (typeof res.body === "string") throw new Error(`not JSON: ${res.status} ${res.body}`);
  return responseJson(res.body);
}

/** Runs `f` and tells whether anything passed the ~4.4 KB signature through JSON.stringify. */
function stringifiedSignature<T>(f: () => T): {value: T; signatureStringified: boolean} {
  const spy = vi.spyOn(JSON, "stringify");
  try {
    const value = f();
    const signatureStringified = spy.mock.calls.some(([v]) => spyHoldsLongString(v));
    return {value, signatureStringified};
  } finally {
    spy.mockRestore();
  }
}

function spyHoldsLongString(v: unknown, depth = 0): boolean {
  if (typeof v === "string") return v.length > 4000;
  if (typeof v !== "object" || v === null || depth > 4) return false;
  return Object.values(v).some((x) => spyHoldsLongString(x, depth + 1));
}

function peerRouter(peers: Record<string, Record<string, unknown>>): SwarmRouter {
  return Object.assign(Object.create(h.ctx.router) as SwarmRouter, {forward: () => Promise.resolve(peers)});
}

describe("store answers from pre-serialised parts", () => {
  it("give JSON.stringify's bytes, without stringifying the signature, for new, already, forwarded and fee entries", async () => {
    const acc = sessionAccount();
    const params = {pubkey: acc.hex, namespace: -10, timestamp: h.clock.now(), ttl: DAY, data: b64("hello")};
    const answers: RpcResponse[] = [];
    // Several in one signed batch (shared signature text, different leaf indexes and paths).
    answers.push(...(await Promise.all([1, 2, 3, 4, 5].map((i) => h.call("store", {...params, data: b64(`m${i}`)})))));
    answers.push(await h.call("store", params));
    answers.push(await h.call("store", params)); // already
    answers.push(await h.handler.handle("store", {...params, data: b64("fwd")}, {recurse: false})); // a peer's request: no t
    (h.ctx as {fees?: RpcContext["fees"]}).fees = {
      quote: (bytes: number, fresh: boolean) =>
        ({baseFee: 10n, multiplier: 1.5, storageFee: BigInt(bytes), sessionCreateFee: fresh ? 5n : 0n, total: 35n}) as never,
      charge: () => undefined,
    };
    answers.push(await h.call("store", {...params, data: b64("fee")}));
    answers.push(await h.call("store", {...params, data: b64("fee")}));
    for (const res of answers) {
      expect(res.status).toBe(200);
      const {value, signatureStringified} = stringifiedSignature(() => json(res));
      expect(value).toBe(old(res.body));
      expect(signatureStringified).toBe(false);
    }
    const entries = answers.map((r) => JSON.parse(json(r)) as Record<string, any>);
    expect(entries.slice(0, 5).map((b) => b.swarm[h.identity.nodeId].signature_proof.i as number).sort()).toEqual([0, 1, 2, 3, 4]);
    expect(entries[6]?.swarm[h.identity.nodeId].already).toBe(true);
    expect(entries[7]?.hash).toBeDefined();
    expect(entries[7]?.t).toBeUndefined();
    expect(entries[8]?.swarm[h.identity.nodeId].fee).toMatchObject({unit: "base", multiplier: 1.5});
  });

  it("give JSON.stringify's bytes with peers' entries: signed, failed, storage_full, unicode and quotes in a reason", async () => {
    const acc = sessionAccount();
    (h.ctx as {router: SwarmRouter}).router = peerRouter({
      ["a".repeat(64)]: {hash: "h", signature: "c2ln", signature_proof: {t: 1, n: 2, i: 1, path: ["cGF0aA=="]}, expiry: 5, t: 4},
      ["b".repeat(64)]: {failed: true, query_failure: true, reason: 'peer said "no" — ünïcode \u2028 \\ \n'},
      ["c".repeat(64)]: {failed: true, storage_full: true, reason: "full"},
      ["0".repeat(64)]: {failed: true, timeout: true},
    });
    const res = await h.call("store", {pubkey: acc.hex, namespace: -10, timestamp: h.clock.now(), ttl: DAY, data: b64("peers")});
    expect(res.status).toBe(200);
    expect(json(res)).toBe(old(res.body));
    expect(Object.keys(JSON.parse(json(res)).swarm as object)).toHaveLength(5);
  });

  it("give JSON.stringify's bytes when every entry failed (500) and ours is a failure entry", async () => {
    const acc = sessionAccount();
    (h.ctx as {router: SwarmRouter}).router = peerRouter({["d".repeat(64)]: {failed: true, query_failure: true, reason: "x"}});
    vi.spyOn(h.store, "store").mockRejectedValueOnce(new Error('disk "gone"'));
    const res = await h.call("store", {pubkey: acc.hex, namespace: -10, timestamp: h.clock.now(), ttl: DAY, data: b64("fail")});
    expect(res.status).toBe(500);
    expect(json(res)).toBe(old(res.body));
  });

  it("fall back to the entry's own values when its signature fields were replaced or it was copied", async () => {
    const acc = sessionAccount();
    const res = await h.call("store", {pubkey: acc.hex, namespace: -10, timestamp: h.clock.now(), ttl: DAY, data: b64("swap")});
    const body = res.body as {swarm: Record<string, Record<string, unknown>>; hash?: string};
    const entry = body.swarm[h.identity.nodeId] as Record<string, unknown>;
    entry.signature = "b3RoZXI=";
    entry.signature_proof = {t: 1, n: 1, i: 0, path: []};
    entry.extra = undefined; // skipped, as JSON.stringify skips it
    body.hash = "changed after";
    expect(json(res)).toBe(old(res.body));
    expect(responseJson({...entry})).toBe(JSON.stringify(entry));
  });
});

describe("retrieve pages from per-row parts", () => {
  /** Messages with every byte value, varied sizes, timestamps and expiries, into one ns -10 mailbox (no auth to read). */
  async function fill(acc: string, n: number): Promise<void> {
    const t0 = h.clock.now();
    for (let i = 0; i < n; i++) {
      const data = Buffer.from(Array.from({length: 1 + ((i * 37) % 700)}, (_, j) => (i * 7 + j * 13) & 255));
      const res = await h.call("store", {pubkey: acc, namespace: -10, timestamp: t0 - i, ttl: DAY - i * 1000, data: data.toString("base64")});
      expect(res.status).toBe(200);
    }
  }

  const stringifiedArrays = <T>(f: () => T): {value: T; arrays: number} => {
    const spy = vi.spyOn(JSON, "stringify");
    try {
      const value = f();
      // The messages array itself, or an object holding it (the whole body).
      const holdsMessages = (v: unknown): boolean => (Array.isArray(v) && v.length > 2) || (typeof v === "object" && v !== null && "messages" in v);
      return {value, arrays: spy.mock.calls.filter(([v]) => holdsMessages(v)).length};
    } finally {
      spy.mockRestore();
    }
  };

  /**
   * The answer's text as JSON.stringify writes the page's message objects built from the stored
   * rows' own values (`store.retrieve`), not from the parts the answer was made of.
   */
  function fromRows(res: RpcResponse, account: string, namespace: number, afterHash: string | null = null): string {
    const parsed = JSON.parse(json(res)) as {messages: unknown[]};
    const rows = h.store.retrieve({account, namespace, afterHash, maxCount: Math.max(1, parsed.messages.length), maxSize: 1e12, sizeOf: () => 0});
    const messages = rows.messages.slice(0, parsed.messages.length).map((m) => ({hash: m.hash, timestamp: m.timestamp, expiration: m.expiry, data: m.data.toString("base64")}));
    return JSON.stringify({...parsed, messages});
  }

  it("give JSON.stringify's bytes for pages of 0, 1 and 100 messages, with and without more, without stringifying the messages", async () => {
    const acc = sessionAccount().hex;
    await fill(acc, 101);
    const nobody = sessionAccount().hex;
    const empty = await h.call("retrieve", {pubkey: nobody, namespace: -10});
    const one = await h.call("retrieve", {pubkey: acc, namespace: -10, max_count: 1});
    const hundred = await h.call("retrieve", {pubkey: acc, namespace: -10, max_count: 100});
    const pages = [empty, one, hundred];
    // Read from the text: reading `messages` would build the objects and leave the fast path.
    const hundredPage = JSON.parse(json(hundred)) as {messages: Array<{hash: string}>};
    pages.push(await h.call("retrieve", {pubkey: acc, namespace: -10, last_hash: hundredPage.messages[98]?.hash}));
    const expected = [
      {count: 0, more: false},
      {count: 1, more: true},
      {count: 100, more: true},
      {count: 2, more: false},
    ];
    for (const [k, res] of pages.entries()) {
      expect(res.status).toBe(200);
      // Serialised before anything reads `messages` (the fast path), then compared.
      const {value, arrays} = stringifiedArrays(() => json(res));
      expect(arrays).toBe(0);
      expect(value).toBe(old(res.body));
      expect(value).toBe(fromRows(res, k === 0 ? nobody : acc, -10, k === 3 ? (hundredPage.messages[98]?.hash ?? null) : null));
      const parsed = JSON.parse(value) as {messages: unknown[]; more: boolean; t: number; hf: number[]};
      expect({count: parsed.messages.length, more: parsed.more}).toEqual(expected[k]);
      expect(parsed.hf).toEqual([19, 4]);
    }
  });

  it("give JSON.stringify's bytes for signed pages of every namespace type, 07 accounts too", async () => {
    const acc = sessionAccount();
    const pq = pqAccount();
    // Default, positive, negative, no-auth (-10), public outbox (-21), unrevocable (-11, -111), bounds.
    const namespaces = [0, 1, 17, 32_767, -1, -2, -10, -11, -21, -111, -32_768];
    const t0 = h.clock.now();
    for (const account of [acc.hex, pq.hex]) {
      for (const ns of namespaces) {
        for (let i = 0; i < 3; i++) {
          const data = Buffer.from(Array.from({length: 1 + i * 111}, (_, j) => (ns + i * 31 + j * 7) & 255));
          const hash = sessionHash(account, ns, data);
          await h.store.store({account, hash, namespace: ns, timestamp: t0 - i, expiry: t0 + DAY - i, data, replaceNamespace: false});
        }
      }
    }
    for (const ns of namespaces) {
      const msg = `retrieve${ns === 0 ? "" : ns}${t0}`;
      const signed = [
        {pubkey: acc.hex, pubkey_ed25519: acc.ed.pub.toString("hex"), namespace: ns, timestamp: t0, signature: acc.ed.sign(msg).toString("base64")},
        {
          pubkey: pq.hex,
          pubkey_mldsa: Buffer.from(pq.dsa.publicKey).toString("base64"),
          pubkey_mlkem: Buffer.from(pq.kem.publicKey).toString("base64"),
          namespace: ns,
          timestamp: t0,
          signature: pq.sign(msg, CTX.REQUEST_AUTH).toString("base64"),
        },
      ];
      for (const params of signed) {
        const res = await h.call("retrieve", params);
        expect(res.status).toBe(200);
        const {value, arrays} = stringifiedArrays(() => json(res));
        expect(arrays).toBe(0);
        expect(value).toBe(old(res.body));
        expect(value).toBe(fromRows(res, params.pubkey, ns));
        expect((JSON.parse(value) as {messages: unknown[]}).messages).toHaveLength(3);
      }
    }
  });

  it("serialise the message objects once something has read (and changed) them", async () => {
    const acc = sessionAccount().hex;
    await fill(acc, 3);
    const res = await h.call("retrieve", {pubkey: acc, namespace: -10});
    const body = res.body as {messages: Array<{data: string}>};
    const first = body.messages[0] as {data: string};
    first.data = "changed";
    expect(json(res)).toBe(old(res.body));
    expect(json(res)).toContain('"data":"changed"');
    expect(JSON.stringify({...body})).toBe(json(res));
  });

  it("give JSON.stringify's text for non-ASCII and escaped hashes and times around 10⁸ and 2⁵³", async () => {
    const acc = sessionAccount().hex;
    const now = h.clock.now();
    const hashes = ["é", "☃ snow", "😀", 'quote " and \\', "line\nbreak\u2028", "\u0000nul", "\ud800lone", "plain"];
    const times = [0, 1, 99_999_999, 100_000_000, 100_000_001, 1_700_000_000_123, 9_007_199_254_740_991, -5, -100_000_001, 1_000_000_000_000_000];
    for (const [i, hash] of hashes.entries()) {
      for (const [j, timestamp] of times.entries()) {
        const expiry = j % 2 === 0 ? now + DAY + j : 9_007_199_254_740_991 - j;
        const data = Buffer.from(Array.from({length: (i * 5 + j) % 9}, (_, k) => (i + j * 31 + k * 101) & 255));
        await h.store.store({account: acc, hash: `${hash}${j}`, namespace: -10, timestamp, expiry, data, replaceNamespace: false});
      }
    }
    const res = await h.call("retrieve", {pubkey: acc, namespace: -10, max_count: 1000});
    expect(res.status).toBe(200);
    expect(json(res)).toBe(old(res.body));
    expect((JSON.parse(json(res)) as {messages: unknown[]}).messages).toHaveLength(hashes.length * times.length);
  });

  it("pin the exact text of a three-message page", async () => {
    const h2 = await rpcHarness({nowMs: 1_700_000_000_000});
    try {
      const acc = "05" + "ab".repeat(32);
      const rows = [
        {hash: "A".repeat(43), timestamp: 1_699_999_999_001, expiry: 1_700_086_400_001, data: Buffer.from("hello")},
        {hash: "b+/9".repeat(10) + "xyz", timestamp: 1_699_999_999_002, expiry: 1_700_000_100_000, data: Buffer.from([0, 255, 128, 1])},
        {hash: "C".repeat(43), timestamp: 99_999_999, expiry: 1_800_000_000_000, data: Buffer.alloc(0)},
      ];
      for (const r of rows) await h2.store.store({account: acc, namespace: -10, replaceNamespace: false, ...r});
      const res = await h2.call("retrieve", {pubkey: acc, namespace: -10});
      const expected =
        '{"messages":[' +
        '{"hash":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","timestamp":1699999999001,"expiration":1700086400001,"data":"aGVsbG8="},' +
        '{"hash":"b+/9b+/9b+/9b+/9b+/9b+/9b+/9b+/9b+/9b+/9xyz","timestamp":1699999999002,"expiration":1700000100000,"data":"AP+AAQ=="},' +
        '{"hash":"CCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCCC","timestamp":99999999,"expiration":1800000000000,"data":""}' +
        '],"more":false,"t":1700000000000,"hf":[19,4]}';
      expect(responseJson(res.body as Record<string, unknown>)).toBe(expected);
      expect(JSON.stringify(res.body)).toBe(expected);
    } finally {
      await h2.close();
    }
  });
});

describe("objectJson", () => {
  it("is JSON.stringify for plain objects: key order, integer-like keys, skipped values, nested and escaped values", () => {
    const fn = (): number => 1;
    const cases: Array<Record<string, unknown>> = [
      {},
      {b: 1, a: "x", 2: true, 1: null},
      {u: undefined, f: fn, s: Symbol("s"), n: NaN, i: Infinity, z: -0, d: new Date(0), nested: {a: [1, undefined, fn]}},
      {"quote\"key": "line\nbreak", "é": "\u2028\u0000"},
    ];
    for (const c of cases) expect(objectJson(c)).toBe(JSON.stringify(c));
  });

  it("withSignedJson leaves a receipt that no signer made to JSON.stringify", () => {
    const signed = {signature: "c2ln", signature_proof: {t: 1, n: 1, i: 0, path: []}};
    const entry = withSignedJson({hash: "h", ...signed}, signed);
    expect(responseJson(entry)).toBe(JSON.stringify(entry));
  });
});
