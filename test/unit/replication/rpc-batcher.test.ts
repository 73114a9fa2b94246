import {describe, expect, it} from "vitest";
import {MAX_BATCHES_IN_FLIGHT, RpcBatcher} from "../../../src/replication/rpc-batcher.js";
import {defaultReplicationOptions} from "../../../src/replication/options.js";
import {MAX_RPC_BATCH, decodePeerRequest, type PeerReply, type PeerRequest} from "../../../src/replication/wire.js";

const P = "44".repeat(32);

function setup(answer: (req: PeerRequest) => PeerReply | Error, maxBytes = 1 << 20) {
  const sent: PeerRequest[] = [];
  const respond = (req: PeerRequest): Promise<PeerReply> => {
    sent.push(req);
    const r = answer(req);
    return r instanceof Error ? Promise.reject(r) : Promise.resolve(r);
  };
  const batcher = new RpcBatcher(maxBytes, {
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

  it("splits at MAX_RPC_BATCH calls and at maxBatchBytes", async () => {
    const {batcher, sent} = setup(echo, 200);
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
    const held: Array<() => void> = [];
    const sent: PeerRequest[] = [];
    const respond = (req: PeerRequest): Promise<PeerReply> => {
      sent.push(req);
      return new Promise((resolve) => held.push(() => resolve(echo(req))));
    };
    const batcher = new RpcBatcher(
      1 << 20,
      {transport: {request: (_peer, req) => respond(req), requestRaw: (_peer, bytes) => respond(decodePeerRequest(bytes))}},
      inFlight,
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
    const held: Array<() => void> = [];
    const sent: PeerRequest[] = [];
    const respond = (req: PeerRequest): Promise<PeerReply> => {
      sent.push(req);
      return new Promise((resolve) => held.push(() => resolve(echo(req))));
    };
    const transport = {request: (_peer: string, req: PeerRequest) => respond(req), requestRaw: (_peer: string, bytes: Uint8Array) => respond(decodePeerRequest(bytes))};
    expect(MAX_BATCHES_IN_FLIGHT, "the constructor's default is the setting's").toBe(defaultReplicationOptions.forwardBatchesInFlight);
    expect(MAX_BATCHES_IN_FLIGHT).toBe(1);
    const batcher = new RpcBatcher(1 << 20, {transport});
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
});
