import {createServer, type Server} from "node:http";
import type {AddressInfo} from "node:net";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {fetchLatestProof} from "../../../src/network/proof-fetch.js";
import {ProofPoller, type PollTarget} from "../../../src/network/proof-poller.js";
import type {OfferResult} from "../../../src/network/proof-view.js";
import {FakeClock} from "../../../src/util/clock.js";
import {silent} from "./helpers.js";

const targets: PollTarget[] = Array.from({length: 10}, (_, i) => ({nodeId: `n${i}`, url: `http://node${i}`}));
const opts = {pollIntervalMs: 60_000, requestTimeoutMs: 1_000, concurrency: 3};

function poller(
  fetch: (url: string, deadlineMs: number, signal: AbortSignal) => Promise<unknown>,
  offer: (id: string, body: unknown) => OfferResult = () => ({kind: "accepted"}),
  clock = new FakeClock(),
) {
  const warnings: Array<Record<string, unknown>> = [];
  const logger = {...silent, warn: (obj: object) => void warnings.push(obj as Record<string, unknown>)};
  return {p: new ProofPoller(opts, {targets: () => targets, fetch, offer, logger, random: () => 0.5, clock}), warnings, clock};
}

const tick = (ms = 5): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("ProofPoller", () => {
  it("polls every target with at most `concurrency` fetches in flight", async () => {
    let inFlight = 0;
    let most = 0;
    const seen: string[] = [];
    const {p} = poller(async (url) => {
      inFlight++;
      most = Math.max(most, inFlight);
      await tick();
      inFlight--;
      seen.push(url);
      return {};
    });
    const stats = await p.round();
    expect(stats).toEqual({polled: 10, accepted: 10, kept: 0, rejected: 0, failed: 0});
    expect(most).toBe(3);
    expect(seen.sort()).toEqual(targets.map((t) => t.url).sort());
  });

  it("counts failed fetches and rejected proofs without throwing, warning once per node and reason", async () => {
    const {p, warnings} = poller(
      (url) => (url.endsWith("1") ? Promise.reject(new Error("connection refused")) : Promise.resolve({url})),
      (id) => (id === "n2" ? {kind: "rejected", reason: "bad signature"} : id === "n3" ? {kind: "kept"} : {kind: "accepted"}),
    );
    expect(await p.round()).toEqual({polled: 10, accepted: 7, kept: 1, rejected: 1, failed: 1});
    await p.round();
    expect(warnings).toEqual([{node: "n2", reason: "bad signature"}]);
  });

  it("runs another round after the current one when poked during it, and stops on close", async () => {
    let fetches = 0;
    const {p, clock} = poller(async () => {
      fetches++;
      await tick(1);
      return {};
    });
    p.start();
    await tick(1);
    p.poke();
    p.poke(); // pokes during a round coalesce into one more round
    await expect.poll(() => fetches, {timeout: 2_000}).toBe(20);
    await expect.poll(() => clock.pending).toBe(1); // the next round, an interval away
    await p.close();
    expect(clock.pending).toBe(0);
    await clock.advance(10 * opts.pollIntervalMs);
    expect(fetches).toBe(20);
  });

  it("after a round with failures polls again sooner, doubling the delay up to the interval", async () => {
    let down = true;
    let rounds = 0;
    const {p, clock} = poller((url) => {
      if (url === targets[0]!.url) rounds++;
      return down && url.endsWith("7") ? Promise.reject(new Error("HTTP 503")) : Promise.resolve({});
    });
    p.start();
    await clock.advance(1);
    expect(rounds).toBe(1);
    // Catch-up rounds at 5, 10, 20, 40 s after each other, then the 60 s interval (random 0.5: no jitter).
    for (const [after, expected] of [[4_998, 1], [1, 2], [9_999, 2], [1, 3], [20_000, 4], [40_000, 5], [59_999, 5], [1, 6], [60_000, 7]] as const) {
      await clock.advance(after);
      expect(rounds, `after +${after} ms`).toBe(expected);
    }
    // Once a round has no failure the next is a whole interval away, and a new failure starts over at 5 s.
    down = false;
    await clock.advance(60_000);
    expect(rounds).toBe(8);
    await clock.advance(59_999);
    expect(rounds).toBe(8);
    down = true;
    await clock.advance(1);
    expect(rounds).toBe(9);
    await clock.advance(5_000);
    expect(rounds).toBe(10);
    await p.close();
  });

  it("close aborts fetches in flight", async () => {
    const {p} = poller((_url, _deadline, signal) => new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(new Error("aborted")))));
    const round = p.round();
    await tick();
    await p.close();
    expect(await round).toMatchObject({polled: 3, failed: 3});
  });
});

describe("fetchLatestProof", () => {
  let server: Server;
  let base = "";
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === "/ok/proof/v1/latest") res.writeHead(200, {"content-type": "application/json"}).end('{"nodeId":"aa"}');
      else if (req.url === "/busy/proof/v1/latest") res.writeHead(503).end("no proof");
      else if (req.url === "/big/proof/v1/latest") res.writeHead(200).end("x".repeat(100_000));
      else if (req.url === "/text/proof/v1/latest") res.writeHead(200).end("not json");
      // "/hang": never answers
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  const signal = new AbortController().signal;

  it("returns the parsed proof body", async () => {
    expect(await fetchLatestProof(`${base}/ok`, 1_000, signal)).toEqual({nodeId: "aa"});
  });

  it("rejects error statuses, oversized and non-JSON answers, and slow nodes within the deadline", async () => {
    await expect(fetchLatestProof(`${base}/busy`, 1_000, signal)).rejects.toMatchObject({code: "PROOF_ERROR_TRANSPORT", message: "HTTP 503"});
    await expect(fetchLatestProof(`${base}/big`, 1_000, signal)).rejects.toMatchObject({code: "PROOF_ERROR_TRANSPORT"});
    await expect(fetchLatestProof(`${base}/text`, 1_000, signal)).rejects.toMatchObject({message: "answer is not JSON"});
    const started = Date.now();
    await expect(fetchLatestProof(`${base}/hang`, 200, signal)).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
