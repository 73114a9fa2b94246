import {describe, expect, it} from "vitest";
import {ChannelError} from "../../../src/replication/channel/index.js";
import {BAD_RESPONSE_ENTRY, Forwarder, TIMEOUT_ENTRY} from "../../../src/replication/forwarder.js";
import {resolveReplicationOptions} from "../../../src/replication/options.js";
import {PeerHealth} from "../../../src/replication/peer-health.js";
import {PeerClientError} from "../../../src/replication/peer-retry.js";
import type {RpcCall, RpcResult} from "../../../src/replication/wire.js";
import type {NodeRecord} from "../../../src/swarm/record-types.js";
import {ManualClock} from "../../../src/util/clock.js";
import {silent} from "../../utils/rpc-harness.js";

const P1 = "11".repeat(32);
const P2 = "22".repeat(32);
type Behaviour = (call: RpcCall) => Promise<RpcResult>;

function setup(behaviours: Record<string, Behaviour>, forwardTimeoutMs = 200) {
  const clock = new ManualClock(1_700_000_000_000);
  const enqueued: Array<{peer: string; method: string}> = [];
  const calls: string[] = [];
  const health = new PeerHealth(5_000, clock);
  const forwarder = new Forwarder(resolveReplicationOptions({forwardTimeoutMs}), {
    batcher: {
      call: (peer, call) => {
        calls.push(peer);
        return (behaviours[peer] ?? (() => Promise.reject(new Error("no behaviour"))))(call);
      },
    },
    view: {peers: () => Object.keys(behaviours).map((nodeId) => ({nodeId}) as NodeRecord)},
    retries: {enqueue: (peer, method) => void enqueued.push({peer, method})},
    health,
    clock,
    logger: silent,
  });
  return {forwarder, enqueued, calls, health, clock};
}

const ok = (body: Record<string, unknown> | string, status = 200): Behaviour => () => Promise.resolve({status, body});
const connectError = (): Behaviour => () =>
  Promise.reject(new PeerClientError({code: "PEER_CLIENT_ERROR_CONNECT", peer: P1, attempts: 3, cause: "ECONNREFUSED"}));

describe("Forwarder", () => {
  it("passes every peer's signed entry through untouched, keyed by node ID", async () => {
    const entry = {hash: "h", signature: "c2ln", signature_proof: {t: 1, n: 1, i: 0, path: []}, expiry: 5};
    const {forwarder} = setup({[P1]: ok(entry), [P2]: ok({failed: true, query_failure: true}, 500)});
    expect(await forwarder.forward("store", {pubkey: "x"})).toEqual({[P1]: entry, [P2]: {failed: true, query_failure: true}});
  });

  it("maps an error status to {failed, code, reason} and an unusable answer to bad_peer_response, without retries", async () => {
    const rejected = new ChannelError({code: "CHANNEL_ERROR_AUTH", channelId: "c", peer: P2});
    const {forwarder, enqueued} = setup({[P1]: ok("Timestamp error: check your clock", 406), [P2]: () => Promise.reject(rejected)});
    expect(await forwarder.forward("store", {})).toEqual({
      [P1]: {failed: true, code: "406", reason: "Timestamp error: check your clock"},
      [P2]: BAD_RESPONSE_ENTRY,
    });
    expect(enqueued).toEqual([]);
  });

  it("answers {failed, timeout} at the deadline and persists the forward only if it finally fails", async () => {
    let failLate: (err: unknown) => void = () => undefined;
    let succeedLate: (result: RpcResult) => void = () => undefined;
    const {forwarder, enqueued} = setup({
      [P1]: () => new Promise((_, reject) => (failLate = reject)),
      [P2]: () => new Promise((resolve) => (succeedLate = resolve)),
    });
    const started = Date.now();
    expect(await forwarder.forward("delete", {})).toEqual({[P1]: TIMEOUT_ENTRY, [P2]: TIMEOUT_ENTRY});
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    succeedLate({status: 200, body: {}});
    failLate(new PeerClientError({code: "PEER_CLIENT_ERROR_TIMEOUT", peer: P1, attempts: 1, cause: null}));
    await new Promise((r) => setImmediate(r));
    expect(enqueued).toEqual([{peer: P1, method: "delete"}]);
  });

  it("skips a peer that just failed (persisting at once) until its probe is due", async () => {
    const {forwarder, enqueued, calls, clock} = setup({[P1]: connectError()});
    expect(await forwarder.forward("store", {})).toEqual({[P1]: TIMEOUT_ENTRY});
    expect(await forwarder.forward("store", {})).toEqual({[P1]: TIMEOUT_ENTRY});
    expect(calls).toEqual([P1]);
    expect(enqueued).toHaveLength(2);
    clock.advance(5_000);
    await forwarder.forward("store", {});
    expect(calls).toEqual([P1, P1]);
  });

  it("never rejects when a retry cannot be persisted (it used to leave the client's request with an unhandled rejection)", async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const health = new PeerHealth(5_000, clock);
    const forwarder = new Forwarder(resolveReplicationOptions({forwardTimeoutMs: 200}), {
      batcher: {call: (_peer, call) => connectError()(call)},
      view: {peers: () => [{nodeId: P1} as NodeRecord]},
      retries: {
        enqueue: () => {
          throw new RangeError("Maximum call stack size exceeded"); // JSON.stringify of hostile params, a full disk, …
        },
      },
      health,
      clock,
      logger: silent,
    });
    expect(await forwarder.forward("delete", {})).toEqual({[P1]: TIMEOUT_ENTRY}); // the failed attempt
    expect(health.isDown(P1)).toBe(true);
    expect(await forwarder.forward("delete", {})).toEqual({[P1]: TIMEOUT_ENTRY}); // the peer marked down
  });

  it("has nothing to do without peers", async () => {
    expect(await setup({}).forwarder.forward("store", {})).toEqual({});
  });
});
