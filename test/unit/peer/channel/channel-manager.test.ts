import {beforeAll, describe, expect, it} from "vitest";
import {initHashing} from "../../../../src/crypto/hash.js";
import {InlineSigner} from "../../../../src/signer/context-signer.js";
import {asyncCodeOf, codeOf, nobleBackend, TestNet, testIdentity} from "./helpers.js";

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const str = (b: Uint8Array): string => new TextDecoder().decode(b);

beforeAll(async () => {
  await initHashing();
});

describe("ChannelManager: handshake and data", () => {
  it("establishes one channel and carries data both ways", async () => {
    const net = new TestNet();
    const a = net.add("a");
    const b = net.add("b");
    const info = await a.manager.getOrOpen(b.id.nodeId);
    expect(info).toMatchObject({peer: b.id.nodeId, role: "initiator"});
    expect(info.channelId).toMatch(/^[0-9a-f]{32}$/);
    expect(b.manager.channelsOf(a.id.nodeId)).toEqual([
      {channelId: info.channelId, peer: a.id.nodeId, role: "responder", createdAtMs: net.clock.now()},
    ]);

    const frame = await a.manager.seal(b.id.nodeId, text("hello b"));
    const opened = b.manager.open(frame);
    expect(opened).toMatchObject({peer: a.id.nodeId, channelId: info.channelId, sequence: 0});
    expect(str(opened.plaintext)).toBe("hello b");

    const reply = b.manager.sealOn(opened.channelId, text("hello a"));
    expect(str(a.manager.open(reply).plaintext)).toBe("hello a");
    // B now knows A holds the keys, so B's own sends reuse the channel instead of a new handshake.
    const push = await b.manager.seal(a.id.nodeId, text("push"));
    expect(a.manager.open(push)).toMatchObject({peer: b.id.nodeId, channelId: info.channelId, sequence: 1});
    expect(a.handshakesSent + b.handshakesSent).toBe(1);
    expect(a.manager.stats()).toMatchObject({handshakesInitiated: 1, handshakesCompleted: 1, framesSealed: 1, framesOpened: 2});
    expect(b.manager.stats()).toMatchObject({handshakesAccepted: 1, framesSealed: 2, framesOpened: 1});
  });

  it("reuses the channel for many frames in both directions", async () => {
    const net = new TestNet();
    const a = net.add("a");
    const b = net.add("b");
    for (let i = 0; i < 50; i++) {
      const opened = b.manager.open(await a.manager.seal(b.id.nodeId, text(`m${i}`)));
      expect(opened.sequence, `frame ${i}`).toBe(i);
      expect(str(a.manager.open(b.manager.sealOn(opened.channelId, text(`r${i}`))).plaintext)).toBe(`r${i}`);
    }
    expect(a.handshakesSent).toBe(1);
  });

  it("shares one handshake between concurrent getOrOpen/seal calls for the same peer", async () => {
    const net = new TestNet();
    const a = net.add("a");
    const b = net.add("b");
    const c = net.add("c");
    const results = await Promise.all([
      a.manager.getOrOpen(b.id.nodeId),
      a.manager.getOrOpen(b.id.nodeId),
      a.manager.seal(b.id.nodeId, text("x")),
      a.manager.getOrOpen(c.id.nodeId),
      a.manager.getOrOpen(b.id.nodeId),
    ]);
    expect(a.handshakesSent).toBe(2); // one to b, one to c
    expect(results[1]).toEqual(results[0]);
    expect(results[4]).toEqual(results[0]);
    expect(b.manager.stats().handshakesAccepted).toBe(1);
  });

  it("uses the signer module when given (worker signer in production)", async () => {
    const net = new TestNet();
    const b = net.add("b");
    let signed = 0;
    const inline = new InlineSigner(nobleBackend, testIdentity("a").mlDsa.secretKey);
    const a = net.add("a", {}, {signer: {sign: (m, c) => (signed++, inline.sign(m, c))}});
    await a.manager.getOrOpen(b.id.nodeId);
    expect(signed).toBe(1);
  });

  it("fails with CHANNEL_ERROR_TRANSPORT when the handshake cannot be delivered, and retries later", async () => {
    const net = new TestNet();
    const a = net.add("a");
    const b = net.add("b");
    net.nodes.delete(b.id.nodeId);
    expect(await asyncCodeOf(a.manager.getOrOpen(b.id.nodeId))).toBe("CHANNEL_ERROR_TRANSPORT");
    expect(a.manager.stats().rejected.CHANNEL_ERROR_TRANSPORT).toBe(1);
    net.nodes.set(b.id.nodeId, b);
    await expect(a.manager.getOrOpen(b.id.nodeId)).resolves.toMatchObject({role: "initiator"});
  });

  it("forgetPeer drops the channels; frames on them become unknown", async () => {
    const net = new TestNet();
    const a = net.add("a");
    const b = net.add("b");
    const frame = await a.manager.seal(b.id.nodeId, text("x"));
    b.manager.forgetPeer(a.id.nodeId);
    expect(codeOf(() => b.manager.open(frame))).toBe("CHANNEL_ERROR_UNKNOWN_CHANNEL");
    expect(b.manager.channelsOf(a.id.nodeId)).toEqual([]);
  });

  it("forgetStale (a resync) drops the frame's channel and older ones, not one a concurrent retry opened since", async () => {
    const net = new TestNet();
    const a = net.add("a");
    const b = net.add("b");
    const first = await a.manager.seal(b.id.nodeId, text("one"));
    const second = await a.manager.seal(b.id.nodeId, text("two"));
    b.manager.forgetPeer(a.id.nodeId); // b restarted: both frames get a resync
    // The first request's retry opens a new channel and b answers on it...
    a.manager.forgetStale(b.id.nodeId, first);
    const retried = b.manager.open(await a.manager.seal(b.id.nodeId, text("one again")));
    const reply = b.manager.sealOn(retried.channelId, text("answer"));
    // ...while the second request's resync, for a frame on the old channel, arrives before that answer.
    a.manager.forgetStale(b.id.nodeId, second);
    expect(str(a.manager.open(reply).plaintext)).toBe("answer");
    expect(a.manager.channelsOf(b.id.nodeId).map((c) => c.channelId)).toEqual([retried.channelId]);
    // The second request's retry goes on the same new channel: no third handshake.
    expect(b.manager.open(await a.manager.seal(b.id.nodeId, text("two again")))).toMatchObject({channelId: retried.channelId});
    expect(a.handshakesSent).toBe(2);
  });

  it("refuses everything after close()", async () => {
    const net = new TestNet();
    const a = net.add("a");
    const b = net.add("b");
    const frame = await a.manager.seal(b.id.nodeId, text("x"));
    b.manager.close();
    expect(codeOf(() => b.manager.open(frame))).toBe("CHANNEL_ERROR_CLOSED");
    a.manager.close();
    expect(await asyncCodeOf(a.manager.seal(b.id.nodeId, text("y")))).toBe("CHANNEL_ERROR_CLOSED");
  });
});
