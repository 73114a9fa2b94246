import {describe, expect, it} from "vitest";
import {MAX_BATCHES_IN_FLIGHT, RpcBatcher, type RpcBatcherOptions} from "../../../src/replication/rpc-batcher.js";
import {defaultReplicationOptions} from "../../../src/replication/options.js";
import {MAX_RPC_BATCH, decodePeerRequest, type PeerReply, type PeerRequest, type RpcResult} from "../../../src/replication/wire.js";

const P = "44".repeat(32);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function setup(answer: (req: PeerRequest) => PeerReply | Error, opts: RpcBatcherOptions = {maxBatchBytes: 1 << 20}) {
  const sent: PeerRequest[] = [];
  const respond = (req: PeerRequest): Promise<PeerReply> => {
    sent.push(req);
    const r = answer(req);
    return r instanceof Error ? Promise.reject(r) : Promise.resolve(r);
  };
  const batcher = new RpcBatcher(opts, {
    transport: {request: (_peer, req) => respond(req), requestRaw: (_peer, bytes) => respond(decodePeerRequest(bytes))},
  });
  return {batcher, sent};
}

const echo = (req: PeerRequest): PeerReply =>
  req.type === "rpc_batch"
    ? {type: "rpc_batch_ok", results: req.requests.map((r) => ({status: 200, body: {n: r.params.n}}))}
    : {type: "rpc_ok", status: 200, body: {n: req.type === "rpc" ? req.params.n : null}};

describe("RpcBatcher", () => {
  it("sends a lone call as rpc and the calls of one turn as one rpc_batch, answers in order", async () => {
    const {batcher, sent} = setup(echo);
    expect(await batcher.call(P, {method: "store", params: {n: 0}})).toEqual({status: 200, body: {n: 0}});
    const results = await Promise.all([1, 2, 3].map((n) => batcher.call(P, {method: "store", params: {n}})));
    expect(results.map((r) => (r.body as {n: number}).n)).toEqual([1, 2, 3]);
    expect(sent.map((r) => r.type)).toEqual(["rpc", "rpc_batch"]);
    // The batch asks for shared signatures in the reply (PROTOCOL.md Replication §3.2).
    expect(sent[1]).toEqual({type: "rpc_batch", requests: [1, 2, 3].map((n) => ({method: "store", params: {n}})), sharedSignatures: true});
  });

  it("observes the calls of every frame it sends (pars_replication_forward_frame_calls)", async () => {
    const observed: number[] = [];
    const metrics = {forwardFrameCalls: {observe: (v: number) => void observed.push(v)}};
    const batcher = new RpcBatcher({maxBatchBytes: 1 << 20}, {transport: heldTransport().transport, metrics});
    void batcher.call(P, {method: "store", params: {n: 0}});
    await new Promise((resolve) => setImmediate(resolve));
    for (const n of [1, 2, 3]) void batcher.call("55".repeat(32), {method: "store", params: {n}});
    await new Promise((resolve) => setImmediate(resolve));
    expect(observed).toEqual([1, 3]);
  });

  it("splits at MAX_RPC_BATCH calls and at maxBatchBytes", async () => {
    const {batcher, sent} = setup(echo, {maxBatchBytes: 200});
    await Promise.all(Array.from({length: MAX_RPC_BATCH + 1}, (_, n) => batcher.call(P, {method: "store", params: {n}})));
    const sizes = sent.map((r) => (r.type === "rpc_batch" ? r.requests.length : 1));
    expect(sizes.reduce((x, y) => x + y, 0)).toBe(MAX_RPC_BATCH + 1);
    expect(Math.max(...sizes), "calls of ~36 bytes per 200-byte batch").toBe(5);
    const big = setup(echo);
    await Promise.all(Array.from({length: MAX_RPC_BATCH + 1}, (_, n) => big.batcher.call(P, {method: "store", params: {n}})));
    expect(big.sent.map((r) => (r.type === "rpc_batch" ? r.requests.length : 1))).toEqual([MAX_RPC_BATCH, 1]);
  });

  it("fails every call of a batch alike, and a reply with the wrong count as a bad message", async () => {
    const down = setup(() => new Error("ECONNREFUSED"));
    const outcomes = await Promise.allSettled([1, 2].map((n) => down.batcher.call(P, {method: "store", params: {n}})));
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected"]);
    const short = setup(() => ({type: "rpc_batch_ok", results: [{status: 200, body: {}}]}));
    await expect(Promise.all([1, 2].map((n) => short.batcher.call(P, {method: "store", params: {n}})))).rejects.toMatchObject({
      code: "REPLICATION_ERROR_BAD_MESSAGE",
    });
  });

  it("keeps at most forwardBatchesInFlight (2 here) batches unanswered per peer; calls made meanwhile leave together", async () => {
    const inFlight = 2;
    const {held, sent, transport} = heldTransport();
    const batcher = new RpcBatcher(
      {maxBatchBytes: 1 << 20, batchesInFlight: inFlight},
      {transport},
    );
    const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    const calls: Array<Promise<unknown>> = [];
    // One call per event-loop turn: each would have been its own frame.
    for (let n = 0; n < 6; n++) {
      calls.push(batcher.call(P, {method: "store", params: {n}}));
      await turn();
    }
    expect(sent.length, "frames sent while none was answered").toBe(inFlight);
    held.shift()?.();
    await turn();
    await turn();
    expect(sent.length).toBe(inFlight + 1);
    const third = sent[inFlight];
    expect(third?.type === "rpc_batch" && third.requests.map((r) => r.params.n)).toEqual([2, 3, 4, 5]);
    while (held.length > 0) held.shift()?.();
    expect((await Promise.all(calls)).map((r) => ((r as {body: {n: number}}).body).n)).toEqual([0, 1, 2, 3, 4, 5]);
    // Another peer is not held up by this one's batches.
    const other = batcher.call("55".repeat(32), {method: "store", params: {n: 9}});
    await turn();
    expect(sent.at(-1)).toEqual({type: "rpc", method: "store", params: {n: 9}});
    held.shift()?.();
    expect(await other).toEqual({status: 200, body: {n: 9}});
  });

  it("keeps one batch in flight per peer by default (replication.forwardBatchesInFlight 1)", async () => {
    const {held, sent, transport} = heldTransport();
    expect(MAX_BATCHES_IN_FLIGHT, "the constructor's default is the setting's").toBe(defaultReplicationOptions.forwardBatchesInFlight);
    expect(MAX_BATCHES_IN_FLIGHT).toBe(1);
    const batcher = new RpcBatcher({maxBatchBytes: 1 << 20}, {transport});
    const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    const calls: Array<Promise<unknown>> = [];
    for (let n = 0; n < 4; n++) {
      calls.push(batcher.call(P, {method: "store", params: {n}}));
      await turn();
    }
    expect(sent.length, "the second turn's call waits for the first frame's answer").toBe(1);
    held.shift()?.();
    await turn();
    await turn();
    expect(sent.map((r) => (r.type === "rpc_batch" ? r.requests.map((c) => c.params.n) : [r.type === "rpc" ? r.params.n : null]))).toEqual([[0], [1, 2, 3]]);
    held.shift()?.();
    expect((await Promise.all(calls)).map((r) => ((r as {body: {n: number}}).body).n)).toEqual([0, 1, 2, 3]);
  });

  describe("with a hold (replication.forwardBatchHoldMs)", () => {
    const HOLD_MS = 60;

    it("holds the place of a batch answered while calls wait: calls made meanwhile join them in one frame", async () => {
      const {held, sent, transport} = heldTransport();
      const batcher = new RpcBatcher({maxBatchBytes: 1 << 20, holdMs: HOLD_MS}, {transport});
      const first = batcher.call(P, {method: "store", params: {n: 0}});
      await sleep(1);
      const waiting = [batcher.call(P, {method: "store", params: {n: 1}})];
      const answeredAt = performance.now();
      held.shift()?.();
      expect(await first, "the answer does not wait for the hold").toEqual({status: 200, body: {n: 0}});
      for (let n = 2; n <= 3; n++) {
        await sleep(5);
        waiting.push(batcher.call(P, {method: "store", params: {n}}));
      }
      expect(sent.length, "nothing leaves during the hold").toBe(1);
      while (sent.length < 2) await sleep(2);
      expect(performance.now() - answeredAt).toBeGreaterThanOrEqual(HOLD_MS - 2);
      held.shift()?.();
      await Promise.all(waiting);
      expect(sent.map((r) => (r.type === "rpc_batch" ? r.requests.map((c) => c.params.n) : [r.type === "rpc" ? r.params.n : null]))).toEqual([[0], [1, 2, 3]]);
    });

    it("frees the place of a batch answered with no call waiting: a forward at a low rate does not wait", async () => {
      const {batcher, sent} = setup(echo, {maxBatchBytes: 1 << 20, holdMs: 10_000});
      const started = performance.now();
      for (let n = 0; n < 3; n++) expect(await batcher.call(P, {method: "store", params: {n}})).toEqual({status: 200, body: {n}});
      expect(sent.map((r) => r.type)).toEqual(["rpc", "rpc", "rpc"]);
      expect(performance.now() - started).toBeLessThan(2_000);
    });

    it("holds nothing after a failed exchange", async () => {
      const sent: PeerRequest[] = [];
      const batcher = new RpcBatcher(
        {maxBatchBytes: 1 << 20, holdMs: 10_000},
        {
          transport: {
            request: (_p, req) => {
              sent.push(req);
              // The first exchange fails (after 5 ms, while a call waits); the next succeeds.
              return sent.length === 1 ? new Promise((_resolve, reject) => setTimeout(() => reject(new Error("ECONNRESET")), 5)) : Promise.resolve(echo(req));
            },
            requestRaw: (_p, bytes) => Promise.resolve(echo(decodePeerRequest(bytes))),
          },
        },
      );
      const first = batcher.call(P, {method: "store", params: {n: 0}});
      await sleep(1);
      const waiting = batcher.call(P, {method: "store", params: {n: 1}});
      await expect(first).rejects.toThrow("ECONNRESET");
      const started = performance.now();
      expect(await waiting).toEqual({status: 200, body: {n: 1}});
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(sent.length).toBe(2);
    }, 5_000);

    it("ends a hold early once a whole batch waits", async () => {
      const {held, sent, call, waiting} = await holding(10_000);
      // The hold runs (one call waits); the fifth call makes a whole batch, which leaves at once.
      for (const n of [2, 3, 4]) waiting.push(call(n));
      await sleep(20);
      expect(sent.length).toBe(1);
      waiting.push(call(5));
      while (sent.length < 2) await sleep(1);
      held.shift()?.();
      expect((await Promise.all(waiting)).map((r) => (r.body as {n: number}).n)).toEqual([1, 2, 3, 4, 5]);
      expect(sent.map((r) => (r.type === "rpc_batch" ? r.requests.length : 1))).toEqual([1, 5]);
    }, 5_000);

    it("a hold ended early gives up its place once: its timer does not free another later", async () => {
      const {held, sent, call, waiting} = await holding(30);
      // The whole batch ends the hold and leaves; it is the one batch in flight.
      for (const n of [2, 3, 4, 5]) waiting.push(call(n));
      while (sent.length < 2) await sleep(1);
      // Past the hold's length, a new call still waits for that batch's answer.
      await sleep(60);
      const late = call(6);
      await sleep(20);
      expect(sent.length).toBe(2);
      held.shift()?.();
      await Promise.all(waiting);
      while (sent.length < 3) await sleep(1);
      held.shift()?.();
      expect(((await late).body as {n: number}).n).toBe(6);
    }, 5_000);
  });
});

/**
 * A batcher holding for `holdMs` whose first frame (call 0) was answered while call 1 waited: the
 * hold runs, call 1 is in `waiting`. Every call serialises to 35 bytes, and `maxBatchBytes` is 175:
 * five waiting calls make a whole batch.
 */
async function holding(holdMs: number) {
  const {held, sent, transport} = heldTransport();
  const batcher = new RpcBatcher({maxBatchBytes: 175, holdMs}, {transport});
  const call = (n: number): Promise<RpcResult> => batcher.call(P, {method: "store", params: {n}});
  const first = call(0);
  await sleep(1);
  const waiting = [call(1)];
  held.shift()?.();
  await first;
  return {held, sent, call, waiting};
}

/** A transport whose answers wait until the test calls the next of `held`. */
function heldTransport() {
  const held: Array<() => void> = [];
  const sent: PeerRequest[] = [];
  const respond = (req: PeerRequest): Promise<PeerReply> => {
    sent.push(req);
    return new Promise((resolve) => held.push(() => resolve(echo(req))));
  };
  return {held, sent, transport: {request: (_peer: string, req: PeerRequest) => respond(req), requestRaw: (_peer: string, bytes: Uint8Array) => respond(decodePeerRequest(bytes))}};
}
