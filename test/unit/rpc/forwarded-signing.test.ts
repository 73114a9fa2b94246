/**
 * A request forwarded by a swarm peer (`recurse: false`) has its receipt signed once its commit has
 * settled, without waiting out `signing.maxBatchDelayMs`; a client's request waits for the window
 * as before (docs/PROTOCOL.md, Response signatures step 2).
 */
import {afterEach, describe, expect, it} from "vitest";
import {sessionAccount} from "../../utils/keys.js";
import {rpcHarness, type RpcHarness} from "../../utils/rpc-harness.js";

/** Long enough that an answer inside a test's few milliseconds cannot have waited it out. */
const WINDOW_MS = 60_000;

let h: RpcHarness;
let closed = false;
afterEach(async () => {
  if (!closed) await h.close();
  closed = false;
});

const acc = sessionAccount();
const store = (data: string): Record<string, unknown> => ({pubkey: acc.hex, timestamp: h.clock.now(), ttl: 86_400_000, data: Buffer.from(data).toString("base64")});

/** Whether `p` settles within a few loop iterations (well before any window). */
async function settlesSoon(p: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void p.finally(() => (settled = true));
  await new Promise((r) => setTimeout(r, 50));
  return settled;
}

describe("signing of forwarded requests", () => {
  it("answers a frame's forwarded stores without the signing window, in one batch", async () => {
    h = await rpcHarness({signingDelayMs: WINDOW_MS});
    const answers = ["a", "b", "c"].map((d) => h.handler.handle("store", store(d), {recurse: false}));
    expect(await settlesSoon(Promise.all(answers))).toBe(true);
    const entries = (await Promise.all(answers)).map((r) => r.body as Record<string, unknown>);
    expect(entries.map((e) => typeof e.signature)).toEqual(["string", "string", "string"]);
    expect(new Set(entries.map((e) => e.signature)).size).toBe(1);
    expect(h.ctx.signer.stats).toEqual({batches: 1, receipts: 3});
  });

  it("keeps a client's store in the window", async () => {
    h = await rpcHarness({signingDelayMs: WINDOW_MS});
    const answer = h.handler.handle("store", store("client"));
    expect(await settlesSoon(answer)).toBe(false);
    // close() signs what is pending: the answer then arrives, signed.
    closed = true;
    const closing = h.close();
    expect(((await answer).body as {swarm: Record<string, {signature?: string}>}).swarm[h.identity.nodeId]?.signature).toBeTypeOf("string");
    await closing;
  });
});
