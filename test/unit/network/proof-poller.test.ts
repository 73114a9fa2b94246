import {createServer, type Server, type ServerResponse} from "node:http";
import type {AddressInfo} from "node:net";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {latestProofFetcher} from "../../../src/network/proof-fetch.js";
import {ProofPoller, type PollTarget} from "../../../src/network/proof-poller.js";
import type {OfferResult} from "../../../src/network/proof-view.js";
import {PeerClient, type PeerAddress} from "../../../src/peer/index.js";
import {FakeClock} from "../../../src/util/clock.js";
import {silent} from "./helpers.js";

const targets: PollTarget[] = Array.from({length: 10}, (_, i) => ({nodeId: `n${i}`}));
const opts = {pollIntervalMs: 60_000, requestTimeoutMs: 1_000, concurrency: 3};

function poller(
  fetch: (nodeId: string, deadlineMs: number, signal: AbortSignal) => Promise<unknown>,
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
    expect(seen.sort()).toEqual(targets.map((t) => t.nodeId).sort());
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
      if (url === targets[0]!.nodeId) rounds++;
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

describe("latestProofFetcher (through a PeerClient)", () => {
  const servers: Server[] = [];
  const directory = new Map<string, PeerAddress>();
  const peers = new PeerClient({retry: {maxAttempts: 1, baseDelayMs: 1, factor: 1, maxDelayMs: 1, maxRetryAfterMs: 0}}, {directory: {addressOf: (id) => directory.get(id) ?? null}});
  const fetch = latestProofFetcher(peers);
  /** One node per behaviour of GET /proof/v1/latest, named by it. */
  const behaviours: Record<string, (res: ServerResponse) => void> = {
    ok: (res) => res.writeHead(200, {"content-type": "application/json"}).end('{"nodeId":"aa"}'),
    busy: (res) => res.writeHead(503).end("no proof"),
    big: (res) => res.writeHead(200).end("x".repeat(100_000)),
    text: (res) => res.writeHead(200).end("not json"),
    hang: () => undefined,
  };
  beforeAll(async () => {
    for (const [name, answer] of Object.entries(behaviours)) {
      const server = createServer((req, res) => (req.url === "/proof/v1/latest" && req.method === "GET" ? answer(res) : res.writeHead(404).end()));
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      servers.push(server);
      directory.set(name, {nodeId: name, host: "127.0.0.1", port: (server.address() as AddressInfo).port});
    }
  });
  afterAll(async () => {
    await peers.close();
    for (const server of servers) {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
  const signal = new AbortController().signal;

  it("returns the parsed proof body", async () => {
    expect(await fetch("ok", 1_000, signal)).toEqual({nodeId: "aa"});
  });

  it("rejects error statuses, oversized and non-JSON answers, unknown nodes, and slow nodes within the deadline", async () => {
    await expect(fetch("busy", 1_000, signal)).rejects.toMatchObject({code: "PROOF_ERROR_TRANSPORT", message: "HTTP 503"});
    await expect(fetch("big", 1_000, signal)).rejects.toMatchObject({code: "PROOF_ERROR_TRANSPORT", cause: {code: "PEER_CLIENT_ERROR_RESPONSE_TOO_LARGE"}});
    await expect(fetch("text", 1_000, signal)).rejects.toMatchObject({message: "answer is not JSON"});
    await expect(fetch("nobody", 1_000, signal)).rejects.toMatchObject({code: "PROOF_ERROR_TRANSPORT", cause: {code: "PEER_CLIENT_ERROR_UNKNOWN_PEER"}});
    const started = Date.now();
    await expect(fetch("hang", 200, signal)).rejects.toMatchObject({cause: {code: "PEER_CLIENT_ERROR_TIMEOUT"}});
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
