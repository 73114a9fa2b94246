import {randomBytes} from "node:crypto";
import {beforeAll, describe, expect, it} from "vitest";
import {initHashing} from "../../../../src/crypto/hash.js";
import {CHANNEL_MAX_FRAMES, FRAME, INIT, MessageType, REPLAY_WINDOW_FRAMES, RESP} from "../../../../src/peer/channel/constants.js";
import {ChannelError} from "../../../../src/peer/channel/errors.js";
import {ChannelManager} from "../../../../src/peer/channel/manager.js";
import {codeOf, flip, nobleBackend, TestNet, type TestNode} from "./helpers.js";

const text = (s: string): Uint8Array => new TextEncoder().encode(s);

beforeAll(async () => {
  await initHashing();
});

async function connected(): Promise<{net: TestNet; a: TestNode; b: TestNode; channelId: string}> {
  const net = new TestNet();
  const a = net.add("a");
  const b = net.add("b");
  const {channelId} = await a.manager.getOrOpen(b.id.nodeId);
  return {net, a, b, channelId};
}

describe("frame receive checks", () => {
  it("rejects a replayed frame and counts it", async () => {
    const {a, b, channelId} = await connected();
    const frame = a.manager.sealOn(channelId, text("once"));
    b.manager.open(frame);
    const err = (() => {
      try {
        b.manager.open(frame);
      } catch (e) {
        return e as ChannelError;
      }
      return null;
    })();
    expect(err).toMatchObject({code: "CHANNEL_ERROR_REPLAY", action: "IGNORE", type: {sequence: 0, peer: a.id.nodeId}});
    expect(b.manager.stats().rejected.CHANNEL_ERROR_REPLAY).toBe(1);
    expect(b.rejected).toEqual([err]);
  });

  it("accepts reordering within the window and rejects frames older than it", async () => {
    const {a, b, channelId} = await connected();
    const frames = Array.from({length: REPLAY_WINDOW_FRAMES + 2}, (_, i) => a.manager.sealOn(channelId, text(`f${i}`)));
    // Deliver 5, 3, 4, 0 (all within the window), then a jump to the last frame.
    for (const i of [5, 3, 4, 0]) expect(b.manager.open(frames[i]!).sequence, `frame ${i}`).toBe(i);
    expect(codeOf(() => b.manager.open(frames[3]!))).toBe("CHANNEL_ERROR_REPLAY");
    const last = REPLAY_WINDOW_FRAMES + 1;
    expect(b.manager.open(frames[last]!).sequence).toBe(last);
    // highest = 1025: frame 1 is 1024 behind (outside), frame 2 is 1023 behind (inside, unseen).
    expect(codeOf(() => b.manager.open(frames[1]!))).toBe("CHANNEL_ERROR_TOO_OLD");
    expect(b.manager.open(frames[2]!).sequence).toBe(2);
    expect(codeOf(() => b.manager.open(frames[0]!))).toBe("CHANNEL_ERROR_TOO_OLD"); // seen, but out of the window
    expect(codeOf(() => b.manager.open(frames[5]!))).toBe("CHANNEL_ERROR_REPLAY"); // 1020 behind: still tracked
    expect(b.manager.stats().rejected).toMatchObject({CHANNEL_ERROR_REPLAY: 2, CHANNEL_ERROR_TOO_OLD: 2});
  });

  it("rejects a tampered header, ciphertext or tag without moving the window", async () => {
    const {a, b, channelId} = await connected();
    const frame = a.manager.sealOn(channelId, text("payload of some length"));
    const positions: Array<[string, number]> = [
      ["sequence", FRAME.SEQUENCE + 7],
      ["ciphertext", FRAME.HEADER_BYTES + 3],
      ["tag", frame.length - 1],
    ];
    for (const [what, index] of positions) {
      expect(codeOf(() => b.manager.open(flip(frame, index))), what).toBe("CHANNEL_ERROR_AUTH");
    }
    expect(codeOf(() => b.manager.open(frame.subarray(0, frame.length - 1)))).toBe("CHANNEL_ERROR_AUTH");
    expect(b.manager.open(frame).sequence).toBe(0); // the forged sequence 1 was never committed
    expect(b.manager.stats().rejected.CHANNEL_ERROR_AUTH).toBe(4);
  });

  it("rejects a frame with an unknown channel id", async () => {
    const {a, b, channelId} = await connected();
    const frame = a.manager.sealOn(channelId, text("x"));
    expect(codeOf(() => b.manager.open(flip(frame, FRAME.CHANNEL_ID)))).toBe("CHANNEL_ERROR_UNKNOWN_CHANNEL");
  });

  it("rejects a frame sent back to its sender (wrong direction), also with a forged direction byte", async () => {
    const {a, b, channelId} = await connected();
    const frame = a.manager.sealOn(channelId, text("x"));
    expect(codeOf(() => a.manager.open(frame))).toBe("CHANNEL_ERROR_WRONG_DIRECTION");
    const reply = b.manager.sealOn(channelId, text("y"));
    expect(codeOf(() => b.manager.open(reply))).toBe("CHANNEL_ERROR_WRONG_DIRECTION");
    // Rewriting the type byte gets past the direction check but not the AEAD (different key, AAD).
    const forged = new Uint8Array(frame);
    forged[1] = MessageType.FRAME_R2I;
    expect(codeOf(() => a.manager.open(forged))).toBe("CHANNEL_ERROR_AUTH");
    expect(a.manager.stats().rejected).toMatchObject({CHANNEL_ERROR_WRONG_DIRECTION: 1, CHANNEL_ERROR_AUTH: 1});
  });

  it("rejects sequence numbers at or beyond CHANNEL_MAX_FRAMES before decrypting", async () => {
    const {a, b, channelId} = await connected();
    const frame = a.manager.sealOn(channelId, text("x"));
    const big = Buffer.from(frame); // a copy
    big.writeBigUInt64BE(BigInt(CHANNEL_MAX_FRAMES), FRAME.SEQUENCE);
    expect(codeOf(() => b.manager.open(big))).toBe("CHANNEL_ERROR_SEQUENCE_LIMIT");
    big.writeBigUInt64BE(2n ** 64n - 1n, FRAME.SEQUENCE);
    expect(codeOf(() => b.manager.open(big))).toBe("CHANNEL_ERROR_SEQUENCE_LIMIT");
  });

  it("rejects frames longer than maxFrameBytes before decrypting", async () => {
    const net = new TestNet();
    const a = net.add("a");
    const b = net.add("b", {maxFrameBytes: 100});
    const {channelId} = await a.manager.getOrOpen(b.id.nodeId);
    expect(b.manager.open(a.manager.sealOn(channelId, new Uint8Array(100))).plaintext.length).toBe(100);
    expect(codeOf(() => b.manager.open(a.manager.sealOn(channelId, new Uint8Array(101))))).toBe("CHANNEL_ERROR_MALFORMED");
  });
});

describe("garbage from the network", () => {
  const lengths = [0, 1, 2, 3, 17, 25, 26, 41, 42, 43, 100, 1_000, RESP.BYTES - 1, RESP.BYTES, INIT.BYTES - 1, INIT.BYTES, INIT.BYTES + 1, 70_000];

  function onlyChannelErrors(fn: () => unknown, what: string): void {
    try {
      fn();
    } catch (err) {
      expect(err, what).toBeInstanceOf(ChannelError);
    }
  }

  it("open() throws only ChannelError, for random bytes and for valid prefixes", async () => {
    const {a, b, channelId} = await connected();
    const valid = a.manager.sealOn(channelId, new Uint8Array(64));
    for (const n of lengths) {
      onlyChannelErrors(() => b.manager.open(randomBytes(n)), `random ${n}`);
      const prefixed = new Uint8Array(n);
      prefixed.set(valid.subarray(0, Math.min(n, valid.length)));
      onlyChannelErrors(() => b.manager.open(prefixed), `frame prefix ${n}`);
    }
    for (const type of [0x00, 0x01, 0x02, 0x10, 0x11, 0xff]) {
      const bytes = randomBytes(60);
      bytes[0] = 0x01;
      bytes[1] = type;
      onlyChannelErrors(() => b.manager.open(bytes), `type ${type}`);
    }
    for (const junk of [null, undefined, "frame", 42, {}, [1, 2, 3]]) {
      onlyChannelErrors(() => b.manager.open(junk as never), `junk ${JSON.stringify(junk)}`);
    }
  });

  it("acceptHandshake() rejects only with ChannelError, for random bytes and mutated Inits", async () => {
    const net = new TestNet();
    const b = net.add("b");
    const a = net.add("a");
    let captured: Uint8Array | null = null;
    const spy = new ChannelManager({}, {
      pq: nobleBackend,
      identity: a.id,
      lookupPeer: (id) => net.membership.get(id) ?? null,
      sendHandshake: (_peer, init) => {
        captured = init;
        return Promise.reject(new Error("captured"));
      },
      clock: net.clock,
    });
    await spy.getOrOpen(b.id.nodeId).catch(() => undefined);
    const init = captured!;
    const inputs: Array<[string, unknown]> = lengths.map((n) => [`random ${n}`, randomBytes(n)]);
    for (const n of lengths) {
      const bytes = randomBytes(n);
      bytes.set(init.subarray(0, Math.min(n, 2)));
      inputs.push([`versioned random ${n}`, bytes]);
    }
    for (let i = 0; i < 40; i++) inputs.push([`mutated byte ${i * 113}`, flip(init, i * 113, 0x80)]);
    inputs.push(["junk string", "hello"], ["null", null]);
    for (const [what, input] of inputs) {
      const outcome = await b.manager.acceptHandshake(input as Uint8Array).then(
        () => "accepted",
        (err: unknown) => (err instanceof ChannelError ? "channel-error" : err),
      );
      expect(outcome, what).toBe("channel-error");
    }
  });
});
