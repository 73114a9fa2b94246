import {createServer} from "node:http";
import type {AddressInfo} from "node:net";
import {beforeAll, describe, expect, it} from "vitest";
import {initHashing} from "../../../src/crypto/hash.js";
import {ChannelTransport} from "../../../src/peer/transport.js";
import {PeerClient} from "../../../src/peer/peer-client.js";
import {RpcBatcher} from "../../../src/replication/rpc-batcher.js";
import {PeerTransport} from "../../../src/replication/transport.js";
import {keysOf, nobleBackend, T0, testIdentity} from "../peer/channel/helpers.js";
import {ChannelError} from "../../../src/peer/channel/index.js";
import {BAD_RESPONSE_ENTRY, Forwarder, TIMEOUT_ENTRY, unreachableEntry} from "../../../src/replication/forwarder.js";
import {resolveReplicationOptions} from "../../../src/replication/options.js";
import {PeerHealth} from "../../../src/replication/peer-health.js";
import {PeerClientError} from "../../../src/peer/peer-retry.js";
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
    expect(await forwarder.forward("store", {})).toEqual({[P1]: unreachableEntry("connect ECONNREFUSED")});
    expect(await forwarder.forward("store", {})).toEqual({[P1]: unreachableEntry("peer down (connect ECONNREFUSED); not contacted")});
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
    expect(await forwarder.forward("delete", {})).toEqual({[P1]: unreachableEntry("connect ECONNREFUSED")}); // the failed attempt
    expect(health.isDown(P1)).toBe(true);
    expect((await forwarder.forward("delete", {}))[P1]).toMatchObject({failed: true, unreachable: true}); // the peer marked down
  });

  it("reports a peer it could not connect to as unreachable, with the cause, not as a timeout (issue #11 item 6)", async () => {
    const refused = new PeerClientError({code: "PEER_CLIENT_ERROR_CONNECT", peer: P2, attempts: 3, cause: "ECONNREFUSED"});
    const handshake = new ChannelError({code: "CHANNEL_ERROR_TRANSPORT", peer: P2}, "handshake failed", refused);
    const {forwarder, enqueued} = setup({[P1]: connectError(), [P2]: () => Promise.reject(handshake)});
    const entries = await forwarder.forward("store", {});
    expect(entries).toEqual({
      [P1]: {failed: true, unreachable: true, reason: "connect ECONNREFUSED"},
      [P2]: {failed: true, unreachable: true, reason: "connect ECONNREFUSED"},
    });
    expect(entries[P1]).not.toHaveProperty("timeout");
    expect(enqueued.map((e) => e.peer).sort()).toEqual([P1, P2].sort());
  });

  it("reports a connection lost mid-request as unreachable, and a peer-client timeout still as a timeout", async () => {
    const reset = new PeerClientError({code: "PEER_CLIENT_ERROR_SOCKET", peer: P1, attempts: 3, cause: "ECONNRESET"});
    const slow = new PeerClientError({code: "PEER_CLIENT_ERROR_TIMEOUT", peer: P2, attempts: 1, cause: "UND_ERR_HEADERS_TIMEOUT"});
    const {forwarder, clock} = setup({[P1]: () => Promise.reject(reset), [P2]: () => Promise.reject(slow)});
    expect(await forwarder.forward("store", {})).toEqual({[P1]: unreachableEntry("connection lost ECONNRESET"), [P2]: TIMEOUT_ENTRY});
    // Skipped while down: P2 was marked down by a timeout, and the entry says so.
    expect((await forwarder.forward("store", {}))[P2]).toEqual(unreachableEntry("peer down (timeout); not contacted"));
    clock.advance(5_000);
    expect((await forwarder.forward("store", {}))[P2]).toEqual(TIMEOUT_ENTRY);
  });

  it("has nothing to do without peers", async () => {
    expect(await setup({}).forwarder.forward("store", {})).toEqual({});
  });
});

describe("Forwarder: a peer that answers an HTTP error status", () => {
  beforeAll(async () => {
    await initHashing();
  });

  it("is reported as failed with its status, not as a timeout or unreachable, retried and not marked down", async () => {
    const status = new PeerClientError({code: "PEER_CLIENT_ERROR_STATUS", peer: P1, attempts: 3, cause: null, status: 503, peerCode: null});
    const {forwarder, enqueued, calls, health} = setup({[P1]: () => Promise.reject(status)});
    const entries = await forwarder.forward("store", {});
    expect(entries).toEqual({[P1]: {failed: true, code: "503", reason: "peer answered HTTP 503"}});
    expect(enqueued).toEqual([{peer: P1, method: "store"}]);
    // It answered, so it is not down: the next forward contacts it again and says what it answered.
    expect(health.wasDown(P1)).toBe(false);
    expect((await forwarder.forward("store", {}))[P1]).toEqual({failed: true, code: "503", reason: "peer answered HTTP 503"});
    expect(calls).toEqual([P1, P1]);
  });

  it("through the real channel transport and peer client: a 500 on the peer routes is {failed, code: \"500\"}", async () => {
    const server = createServer((req, res) => {
      req.resume();
      req.on("end", () => res.writeHead(500, {"content-type": "application/json"}).end(JSON.stringify({code: "internal"})));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const [a, b] = [testIdentity("a"), testIdentity("b")];
    const address = {nodeId: b.nodeId, host: "127.0.0.1", port: (server.address() as AddressInfo).port};
    const client = new PeerClient({}, {directory: {addressOf: (id) => (id === b.nodeId ? address : null)}});
    const link = new ChannelTransport({}, {pq: nobleBackend, identity: a, client, keys: {keysOf: (id) => (id === b.nodeId ? keysOf(b) : null)}, clock: new ManualClock(T0)});
    const clock = new ManualClock(T0);
    const forwarder = new Forwarder(resolveReplicationOptions({forwardTimeoutMs: 2_000}), {
      batcher: new RpcBatcher({maxBatchBytes: 1 << 20}, {transport: new PeerTransport(link)}),
      view: {peers: () => [{nodeId: b.nodeId} as NodeRecord]},
      retries: {enqueue: () => undefined},
      health: new PeerHealth(5_000, clock),
      clock,
      logger: silent,
    });
    try {
      expect(await forwarder.forward("store", {})).toEqual({[b.nodeId]: {failed: true, code: "500", reason: "peer answered HTTP 500 (internal)"}});
    } finally {
      link.close();
      await client.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
