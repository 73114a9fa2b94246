/**
 * Relay authentication with real ML-DSA-65 keys: a member's signed header is accepted once; a
 * stranger, a stale or replayed header, a tampered blob or a header meant for another hop is not.
 */
import {beforeAll, describe, expect, it} from "vitest";
import {generateIdentity, type NodeIdentity} from "../../../src/crypto/identity.js";
import {RELAY_FROM_HEADER, RELAY_TIME_HEADER, RelayAuth, type RelayHeaders} from "../../../src/onion-relay/index.js";
import {InlineSigner} from "../../../src/signing/index.js";
import {ManualClock} from "../../../src/util/clock.js";
import {testPq} from "../../utils/rpc-harness.js";

const clock = new ManualClock(1_800_000_000_000);
let a: NodeIdentity;
let b: NodeIdentity;
let outsider: NodeIdentity;
let authA: RelayAuth;
let authB: RelayAuth;
const blob = Buffer.from("onion blob for the next hop");

beforeAll(async () => {
  const pq = await testPq();
  [a, b, outsider] = [1, 2, 3].map((i) => generateIdentity(pq, {mlDsa: new Uint8Array(32).fill(i), mlKem: new Uint8Array(64).fill(i)})) as [NodeIdentity, NodeIdentity, NodeIdentity];
  const members = new Map([a, b].map((id) => [id.nodeId, id.mlDsa.publicKey]));
  const make = (id: NodeIdentity): RelayAuth =>
    new RelayAuth({pq, clock, ourNodeId: id.nodeId, signer: new InlineSigner(pq, id.mlDsa.secretKey), memberKey: (n) => members.get(n) ?? null});
  authA = make(a);
  authB = make(b);
});

describe("RelayAuth", () => {
  it("no relay header: a client", () => {
    expect(authB.check({}, blob)).toEqual({kind: "client"});
  });

  it("accepts a member's header once; the same header again is a replay", async () => {
    const h = (await authA.headers(b.nodeId, blob)) as RelayHeaders;
    expect(authB.check(h, blob)).toEqual({kind: "relay", from: a.nodeId});
    expect(authB.check(h, blob)).toEqual({kind: "invalid", reason: "relay header replayed"});
  });

  it("refuses a tampered blob, a header for another hop, a stale time and a stranger", async () => {
    const h = (await authA.headers(b.nodeId, blob)) as RelayHeaders;
    expect(authB.check(h, Buffer.from("another blob"))).toEqual({kind: "invalid", reason: "bad relay signature"});
    const forA = (await authB.headers(a.nodeId, blob)) as RelayHeaders;
    // B's header for A, shown to B itself as if from B: addressed to another hop.
    expect(authB.check(forA, blob)).toEqual({kind: "invalid", reason: "bad relay signature"});
    expect(authB.check({...h, [RELAY_TIME_HEADER]: String(clock.now() - 61_000)}, blob)).toEqual({kind: "invalid", reason: "relay header expired"});
    expect(authB.check({...h, [RELAY_FROM_HEADER]: outsider.nodeId}, blob)).toEqual({kind: "invalid", reason: "relay is not a member"});
    expect(authB.check({...h, [RELAY_TIME_HEADER]: "-5"}, blob)).toEqual({kind: "invalid", reason: "malformed relay header"});
    expect(authB.check({[RELAY_FROM_HEADER]: "zz"}, blob)).toEqual({kind: "invalid", reason: "malformed relay header"});
  });
});
