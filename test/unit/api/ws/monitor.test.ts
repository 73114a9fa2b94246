/**
 * Subscription parameters and authorisation without a socket: the signed string, Session's check
 * order (the first problem reported wins), encodings, and each account kind.
 */
import {beforeAll, describe, expect, it} from "vitest";
import {MonitorError} from "../../../../src/api/ws/errors.js";
import {authorizeMonitor, monitorSigMessage, sessionAccountOf, type MonitorAuthModules} from "../../../../src/api/ws/monitor-auth.js";
import {parseMonitorParams, type MonitorParseLimits} from "../../../../src/api/ws/monitor-params.js";
import type {PqBackend} from "../../../../src/crypto/interface.js";
import {ed25519, ed25519Account, edToX, pqAccount, sessionAccount} from "../../../utils/keys.js";
import {testPq} from "../../../utils/rpc-harness.js";

const NOW = 1_767_225_600_000;
const T = NOW / 1000;
const limits: MonitorParseLimits = {maxNamespacesPerSubscription: 64, timestampMaxAgeMs: 14 * 86_400_000, timestampMaxFutureMs: 86_400_000};
let pq: PqBackend;
beforeAll(async () => {
  pq = await testPq();
});

const modules = (over: Partial<MonitorAuthModules> = {}): MonitorAuthModules => ({
  store: {isRevoked: () => false},
  pq,
  router: {isOurs: () => true, notReadyReasons: () => []},
  ...over,
});

function errcodeOf(fn: () => unknown): number {
  try {
    fn();
  } catch (err) {
    if (err instanceof MonitorError) return err.errcode;
    throw err;
  }
  return 0;
}

const parse = (params: unknown): ReturnType<typeof parseMonitorParams> => parseMonitorParams(params, limits, NOW, sessionAccountOf);

describe("the signed string", () => {
  it('is "MONITOR" ‖ account hex ‖ t ‖ 0|1 ‖ namespaces joined by ","', () => {
    const acc = "05" + "ab".repeat(32);
    expect(monitorSigMessage(acc, 1_700_000_000, true, [-10, 0, 42]).toString()).toBe(`MONITOR${acc}17000000001-10,0,42`);
    expect(monitorSigMessage(acc, 5, false, [0]).toString()).toBe(`MONITOR${acc}500`);
  });
});

describe("parseMonitorParams", () => {
  const acc = sessionAccount();
  const sig = acc.ed.sign("anything");

  it("derives the 05 account from P, and accepts hex or base64 for every binary field", () => {
    const hex = parse({P: acc.ed.pub.toString("hex"), n: [0], t: T, s: sig.toString("hex")});
    const b64 = parse({P: acc.ed.pub.toString("base64"), n: [0], t: T, s: sig.toString("base64").replace(/=+$/, ""), d: 1});
    expect(hex.account.hex).toBe(acc.hex);
    expect(hex.account.hex).toBe("05" + edToX(acc.ed.pub).toString("hex"));
    expect([b64.account.hex, b64.wantData, hex.wantData]).toEqual([acc.hex, true, false]);
    expect(hex.signature.equals(sig) && b64.signature.equals(sig)).toBe(true);
    const group = ed25519Account("03");
    expect(parse({p: Buffer.from(group.hex, "hex").toString("base64"), n: [0], t: T, s: sig.toString("base64")}).account.hex).toBe(group.hex);
  });

  it("reports the first problem in Session's key order", () => {
    // P (2) before n (3) before s (5) before t (4: checked after all keys are read).
    expect(errcodeOf(() => parse({P: "00", n: [2, 1], s: "x", t: 0}))).toBe(2);
    expect(errcodeOf(() => parse({P: acc.ed.pub.toString("hex"), n: [2, 1], s: "x", t: 0}))).toBe(3);
    expect(errcodeOf(() => parse({P: acc.ed.pub.toString("hex"), n: [1], s: "x", t: 0}))).toBe(5);
    expect(errcodeOf(() => parse({P: acc.ed.pub.toString("hex"), n: [1], s: sig.toString("base64"), t: 0}))).toBe(4);
    // A missing t (last key) is a bad argument, reported before the sizes that depend on the account kind.
    expect(errcodeOf(() => parse({P: "00", n: [1], s: "x"}))).toBe(2);
    expect(errcodeOf(() => parse({P: acc.ed.pub.toString("hex"), n: [1], s: "x"}))).toBe(1);
  });

  it("sizes the signatures by account kind: 3,309 bytes for a 07 account, 64 with a subaccount", () => {
    const p = pqAccount();
    const keys = {pubkey_mldsa: Buffer.from(p.dsa.publicKey).toString("hex"), pubkey_mlkem: Buffer.from(p.kem.publicKey).toString("base64")};
    const r = parse({p: p.hex, n: [0], t: T, s: Buffer.alloc(3309).toString("base64"), ...keys});
    expect([r.signature.length, r.pq?.mlDsaPublicKey.length, r.pq?.mlKemPublicKey.length]).toEqual([3309, 1952, 1184]);
    expect(errcodeOf(() => parse({p: p.hex, n: [0], t: T, s: sig.toString("base64"), ...keys}))).toBe(5);
    const withToken = {p: p.hex, n: [0], t: T, s: sig.toString("base64"), S: Buffer.alloc(3309).toString("base64"), T: "07".padEnd(72, "0"), ...keys};
    expect(parse(withToken).subaccount?.signature.length).toBe(3309);
    expect(errcodeOf(() => parse({...withToken, S: sig.toString("base64")}))).toBe(2);
  });
});

describe("authorizeMonitor", () => {
  const t = T;
  const signed = (ed: ReturnType<typeof ed25519>, account: string, n: number[], d = false): Buffer => ed.sign(monitorSigMessage(account, t, d, n));

  it("05 via P, 03 via p, and a subaccount grant what was asked; the token is kept", () => {
    const s = sessionAccount();
    const g = ed25519Account("03");
    const member = ed25519();
    const token = Buffer.concat([Buffer.from([0x03, 0x01, 0, 0]), member.pub]);
    const viaP = parse({P: s.ed.pub.toString("hex"), n: [0, 5], d: true, t, s: signed(s.ed, s.hex, [0, 5], true).toString("base64")});
    const viaP3 = parse({p: g.hex, n: [1], t, s: signed(g.ed, g.hex, [1]).toString("base64")});
    const viaToken = parse({p: g.hex, n: [1], t, S: g.ed.sign(token).toString("base64"), T: token.toString("base64"), s: signed(member, g.hex, [1]).toString("base64")});
    expect(authorizeMonitor(viaP, modules())).toEqual({account: s.hex, namespaces: [0, 5], wantData: true, token: null});
    expect(authorizeMonitor(viaP3, modules())).toEqual({account: g.hex, namespaces: [1], wantData: false, token: null});
    expect(authorizeMonitor(viaToken, modules())).toEqual({account: g.hex, namespaces: [1], wantData: false, token});
    expect(errcodeOf(() => authorizeMonitor(viaToken, modules({store: {isRevoked: () => true}})))).toBe(5);
  });

  it("checks the swarm (6) before the signature, so a wrong swarm costs no verification", () => {
    const s = sessionAccount();
    const garbage = parse({P: s.ed.pub.toString("hex"), n: [0], t, s: Buffer.alloc(64, 1).toString("base64")});
    let asked = 0;
    const router = {isOurs: () => (asked++, false), notReadyReasons: () => []};
    expect(errcodeOf(() => authorizeMonitor(garbage, modules({router})))).toBe(6);
    expect(asked).toBe(1);
    expect(errcodeOf(() => authorizeMonitor(garbage, modules()))).toBe(5);
  });

  it("refuses a P whose signature is valid but whose account is not 05 ‖ ed→x(P)", () => {
    const s = sessionAccount();
    const other = sessionAccount();
    const req = parse({P: s.ed.pub.toString("hex"), n: [0], t, s: signed(s.ed, s.hex, [0]).toString("base64")});
    expect(errcodeOf(() => authorizeMonitor({...req, account: {...req.account, hex: other.hex, key: Buffer.from(other.hex.slice(2), "hex")}}, modules()))).toBe(5);
  });
});
