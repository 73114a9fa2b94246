import {createServer, type Server} from "node:http";
import type {AddressInfo} from "node:net";
import {afterEach, describe, expect, it} from "vitest";
import {RegistrySource} from "../../../src/swarm/membership/registry-source.js";
import type {MembershipDocument} from "../../../src/swarm/membership/source.js";

const silent = {debug() {}, info() {}, warn() {}, error() {}};
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

function source(url: string, opts: {maxBytes?: number; requestTimeoutMs?: number} = {}) {
  const s = new RegistrySource({url, pollIntervalMs: 100, requestTimeoutMs: opts.requestTimeoutMs ?? 1_000, maxBytes: opts.maxBytes}, {logger: silent});
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
    const {s, docs} = source(reg.url);
    s.start();
    await until(() => reg.hits() >= 3);
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

  it("retries a failing registry with a growing delay capped at the poll interval", async () => {
    const reg = await registry((send) => send(500, ""));
    const {s} = source(reg.url);
    s.start();
    await new Promise((r) => setTimeout(r, 550));
    // poll interval 100 ms caps the 1 s back-off: about 5 attempts, not 1
    expect(reg.hits()).toBeGreaterThanOrEqual(3);
  });

  it("rejects a non-http URL", () => {
    expect(() => new RegistrySource({url: "ftp://x/y", pollIntervalMs: 10, requestTimeoutMs: 10}, {logger: silent})).toThrow(/http/);
  });
});
