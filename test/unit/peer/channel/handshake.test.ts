import {createHash} from "node:crypto";
import {beforeAll, describe, expect, it} from "vitest";
import {CTX} from "../../../../src/crypto/contexts.js";
import {initHashing} from "../../../../src/crypto/hash.js";
import type {NodeIdentity} from "../../../../src/crypto/key-file.js";
import {INIT, RESP} from "../../../../src/peer/channel/constants.js";
import {ChannelError} from "../../../../src/peer/channel/errors.js";
import {initMessage, startInitiator} from "../../../../src/peer/channel/handshake.js";
import {asyncCodeOf, detBytes, flip, keysOf, nobleBackend, T0, TestNet, testIdentity} from "./helpers.js";

const pq = nobleBackend;
const idBytes = (id: NodeIdentity): Uint8Array => new Uint8Array(Buffer.from(id.nodeId, "hex"));

interface CraftOptions {
  timestampMs?: number;
  nonce?: Uint8Array;
  /** Signs with this identity's ML-DSA key instead of the sender's. */
  signer?: NodeIdentity;
  context?: Uint8Array;
  /** Changes the unsigned bytes before signing (e.g. a bad ephemeral key). */
  edit?: (unsigned: Uint8Array) => void;
}

let nonceCounter = 0;

/** An Init from `from` to `to`, signed (or mis-signed) as told. */
function craftInit(from: NodeIdentity, to: NodeIdentity, o: CraftOptions = {}): Uint8Array {
  const state = startInitiator({
    pq,
    initiatorId: idBytes(from),
    responderId: idBytes(to),
    responderKemPublicKey: to.mlKem.publicKey,
    timestampMs: o.timestampMs ?? T0,
    nonce: o.nonce ?? detBytes(`nonce/${nonceCounter++}`, 32),
  });
  o.edit?.(state.unsigned);
  const toSign = new Uint8Array([0x01, ...sha256(state.unsigned)]);
  const signature = pq.mlDsa65.sign((o.signer ?? from).mlDsa.secretKey, toSign, o.context ?? CTX.CHANNEL_HANDSHAKE);
  return initMessage(state, signature);
}

function sha256(b: Uint8Array): Uint8Array {
  return new Uint8Array(createHash("sha256").update(b).digest());
}

beforeAll(async () => {
  await initHashing();
});

function setup(opts = {}): {net: TestNet; b: ReturnType<TestNet["add"]>; a: NodeIdentity; c: NodeIdentity} {
  const net = new TestNet();
  const b = net.add("b", opts);
  const a = testIdentity("a");
  const c = testIdentity("c");
  net.membership.set(a.nodeId, keysOf(a));
  net.membership.set(c.nodeId, keysOf(c));
  return {net, b, a, c};
}

describe("responder admission (each check of §2.3)", () => {
  it("accepts a well-formed Init from a registered node", async () => {
    const {b, a} = setup();
    const resp = await b.manager.acceptHandshake(craftInit(a, b.id));
    expect(resp.length).toBe(RESP.BYTES);
    expect(b.manager.channelsOf(a.nodeId)).toHaveLength(1);
  });

  it("rejects an Init from a node ID that is not in the membership", async () => {
    const {net, b} = setup();
    const stranger = testIdentity("stranger");
    expect(await asyncCodeOf(b.manager.acceptHandshake(craftInit(stranger, b.id)))).toBe("CHANNEL_ERROR_UNKNOWN_PEER");
    // …and end to end: the stranger's own manager sees the refusal.
    const x = net.add("x");
    net.membership.delete(x.id.nodeId);
    expect(await asyncCodeOf(x.manager.getOrOpen(b.id.nodeId))).toBe("CHANNEL_ERROR_UNKNOWN_PEER");
    expect(b.manager.stats().rejected.CHANNEL_ERROR_UNKNOWN_PEER).toBe(2);
    expect(b.manager.channelsOf(x.id.nodeId)).toEqual([]);
  });

  it("rejects membership keys that do not hash to the node ID", async () => {
    const {net, b, a, c} = setup();
    net.membership.set(a.nodeId, {mlDsaPublicKey: a.mlDsa.publicKey, mlKemPublicKey: c.mlKem.publicKey});
    expect(await asyncCodeOf(b.manager.acceptHandshake(craftInit(a, b.id)))).toBe("CHANNEL_ERROR_UNKNOWN_PEER");
  });

  it("rejects a bad signature, a signature by another key and one with another context", async () => {
    const {b, a, c} = setup();
    const init = craftInit(a, b.id);
    const cases: Array<[string, Uint8Array]> = [
      ["flipped signature bit", flip(init, INIT.SIGNATURE + 100)],
      ["flipped KEM ciphertext bit", flip(init, INIT.KEM_CIPHERTEXT + 5)],
      ["flipped ephemeral key bit", flip(init, INIT.EPHEMERAL_KEY + 5)],
      ["flipped nonce bit", flip(init, INIT.NONCE)],
      ["timestamp 1 ms later", flip(init, INIT.TIMESTAMP + 7)],
      ["signed by another registered node", craftInit(a, b.id, {signer: c})],
      ["signed with the node-record context", craftInit(a, b.id, {context: CTX.NODE_RECORD})],
    ];
    for (const [what, bytes] of cases) {
      const err = await b.manager.acceptHandshake(bytes).catch((e: unknown) => e);
      expect(err, what).toBeInstanceOf(ChannelError);
      expect((err as ChannelError).code, what).toBe("CHANNEL_ERROR_BAD_SIGNATURE");
      expect((err as ChannelError).action, what).toBe("REJECT");
    }
    expect(b.rejected).toHaveLength(cases.length);
    expect(b.manager.channelsOf(a.nodeId)).toEqual([]);
  });

  it("rejects an Init addressed to another node, and one claiming to come from the responder itself", async () => {
    const {b, a, c} = setup();
    expect(await asyncCodeOf(b.manager.acceptHandshake(craftInit(a, c)))).toBe("CHANNEL_ERROR_WRONG_RESPONDER");
    expect(await asyncCodeOf(b.manager.acceptHandshake(craftInit(b.id, b.id)))).toBe("CHANNEL_ERROR_WRONG_RESPONDER");
  });

  it("rejects timestamps outside ±handshakeWindowMs", async () => {
    const {b, a} = setup();
    for (const offset of [-60_001, 60_001, -3_600_000]) {
      const err = await b.manager.acceptHandshake(craftInit(a, b.id, {timestampMs: T0 + offset})).catch((e: unknown) => e);
      expect((err as ChannelError).code, `offset ${offset}`).toBe("CHANNEL_ERROR_STALE");
      expect((err as ChannelError).action).toBe("IGNORE");
    }
    await expect(b.manager.acceptHandshake(craftInit(a, b.id, {timestampMs: T0 - 60_000}))).resolves.toBeInstanceOf(Uint8Array);
  });

  it("rejects a replayed Init inside the window (nonce cache) and after it (timestamp)", async () => {
    const {net, b, a} = setup();
    const init = craftInit(a, b.id);
    await b.manager.acceptHandshake(init);
    net.clock.advance(1_000);
    expect(await asyncCodeOf(b.manager.acceptHandshake(init))).toBe("CHANNEL_ERROR_HANDSHAKE_REPLAY");
    net.clock.advance(60_000);
    expect(await asyncCodeOf(b.manager.acceptHandshake(init))).toBe("CHANNEL_ERROR_STALE");
    expect(b.manager.channelsOf(a.nodeId)).toHaveLength(1);
  });

  it("two copies of one Init racing each other: exactly one is accepted", async () => {
    const {b, a} = setup({minHandshakeIntervalMs: 0});
    const init = craftInit(a, b.id);
    const results = await Promise.allSettled([b.manager.acceptHandshake(init), b.manager.acceptHandshake(init)]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
  });

  it("rate-limits accepted handshakes per peer", async () => {
    const {net, b, a} = setup();
    await b.manager.acceptHandshake(craftInit(a, b.id));
    expect(await asyncCodeOf(b.manager.acceptHandshake(craftInit(a, b.id)))).toBe("CHANNEL_ERROR_RATE_LIMITED");
    net.clock.advance(1_000);
    await expect(b.manager.acceptHandshake(craftInit(a, b.id, {timestampMs: T0 + 1_000}))).resolves.toBeInstanceOf(Uint8Array);
  });

  it("refuses new handshakes when the nonce cache is full of live entries", async () => {
    const {net, b, a, c} = setup({maxSeenNonces: 1});
    await b.manager.acceptHandshake(craftInit(a, b.id));
    expect(await asyncCodeOf(b.manager.acceptHandshake(craftInit(c, b.id)))).toBe("CHANNEL_ERROR_BUSY");
    net.clock.advance(60_001);
    await expect(b.manager.acceptHandshake(craftInit(c, b.id, {timestampMs: T0 + 60_001}))).resolves.toBeInstanceOf(Uint8Array);
  });

  it("rejects a correctly signed Init whose ephemeral key fails the FIPS 203 check", async () => {
    const {b, a} = setup();
    const init = craftInit(a, b.id, {edit: (u) => u.fill(0xff, INIT.EPHEMERAL_KEY, INIT.EPHEMERAL_KEY + 384)});
    expect(await asyncCodeOf(b.manager.acceptHandshake(init))).toBe("CHANNEL_ERROR_MALFORMED");
  });

  it("rejects other versions, types and lengths before any crypto", async () => {
    const {b, a} = setup();
    const init = craftInit(a, b.id);
    expect(await asyncCodeOf(b.manager.acceptHandshake(flip(init, 0, 0x03)))).toBe("CHANNEL_ERROR_UNSUPPORTED_VERSION");
    expect(await asyncCodeOf(b.manager.acceptHandshake(flip(init, 1, 0x03)))).toBe("CHANNEL_ERROR_MALFORMED");
    expect(await asyncCodeOf(b.manager.acceptHandshake(init.subarray(0, INIT.BYTES - 1)))).toBe("CHANNEL_ERROR_MALFORMED");
    expect(await asyncCodeOf(b.manager.acceptHandshake(new Uint8Array([...init, 0])))).toBe("CHANNEL_ERROR_MALFORMED");
  });
});

describe("initiator checks on Resp", () => {
  function withTamperedResp(edit: (resp: Uint8Array) => Uint8Array): TestNet {
    const net = new TestNet();
    const b = net.add("b");
    const real = b.manager;
    net.nodes.set(b.id.nodeId, {...b, manager: {acceptHandshake: async (i: Uint8Array) => edit(await real.acceptHandshake(i))} as never});
    return net;
  }

  it("rejects a Resp whose confirmation or ephemeral ciphertext was altered (key confirmation)", async () => {
    for (const offset of [RESP.CONFIRM + 3, RESP.EPHEMERAL_CIPHERTEXT + 9, RESP.NONCE]) {
      const net = withTamperedResp((r) => flip(r, offset));
      const a = net.add("a");
      expect(await asyncCodeOf(a.manager.getOrOpen(testIdentity("b").nodeId)), `offset ${offset}`).toBe(
        "CHANNEL_ERROR_KEY_CONFIRMATION",
      );
    }
  });

  it("rejects a Resp with a bad responder signature", async () => {
    const net = withTamperedResp((r) => flip(r, RESP.SIGNATURE + 50));
    const a = net.add("a");
    expect(await asyncCodeOf(a.manager.getOrOpen(testIdentity("b").nodeId))).toBe("CHANNEL_ERROR_BAD_SIGNATURE");
    expect(a.rejected[0]).toMatchObject({type: {code: "CHANNEL_ERROR_BAD_SIGNATURE", role: "responder"}});
  });

  it("rejects a Resp of the wrong length", async () => {
    const net = withTamperedResp((r) => r.subarray(0, 100));
    const a = net.add("a");
    expect(await asyncCodeOf(a.manager.getOrOpen(testIdentity("b").nodeId))).toBe("CHANNEL_ERROR_MALFORMED");
  });

  it("an impostor with the responder's ML-DSA key but not its ML-KEM key fails key confirmation", async () => {
    const net = new TestNet();
    const b = testIdentity("b");
    const c = testIdentity("c");
    net.membership.set(b.nodeId, keysOf(b));
    net.add("b", {}, {identity: {nodeId: b.nodeId, mlDsa: b.mlDsa, mlKem: c.mlKem}}); // impostor
    const a = net.add("a");
    expect(await asyncCodeOf(a.manager.getOrOpen(b.nodeId))).toBe("CHANNEL_ERROR_KEY_CONFIRMATION");
  });

  it("does not send an Init to a node that is not in its membership", async () => {
    const net = new TestNet();
    const a = net.add("a");
    expect(await asyncCodeOf(a.manager.getOrOpen(testIdentity("nobody").nodeId))).toBe("CHANNEL_ERROR_UNKNOWN_PEER");
    expect(a.handshakesSent).toBe(0);
  });
});
