import {beforeAll, describe, expect, it} from "vitest";
import {initHashing} from "../../../../src/crypto/hash.js";
import {CHANNEL_MAX_AGE_MS} from "../../../../src/peer/channel/constants.js";
import {REKEY_RETRY_MS} from "../../../../src/peer/channel/manager.js";
import {parseFrame} from "../../../../src/peer/channel/messages.js";
import {asyncCodeOf, codeOf, TestNet as Net, type TestNet, type TestNode} from "./helpers.js";

const bytes = (n: number): Uint8Array => new Uint8Array(n).fill(7);
const channelOf = (frame: Uint8Array): string => Buffer.from(parseFrame(frame, 1 << 20).channelId).toString("hex");

/** Lets background handshakes (in-process, a few awaits deep) finish. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

beforeAll(async () => {
  await initHashing();
});

function pair(opts: Parameters<TestNet["add"]>[1]): {net: TestNet; a: TestNode; b: TestNode} {
  const net = new Net();
  return {net, a: net.add("a", opts), b: net.add("b", {retireGraceMs: 5_000})};
}

describe("rekey by age", () => {
  it("rekeys in the background at rekeyAgeMs; the old channel drains within the retire grace", async () => {
    const {net, a, b} = pair({rekeyAgeMs: 60_000, rekeyGraceMs: 10_000});
    const first = (await a.manager.getOrOpen(b.id.nodeId)).channelId;
    net.clock.advance(60_000);
    const late = await a.manager.seal(b.id.nodeId, bytes(10)); // due: sealed on the old channel
    expect(channelOf(late)).toBe(first);
    await settle();
    expect(a.manager.stats()).toMatchObject({rekeys: 1, handshakesCompleted: 2});
    const fresh = await a.manager.seal(b.id.nodeId, bytes(10));
    expect(channelOf(fresh)).not.toBe(first);
    expect(b.manager.open(late).channelId).toBe(first); // in flight during the rekey: still accepted
    expect(b.manager.open(fresh).sequence).toBe(0);
    const straggler = a.manager.sealOn(first, bytes(1));
    net.clock.advance(5_001); // past b's retire grace
    expect(codeOf(() => b.manager.open(straggler))).toBe("CHANNEL_ERROR_UNKNOWN_CHANNEL");
  });

  it("stops using a channel at rekeyAgeMs + rekeyGraceMs and waits for a new handshake", async () => {
    const {net, a, b} = pair({rekeyAgeMs: 60_000, rekeyGraceMs: 10_000});
    const first = (await a.manager.getOrOpen(b.id.nodeId)).channelId;
    net.nodes.delete(b.id.nodeId); // background rekeys fail
    net.clock.advance(60_000);
    expect(channelOf(await a.manager.seal(b.id.nodeId, bytes(1)))).toBe(first);
    await settle();
    expect(a.manager.stats().rejected.CHANNEL_ERROR_TRANSPORT).toBe(1);
    expect(channelOf(await a.manager.seal(b.id.nodeId, bytes(1)))).toBe(first); // no retry storm
    expect(a.handshakesSent).toBe(2);
    net.clock.advance(REKEY_RETRY_MS);
    await a.manager.seal(b.id.nodeId, bytes(1));
    await settle();
    expect(a.handshakesSent).toBe(3);
    net.clock.advance(10_000 - REKEY_RETRY_MS); // now exhausted
    expect(await asyncCodeOf(a.manager.seal(b.id.nodeId, bytes(1)))).toBe("CHANNEL_ERROR_TRANSPORT");
    net.nodes.set(b.id.nodeId, b);
    const frame = await a.manager.seal(b.id.nodeId, bytes(1));
    expect(channelOf(frame)).not.toBe(first);
    expect(b.manager.open(frame).sequence).toBe(0);
  });

  it("both ends delete a channel at CHANNEL_MAX_AGE_MS", async () => {
    const {net, a, b} = pair({});
    const first = (await a.manager.getOrOpen(b.id.nodeId)).channelId;
    const frame = a.manager.sealOn(first, bytes(1));
    net.clock.advance(CHANNEL_MAX_AGE_MS);
    expect(codeOf(() => b.manager.open(frame))).toBe("CHANNEL_ERROR_UNKNOWN_CHANNEL");
    expect(codeOf(() => a.manager.sealOn(first, bytes(1)))).toBe("CHANNEL_ERROR_UNKNOWN_CHANNEL");
  });
});

describe("rekey by volume", () => {
  it("rekeys after rekeyFrames frames and refuses the old key after twice as many", async () => {
    const {net, a, b} = pair({rekeyFrames: 4});
    const first = (await a.manager.getOrOpen(b.id.nodeId)).channelId;
    net.clock.advance(1_000); // b accepts one handshake per peer per second (minHandshakeIntervalMs)
    for (let i = 0; i < 4; i++) expect(b.manager.open(await a.manager.seal(b.id.nodeId, bytes(1))).sequence).toBe(i);
    net.nodes.delete(b.id.nodeId);
    for (let i = 4; i < 8; i++) {
      const frame = await a.manager.seal(b.id.nodeId, bytes(1)); // due, rekey failing in the background
      expect(channelOf(frame), `frame ${i}`).toBe(first);
    }
    expect(await asyncCodeOf(a.manager.seal(b.id.nodeId, bytes(1)))).toBe("CHANNEL_ERROR_TRANSPORT");
    net.nodes.set(b.id.nodeId, b);
    const frame = await a.manager.seal(b.id.nodeId, bytes(1));
    expect(channelOf(frame)).not.toBe(first);
    expect(a.manager.stats().handshakesCompleted).toBe(2);
  });

  it("rekeys after rekeyBytes plaintext bytes", async () => {
    const {net, a, b} = pair({rekeyBytes: 1_000});
    const first = (await a.manager.getOrOpen(b.id.nodeId)).channelId;
    net.clock.advance(1_000);
    await a.manager.seal(b.id.nodeId, bytes(600));
    await a.manager.seal(b.id.nodeId, bytes(600)); // 600 < 1000: still ok
    const third = await a.manager.seal(b.id.nodeId, bytes(600)); // 1200 >= 1000: due
    expect(channelOf(third)).toBe(first);
    await settle();
    expect(channelOf(await a.manager.seal(b.id.nodeId, bytes(600)))).not.toBe(first);
    expect(a.manager.stats().rekeys).toBe(1);
  });

  it("the responder rekeys a channel it sends on by starting its own handshake", async () => {
    const net = new Net();
    const a = net.add("a");
    const b = net.add("b", {rekeyFrames: 2});
    const info = await a.manager.getOrOpen(b.id.nodeId);
    b.manager.open(a.manager.sealOn(info.channelId, bytes(1))); // confirms the channel at b
    net.clock.advance(1_000);
    for (let i = 0; i < 3; i++) {
      const frame = await b.manager.seal(a.id.nodeId, bytes(1));
      expect(channelOf(frame), `frame ${i}`).toBe(info.channelId);
      expect(a.manager.open(frame).sequence).toBe(i);
    }
    await settle();
    expect(b.handshakesSent).toBe(1);
    const frame = await b.manager.seal(a.id.nodeId, bytes(1));
    expect(channelOf(frame)).not.toBe(info.channelId);
    expect(a.manager.open(frame)).toMatchObject({peer: b.id.nodeId, sequence: 0});
    expect(b.manager.channelsOf(a.id.nodeId).map((c) => c.role)).toEqual(["responder", "initiator"]);
  });
});
