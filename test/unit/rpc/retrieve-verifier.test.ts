import {afterEach, beforeEach, describe, expect, it} from "vitest";
import {CTX} from "../../../src/crypto/contexts.js";
import {verifyEd25519} from "../../../src/crypto/ed25519.js";
import type {RpcResponse} from "../../../src/protocol/response.js";
import type {RequestVerifier} from "../../../src/rpc/auth.js";
import {InlineSigner, InlineVerifier, WorkerSigner} from "../../../src/signer/context-signer.js";
import {ed25519, ed25519Account, pqAccount, sessionAccount, type SessionAccount} from "../../utils/keys.js";
import {rpcHarness, testIdentity, testPq, type RpcHarness} from "../../utils/rpc-harness.js";

const DAY = 86_400_000;
const b64 = (s: string): string => Buffer.from(s).toString("base64");

/** A verifier that counts what reaches it (so a test knows the async path was taken). */
function counting(inner: RequestVerifier): RequestVerifier & {calls: number} {
  const v = {
    calls: 0,
    ed25519: (k: Uint8Array, m: Uint8Array, s: Uint8Array) => {
      v.calls++;
      return inner.ed25519(k, m, s);
    },
    mlDsa65: (k: Uint8Array, m: Uint8Array, s: Uint8Array, c: Uint8Array) => {
      v.calls++;
      return inner.mlDsa65(k, m, s, c);
    },
  };
  return v;
}

let h: RpcHarness;
let worker: WorkerSigner;
beforeEach(async () => {
  h = await rpcHarness();
  const pq = await testPq();
  const identity = await testIdentity();
  // useLiboqs: the worker then verifies ML-DSA-65 with a context too (its liboqs context path).
  worker = await WorkerSigner.start(
    identity.mlDsa.secretKey,
    {useLiboqs: true},
    {fallback: new InlineSigner(pq, identity.mlDsa.secretKey), fallbackVerifier: new InlineVerifier(pq)},
  );
});
afterEach(async () => {
  await worker.close();
  await h.close();
});

function signedRetrieve(acc: SessionAccount, ns = 0, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const ts = h.clock.now();
  const msg = `retrieve${ns === 0 ? "" : ns}${ts}`;
  return {pubkey: acc.hex, pubkey_ed25519: acc.ed.pub.toString("hex"), timestamp: ts, signature: acc.ed.sign(msg).toString("base64"), namespace: ns, ...extra};
}

/** Every auth case of a retrieve, good and bad, as [name, params]. */
function authCases(): Array<[string, Record<string, unknown>]> {
  const acc = sessionAccount();
  const other = sessionAccount();
  const group = ed25519Account("03");
  const pq = pqAccount();
  const ts = h.clock.now();
  const pqParams = (sig: Buffer, pub = pq): Record<string, unknown> => ({
    pubkey: pq.hex,
    pubkey_mldsa: Buffer.from(pub.dsa.publicKey).toString("base64"),
    pubkey_mlkem: Buffer.from(pub.kem.publicKey).toString("base64"),
    timestamp: ts,
    signature: sig.toString("base64"),
  });
  return [
    ["05 good", signedRetrieve(acc)],
    ["05 good, namespace 5", signedRetrieve(acc, 5)],
    ["05 bad signature", {...signedRetrieve(acc), signature: ed25519().sign("retrieve").toString("base64")}],
    ["05 signature over another namespace", {...signedRetrieve(acc, 5), namespace: 6}],
    ["05 foreign ed25519 key", {...signedRetrieve(other), pubkey: acc.hex}],
    ["05 no signature", {pubkey: acc.hex}],
    ["05 stale", {...signedRetrieve(acc), timestamp: ts - 60_001, signature: acc.ed.sign(`retrieve${ts - 60_001}`).toString("base64")}],
    ["05 signature of the wrong length", {...signedRetrieve(acc), signature: b64("x".repeat(63))}],
    ["03 good (own key)", {pubkey: group.hex, timestamp: ts, signature: group.ed.sign(`retrieve${ts}`).toString("base64")}],
    ["03 bad", {pubkey: group.hex, timestamp: ts, signature: other.ed.sign(`retrieve${ts}`).toString("base64")}],
    ["07 good", pqParams(pq.sign(`retrieve${ts}`, CTX.REQUEST_AUTH))],
    ["07 signed with another context", pqParams(pq.sign(`retrieve${ts}`, CTX.SUBACCOUNT_TOKEN))],
    ["07 signed over another message", pqParams(pq.sign(`retrieve${ts + 1}`, CTX.REQUEST_AUTH))],
    ["07 keys of another account", pqParams(pq.sign(`retrieve${ts}`, CTX.REQUEST_AUTH), pqAccount())],
  ];
}

async function answers(cases: Array<[string, Record<string, unknown>]>): Promise<Array<[string, RpcResponse]>> {
  // All at once: one event-loop turn, so the worker gets them as one batch.
  const res = await Promise.all(cases.map(([, p]) => h.call("retrieve", p)));
  return cases.map(([name], i) => [name, res[i] as RpcResponse]);
}

const summary = (r: RpcResponse): unknown => (typeof r.body === "string" ? {status: r.status, body: r.body} : {status: r.status});

describe("retrieve with request signatures verified on the signing worker", () => {
  it("gives every auth case the status and text it gets when verified on the event loop", async () => {
    for (const acc of [sessionAccount()]) await h.call("store", {pubkey: acc.hex, timestamp: h.clock.now(), ttl: DAY, data: b64("m")});
    const cases = authCases();
    const inline = await answers(cases);
    const verifier = counting(worker);
    h.ctx.verifier = verifier;
    const onWorker = await answers(cases);
    expect(onWorker.map(([n, r]) => [n, summary(r)])).toEqual(inline.map(([n, r]) => [n, summary(r)]));
    // The expected answers themselves (so both paths are not wrong alike).
    const byName = Object.fromEntries(onWorker.map(([n, r]) => [n, summary(r)]));
    const fail = {status: 401, body: "retrieve signature verification failed"};
    expect(byName).toEqual({
      "05 good": {status: 200},
      "05 good, namespace 5": {status: 200},
      "05 bad signature": fail,
      "05 signature over another namespace": fail,
      "05 foreign ed25519 key": fail,
      "05 no signature": {status: 401, body: "retrieve: request signature required"},
      "05 stale": {status: 406, body: "retrieve timestamp too far from current time"},
      "05 signature of the wrong length": {status: 400, body: "invalid request: invalid signature: expected base64 encoded Ed25519 signature"},
      "03 good (own key)": {status: 200},
      "03 bad": fail,
      "07 good": {status: 200},
      "07 signed with another context": fail,
      "07 signed over another message": fail,
      "07 keys of another account": fail,
    });
    // Only the requests that reach the signature check send one (not the foreign key, stale, unsigned ones).
    expect(verifier.calls).toBe(9);
    expect(worker.workerEd25519).toBe(true);
    expect(worker.liboqsContext).toBe(true);
  });

  it("returns the messages once verified", async () => {
    h.ctx.verifier = worker;
    const acc = sessionAccount();
    await h.call("store", {pubkey: acc.hex, timestamp: h.clock.now(), ttl: DAY, data: b64("m1")});
    const res = await h.json("retrieve", signedRetrieve(acc));
    expect(res.status).toBe(200);
    expect(res.body.messages.map((m: {data: string}) => m.data)).toEqual([b64("m1")]);
  });
});

describe("WorkerSigner as a signature verifier", () => {
  it("answers as verifyEd25519 does for good, bad, small-order, non-canonical and short inputs, many in one turn", async () => {
    const key = ed25519();
    const msg = Buffer.from("retrieve1700000000000");
    const sig = key.sign(msg);
    const smallOrder = Buffer.alloc(32);
    smallOrder[0] = 1; // the identity point
    const nonCanonical = Buffer.alloc(32, 0xff);
    nonCanonical[31] = 0x7f;
    const badR = Buffer.from(sig);
    badR.fill(0, 0, 32);
    badR[0] = 1;
    const cases: Array<[Uint8Array, Uint8Array, Uint8Array]> = [
      [key.pub, msg, sig],
      [key.pub, Buffer.from("other"), sig],
      [ed25519().pub, msg, sig],
      [smallOrder, msg, sig],
      [nonCanonical, msg, sig],
      [key.pub, msg, badR],
      [key.pub, msg, sig.subarray(0, 63)],
      [key.pub.subarray(0, 31), msg, sig],
    ];
    // A pooled Buffer (a view into Node's shared 8 KB slab) as the key too.
    const pooled = Buffer.from(key.pub.toString("hex"), "hex");
    cases.push([pooled, msg, sig]);
    const many = Array.from({length: 200}, (_, i) => cases[i % cases.length] as [Uint8Array, Uint8Array, Uint8Array]);
    const got = await Promise.all(many.map(([k, m, s]) => worker.ed25519(k, m, s)));
    expect(got).toEqual(many.map(([k, m, s]) => verifyEd25519(k, m, s)));
    expect(got.slice(0, cases.length)).toEqual([true, false, false, false, false, false, false, false, true]);
  });

  it("answers ML-DSA-65 with a context as the backend does, and verifies on the main thread once the worker is gone", async () => {
    const pq = await testPq();
    const acc = pqAccount();
    const msg = Buffer.from("retrieve1700000000000");
    const sig = acc.sign(msg, CTX.REQUEST_AUTH);
    const cases: Array<[Uint8Array, Uint8Array, Uint8Array, Uint8Array]> = [
      [acc.dsa.publicKey, msg, sig, CTX.REQUEST_AUTH],
      [acc.dsa.publicKey, msg, sig, CTX.SUBACCOUNT_TOKEN],
      [acc.dsa.publicKey, Buffer.from("x"), sig, CTX.REQUEST_AUTH],
      [pqAccount().dsa.publicKey, msg, sig, CTX.REQUEST_AUTH],
    ];
    const expected = cases.map(([k, m, s, c]) => pq.mlDsa65.verify(k, m, s, c));
    expect(expected).toEqual([true, false, false, false]);
    expect(await Promise.all(cases.map(([k, m, s, c]) => worker.mlDsa65(k, m, s, c)))).toEqual(expected);
    await worker.close();
    expect(await Promise.all(cases.map(([k, m, s, c]) => worker.mlDsa65(k, m, s, c)))).toEqual(expected);
    const key = ed25519();
    expect(await worker.ed25519(key.pub, msg, key.sign(msg))).toBe(true);
  });
});
