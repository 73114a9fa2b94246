/**
 * The relay service with a stand-in hop layer (JSON instead of encryption): Session's statuses and
 * bodies, limits, timeouts, counters and who is charged to the token bucket.
 */
import {describe, expect, it} from "vitest";
import {OnionRelay, type ForwardResult, type OnionRelayModules, type OpenedLayer, type RelayCheck} from "../../../src/onion-relay/index.js";

const NEXT = "ab".repeat(32);
const STRANGER = "cd".repeat(32);
const enc = (o: unknown): Uint8Array => Buffer.from(JSON.stringify(o));
const refusal = (code: string, body: string, encryptReply?: (status: number, body: unknown) => string): Error =>
  Object.assign(new Error(body), {code, status: 400, body, encryptReply});

/**
 * Blob = JSON: {relay: nodeId, hop} or {final: rpcBody, hop}; "garbage" fails parsing, {bad: 1}
 * decryption, {junk: 1} decrypts to a malformed layer. Refusals are shaped like the layer module's OnionError.
 */
const layers: OnionRelayModules["layers"] = {
  parseEntryBlob(blob) {
    try {
      return JSON.parse(Buffer.from(blob).toString()) as Record<string, unknown>;
    } catch {
      throw refusal("ONION_ERROR_PARSE", "Error parsing onion request: no JSON control");
    }
  },
  openLayer(entry): OpenedLayer {
    const e = entry as {relay?: string; final?: string; hop?: number};
    const hopNo = e.hop ?? 1;
    if (typeof e.relay === "string") return {kind: "relay", destination: e.relay, nextBlob: enc({final: "{}"}), hopNo};
    if (typeof e.final === "string") {
      return {kind: "final", rpcBody: Buffer.from(e.final), hopNo, encryptResponse: (status, body) => `sealed:${JSON.stringify({status, body})}`};
    }
    if ("junk" in e) throw refusal("ONION_ERROR_INVALID_LAYER", "Invalid json", (status, body) => `sealed:${JSON.stringify({status, body})}`);
    if (hopNo > 15) throw refusal("ONION_ERROR_MAX_HOPS", "onion request max path length exceeded");
    throw refusal("ONION_ERROR_DECRYPT", "Invalid ciphertext");
  },
};

interface Fixture {
  relay: OnionRelay;
  forwarded: string[];
  charged: string[];
  dispatched: string[];
}

function fixture(over: Partial<OnionRelayModules> & {check?: RelayCheck; forwardResult?: () => Promise<ForwardResult>; maxConcurrentRelays?: number} = {}): Fixture {
  const forwarded: string[] = [];
  const charged: string[] = [];
  const dispatched: string[] = [];
  const relay = new OnionRelay(
    {relayTimeoutMs: 100, maxConcurrentRelays: over.maxConcurrentRelays ?? 8, maxResponseBytes: 1024},
    {
      layers,
      forward: async (nodeId) => {
        forwarded.push(nodeId);
        return over.forwardResult === undefined ? {kind: "response", status: 200, body: Buffer.from("next hop's answer"), contentType: "text/plain"} : over.forwardResult();
      },
      dispatch: (body) => {
        dispatched.push(Buffer.from(body).toString());
        return Promise.resolve({status: 200, body: {ok: true}});
      },
      auth: {check: () => over.check ?? {kind: "client"}, headers: () => Promise.resolve({})},
      isMember: (id) => id === NEXT,
      admit: (ip) => {
        charged.push(ip);
        return ip === "10.0.0.9" ? {status: 429, body: "Too Many Requests\n"} : null;
      },
      logger: {debug() {}, error() {}},
      ...over,
    },
  );
  return {relay, forwarded, charged, dispatched};
}

const req = (body: unknown, ip = "10.0.0.1"): {blob: Uint8Array; ip: string; headers: object} => ({
  blob: typeof body === "string" ? Buffer.from(body) : enc(body),
  ip,
  headers: {},
});

describe("OnionRelay", () => {
  it("relays to a member and returns the next hop's status and body unchanged", async () => {
    const f = fixture({forwardResult: () => Promise.resolve({kind: "response", status: 421, body: Buffer.from("moved"), contentType: "application/json"})});
    expect(await f.relay.handle(req({relay: NEXT}))).toEqual({status: 421, body: Buffer.from("moved"), contentType: "application/json"});
    expect(f.forwarded).toEqual([NEXT]);
    expect(f.relay.counters.snapshot()).toMatchObject({entered: 1, fromClients: 1, relayed: 1, final: 0, failed: {}});
  });

  it("a next hop outside the membership gets 502 and is never contacted", async () => {
    const f = fixture();
    expect(await f.relay.handle(req({relay: STRANGER}))).toEqual({status: 502, body: `Next node not found: ${STRANGER}`});
    expect(f.forwarded).toEqual([]);
    expect(f.relay.counters.snapshot().failed).toEqual({unknown_next_hop: 1});
  });

  it("answers Session's plain 400s for a malformed blob, an undecryptable layer and too many hops; a bad decrypted layer sealed", async () => {
    const f = fixture();
    expect(await f.relay.handle(req("garbage"))).toEqual({status: 400, body: "Error parsing onion request: no JSON control"});
    expect(await f.relay.handle(req({bad: 1}))).toEqual({status: 400, body: "Invalid ciphertext"});
    expect(await f.relay.handle(req({hop: 16}))).toEqual({status: 400, body: "onion request max path length exceeded"});
    expect(await f.relay.handle(req({junk: 1}))).toEqual({status: 200, body: `sealed:${JSON.stringify({status: 400, body: "Invalid json"})}`});
    expect(f.relay.counters.snapshot().failed).toEqual({parse_error: 1, invalid_ciphertext: 1, max_hops: 1, invalid_layer: 1});
    expect(f.forwarded).toEqual([]);
  });

  it("a next hop that does not answer in time gets 504 Request time out, and the slot is freed", async () => {
    const f = fixture({forwardResult: () => new Promise<ForwardResult>(() => {})});
    expect(await f.relay.handle(req({relay: NEXT}))).toEqual({status: 504, body: "Request time out"});
    expect(f.relay.counters.snapshot()).toMatchObject({inFlightRelays: 0, failed: {timeout: 1}});
  });

  it("maps unreachable and oversized answers to 502", async () => {
    let result: ForwardResult = {kind: "unreachable", reason: "ECONNREFUSED"};
    const f = fixture({forwardResult: () => Promise.resolve(result)});
    expect(await f.relay.handle(req({relay: NEXT}))).toEqual({status: 502, body: `Next node unreachable: ${NEXT}`});
    result = {kind: "too_large"};
    expect(await f.relay.handle(req({relay: NEXT}))).toEqual({status: 502, body: "Invalid response from snode: too large"});
    expect(f.relay.counters.snapshot().failed).toEqual({unreachable: 1, response_too_large: 1});
  });

  it("past maxConcurrentRelays answers 503 without forwarding", async () => {
    const pending: Array<(r: ForwardResult) => void> = [];
    const f = fixture({maxConcurrentRelays: 2, forwardResult: () => new Promise<ForwardResult>((resolve) => pending.push(resolve))});
    const first = [f.relay.handle(req({relay: NEXT})), f.relay.handle(req({relay: NEXT}))];
    await expect.poll(() => pending.length).toBe(2);
    expect(await f.relay.handle(req({relay: NEXT}))).toEqual({status: 503, body: "Node busy: too many onion relays in flight, retry later\n"});
    for (const resolve of pending) resolve({kind: "response", status: 200, body: Buffer.from("x"), contentType: null});
    expect((await Promise.all(first)).map((r) => r.status)).toEqual([200, 200]);
    expect(f.relay.counters.snapshot()).toMatchObject({relayed: 2, inFlightRelays: 0, failed: {busy: 1}});
  });

  it("the final hop runs the RPC body and answers 200 with the sealed {status, body}", async () => {
    const f = fixture();
    const body = JSON.stringify({method: "info", params: {}});
    expect(await f.relay.handle(req({final: body}))).toEqual({status: 200, body: `sealed:${JSON.stringify({status: 200, body: {ok: true}})}`});
    expect(f.dispatched).toEqual([body]);
    expect(f.relay.counters.snapshot()).toMatchObject({final: 1, relayed: 0});
  });

  it("a final-hop RPC that does not finish in time is answered with a sealed 504", async () => {
    const f = fixture({dispatch: () => new Promise(() => {})});
    expect(await f.relay.handle(req({final: "{}"}))).toEqual({status: 200, body: `sealed:${JSON.stringify({status: 504, body: "Request time out"})}`});
  });

  it("charges clients at the entry hop (429 past the bucket) but never an authenticated relay", async () => {
    const client = fixture();
    expect(await client.relay.handle(req({final: "{}"}, "10.0.0.9"))).toEqual({status: 429, body: "Too Many Requests\n"});
    expect(client.dispatched).toEqual([]);
    expect(client.charged).toEqual(["10.0.0.9"]);

    const relayed = fixture({check: {kind: "relay", from: NEXT}});
    expect((await relayed.relay.handle(req({final: "{}"}, "10.0.0.9"))).status).toBe(200);
    expect(relayed.charged).toEqual([]);
    expect(relayed.relay.counters.snapshot()).toMatchObject({entered: 1, fromClients: 0, final: 1});
  });

  it("a relay header that does not verify is refused with 403 and charged like a client", async () => {
    const f = fixture({check: {kind: "invalid", reason: "bad relay signature"}});
    expect(await f.relay.handle(req({final: "{}"}))).toEqual({status: 403, body: "Invalid relay authentication: bad relay signature"});
    expect(f.charged).toEqual(["10.0.0.1"]);
    expect(f.dispatched).toEqual([]);
  });

  it("a node that is not ready refuses clients with the pipeline's plain 503", async () => {
    const f = fixture({admit: () => ({status: 503, body: "Service node is not ready: not in any swarm\n"})});
    expect(await f.relay.handle(req({final: "{}"}))).toEqual({status: 503, body: "Service node is not ready: not in any swarm\n"});
    expect(f.relay.counters.snapshot().failed).toEqual({not_ready: 1});
  });
});
