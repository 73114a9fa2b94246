import {createServer, type Server} from "node:http";
import type {AddressInfo} from "node:net";
import {afterEach, describe, expect, it} from "vitest";
import {RegistrySource} from "../../../src/swarm/membership/registry-source.js";
import type {MembershipDocument} from "../../../src/swarm/membership/source.js";
import {FakeClock} from "../../../src/util/clock.js";
import {silentLogger} from "../../utils/logger.js";

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

type Handler = (send: (status: number, body: string, headers?: Record<string, string>) => void) => void;

async function registry(handler: Handler): Promise<{url: string; hits: () => number}> {
  let hits = 0;
  const server: Server = createServer((_req, res) => {
    hits++;
    handler((status, body, headers = {}) => res.writeHead(status, headers).end(body));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  cleanup.push(
    () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  );
  return {url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/doc`, hits: () => hits};
}

function source(url: string, opts: {maxBytes?: number; requestTimeoutMs?: number; pollIntervalMs?: number; clock?: FakeClock} = {}) {
  const options = {url, pollIntervalMs: opts.pollIntervalMs ?? 100, requestTimeoutMs: opts.requestTimeoutMs ?? 1_000, maxBytes: opts.maxBytes};
  const s = new RegistrySource(options, {logger: silentLogger, ...(opts.clock === undefined ? {} : {clock: opts.clock})});
  const docs: MembershipDocument[] = [];
  const failures: string[] = [];
  s.on("document", (d) => void docs.push(d));
  s.on("failure", (f) => void failures.push(f.reason));
  cleanup.push(() => s.close());
  return {s, docs, failures};
}

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("RegistrySource", () => {
  it("emits a document once and not again while it is unchanged", async () => {
    const reg = await registry((send) => send(200, '{"version":1}'));
    const clock = new FakeClock();
    const {s, docs} = source(reg.url, {clock});
    s.start();
    for (let hits = 1; hits <= 3; hits++) {
      await clock.advance(hits === 1 ? 0 : 100);
      await until(() => reg.hits() === hits && clock.pending === 1); // polled, and the next one armed
    }
    expect(docs).toEqual([{text: '{"version":1}', origin: reg.url}]);
  });

  it("reports error statuses, oversized bodies and timeouts as failures", async () => {
    const big = await registry((send) => send(200, "x".repeat(5_000)));
    const tooBig = source(big.url, {maxBytes: 1_000});
    const down = await registry((send) => send(503, "down"));
    const failing = source(down.url);
    const silentReg = await registry(() => undefined);
    const slow = source(silentReg.url, {requestTimeoutMs: 100});
    for (const x of [tooBig, failing, slow]) x.s.start();
    await until(() => tooBig.failures.length > 0 && failing.failures.length > 0 && slow.failures.length > 0);
    expect(tooBig.failures[0]).toMatch(/exceeds 1000/);
    expect(failing.failures[0]).toBe("HTTP 503 from the registry");
    expect(slow.failures[0]).toBe("no complete answer within 100 ms");
    expect([tooBig, failing, slow].every((x) => x.docs.length === 0)).toBe(true);
  });

  it("retries a failing registry after 1 s, 2 s, 4 s, … capped at the poll interval, which it keeps once it answers", async () => {
    let up = false;
    const reg = await registry((send) => (up ? send(200, "{}") : send(500, "")));
    const clock = new FakeClock();
    const {s, docs, failures} = source(reg.url, {pollIntervalMs: 10_000, clock});
    s.start();
    const polled = async (n: number): Promise<void> => {
      await until(() => reg.hits() === n && failures.length + docs.length === n && clock.pending === 1);
    };
    await clock.advance(0);
    await polled(1);
    for (const [wait, hits] of [[1_000, 2], [2_000, 3], [4_000, 4], [8_000, 5], [10_000, 6], [10_000, 7]] as const) {
      await clock.advance(wait - 1);
      expect(reg.hits(), `${wait - 1} ms after poll ${hits - 1}`).toBe(hits - 1); // never early
      if (hits === 7) up = true;
      await clock.advance(1);
      await polled(hits);
    }
    expect(docs).toHaveLength(1);
    await clock.advance(9_999); // a success: the next poll a whole interval later
    expect(reg.hits()).toBe(7);
    await clock.advance(1);
    await until(() => reg.hits() === 8);
  });

  it("rejects a non-http URL", () => {
    expect(() => new RegistrySource({url: "ftp://x/y", pollIntervalMs: 10, requestTimeoutMs: 10}, {logger: silentLogger})).toThrow(/http/);
  });
});
