import {readFileSync} from "node:fs";
import {dirname, join} from "node:path";
import {fileURLToPath} from "node:url";
import {describe, expect, it} from "vitest";
import {CHANNEL_ERROR_ACTIONS, ChannelError} from "../../../../src/peer/channel/errors.js";
import {defaultChannelManagerOptions, resolveChannelOptions} from "../../../../src/peer/channel/options.js";

const DOC = readFileSync(join(dirname(fileURLToPath(import.meta.url)), "../../../../docs/PROTOCOL.md"), "utf8");

describe("channel errors", () => {
  it("every code has the action the spec's table (PROTOCOL.md, Peer channel §6) gives it, and the table has no other code", () => {
    const rows = [...DOC.matchAll(/^\| `(CHANNEL_ERROR_[A-Z_]+)` \| (IGNORE|REJECT) \|/gm)].map((m) => [m[1], m[2]]);
    expect(Object.fromEntries(rows)).toEqual(CHANNEL_ERROR_ACTIONS);
  });

  it("carries code, action and metadata", () => {
    const err = new ChannelError({code: "CHANNEL_ERROR_AUTH", channelId: "00", peer: "p"});
    expect(err).toMatchObject({name: "ChannelError", code: "CHANNEL_ERROR_AUTH", action: "REJECT", type: {peer: "p"}});
    expect(err.message).toBe("CHANNEL_ERROR_AUTH");
  });
});

describe("ChannelManager options", () => {
  it("accepts the defaults and rejects values beyond the protocol maxima", () => {
    expect(resolveChannelOptions({})).toEqual(defaultChannelManagerOptions);
    const bad = [
      {rekeyAgeMs: 0},
      {rekeyAgeMs: 2 * 60 * 60 * 1000, rekeyGraceMs: 1},
      {rekeyFrames: 2 ** 23 + 1},
      {rekeyBytes: 0},
      {handshakeWindowMs: 0},
      {maxSeenNonces: 0},
      {maxChannelsPerPeer: 0},
      {maxFrameBytes: 16 * 1024 * 1024 + 1},
      {retireGraceMs: -1},
    ];
    for (const opts of bad) expect(() => resolveChannelOptions(opts), JSON.stringify(opts)).toThrow(/ChannelManager/);
  });
});
