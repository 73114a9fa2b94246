import {createHash} from "node:crypto";
import {describe, expect, it} from "vitest";
import {ClientError, TransportFailure, type NodeInfo} from "../../../src/client/index.js";
import {OnionTransport} from "../../../src/client/onion-transport.js";
import {nobleBackend, x25519KeyPair} from "../../../src/crypto/index.js";
import {openLayer, parseEntryBlob, type OnionSecretKeys} from "../../../src/onion/index.js";
import {ManualClock} from "../../../src/util/clock.js";

/**
 * The onion transport against hops simulated with the node side of src/onion (parseEntryBlob +
 * openLayer with each hop's secret keys): what a path looks like, that the request arrives
 * intact at the target and its answer comes back, rotation, and failure handling.
 */
interface Hop {
  info: NodeInfo;
  secret: OnionSecretKeys;
}

function hop(i: number, swarm: string): Hop {
  const nodeId = createHash("sha256").update(`hop ${i}`).digest("hex");
  const kem = nobleBackend.mlKem768.keygen(new Uint8Array(64).fill(i + 1));
  const x = x25519KeyPair(new Uint8Array(32).fill(i + 1));
  const info: NodeInfo = {
    nodeId,
    url: `http://hop${i}.test`,
    swarm,
    mlDsaPublicKey: new Uint8Array(1952),
    mlKemPublicKey: kem.publicKey,
    x25519PublicKey: x.publicKey,
  };
  return {info, secret: {nodeId, x25519Secret: x.secretKey, mlKemSecret: kem.secretKey}};
}

const hops = [hop(0, "0"), hop(1, "0"), hop(2, "0"), hop(3, "1"), hop(4, "1"), hop(5, "1")];
const byUrl = new Map(hops.map((h) => [h.info.url, h]));
const byId = new Map(hops.map((h) => [h.info.nodeId, h]));

interface Sim {
  seen: string[][];
  rpc: unknown[];
  /** Makes the hop with this ID answer as if its next hop were unknown. */
  brokenRelay?: string;
  /** Entry URLs that refuse connections. */
  down?: Set<string>;
}

/** Relays the blob hop by hop; the last hop answers the RPC with `{echo: method}`. */
function simulatedHttp(sim: Sim) {
  return {
    post(url: string, body: string | Uint8Array): Promise<{status: number; headers: Record<string, string>; text: string}> {
      const route: string[] = [];
      if (sim.down?.has(url.replace("/onion_req/v2", "")) === true) return Promise.reject(new Error("connect ECONNREFUSED"));
      let current = byUrl.get(url.replace("/onion_req/v2", ""));
      let blob = body as Uint8Array;
      for (;;) {
        if (current === undefined) return Promise.resolve({status: 502, headers: {}, text: "Next node not found"});
        route.push(current.info.nodeId);
        const layer = openLayer(current.secret, parseEntryBlob(blob));
        if (layer.kind === "final") {
          const req = JSON.parse(Buffer.from(layer.rpcBody).toString()) as {method: string};
          sim.rpc.push(req);
          sim.seen.push(route);
          return Promise.resolve({status: 200, headers: {}, text: String(layer.encryptResponse(200, {echo: req.method}))});
        }
        if (current.info.nodeId === sim.brokenRelay) return Promise.resolve({status: 502, headers: {}, text: `Next node not found: ${layer.destination}`});
        blob = layer.nextBlob;
        current = byId.get(layer.destination);
        // A relay that cannot reach its next hop answers 504, as the node does.
        if (current !== undefined && sim.down?.has(current.info.url) === true) return Promise.resolve({status: 504, headers: {}, text: "Request time out"});
      }
    },
  };
}

function transport(sim: Sim, clock = new ManualClock(1_000), rotateAfterMs = 60_000) {
  const failures: number[] = [];
  const t = new OnionTransport(
    {relays: 2, rotateAfterMs, suspectForMs: 60_000},
    {
      http: simulatedHttp(sim),
      directory: {nodes: hops.map((h) => h.info), reportFailure: () => void failures.push(1)},
      clock,
      mlKem: nobleBackend.mlKem768,
      random: Math.random,
    },
  );
  return {t, failures, clock};
}

describe("OnionTransport", () => {
  it("carries the request through two relays outside the target's swarm and decrypts the member's answer", async () => {
    const sim: Sim = {seen: [], rpc: []};
    const {t} = transport(sim);
    const target = hops[0]!.info;
    const answer = await t.send(target, {method: "retrieve", params: {pubkey: "05ab"}});
    expect(answer).toEqual({status: 200, body: {echo: "retrieve"}});
    expect(sim.rpc).toEqual([{method: "retrieve", params: {pubkey: "05ab"}}]);
    const route = sim.seen[0]!;
    expect(route).toHaveLength(3);
    expect(new Set(route).size).toBe(3);
    expect(route[2]).toBe(target.nodeId);
    // Three nodes of swarm "1" can relay, so neither relay is in the target's swarm "0".
    for (const id of route.slice(0, 2)) expect(byId.get(id)?.info.swarm).toBe("1");
  });

  it("keeps its relay pair until it is due for rotation, then builds a new one", async () => {
    const sim: Sim = {seen: [], rpc: []};
    const {t, clock} = transport(sim, new ManualClock(1_000), 60_000);
    const pairs = new Set<string>();
    for (let i = 0; i < 4; i++) {
      await t.send(hops[1]!.info, {method: "info", params: {}});
      pairs.add(sim.seen.at(-1)!.slice(0, 2).join());
    }
    expect(pairs.size).toBe(1);
    const before = t.pathTo(hops[1]!.info).slice(0, 2);
    clock.advance(60_000);
    let rotated = false;
    // A rotation draws a new random pair; with 3 candidates it may repeat, so look a few times.
    for (let i = 0; i < 20 && !rotated; i++) {
      clock.advance(60_000);
      rotated = t.pathTo(hops[1]!.info).slice(0, 2).map((n) => n.nodeId).join() !== before.map((n) => n.nodeId).join();
    }
    expect(rotated).toBe(true);
  });

  it("a relay refusing the path is a transport failure: the pair is dropped and the directory told", async () => {
    const sim: Sim = {seen: [], rpc: []};
    const {t, failures} = transport(sim);
    const target = hops[2]!.info;
    const first = t.pathTo(target);
    sim.brokenRelay = first[0]!.nodeId;
    await expect(t.send(target, {method: "info", params: {}})).rejects.toBeInstanceOf(TransportFailure);
    expect(failures).toHaveLength(1);
    expect(sim.rpc).toEqual([]);
    sim.brokenRelay = undefined;
    await t.send(target, {method: "info", params: {}});
    expect(sim.rpc).toHaveLength(1);
  });

  it("relays of a failed path are avoided for a while: a dead relay costs a request or two, not one in two", async () => {
    const sim: Sim = {seen: [], rpc: [], down: new Set([hops[3]!.info.url])};
    const {t, clock} = transport(sim);
    const target = hops[0]!.info;
    let failures = 0;
    for (let i = 0; i < 12; i++) {
      t.rotate(); // a fresh random pair each time: without the suspect list, 2 in 3 would go through the dead node
      await t.send(target, {method: "info", params: {}}).catch(() => failures++);
    }
    // The first failure may blame an honest relay along with the dead one; a second is possible.
    expect(failures).toBeLessThanOrEqual(2);
    for (const route of sim.seen) expect(route).not.toContain(hops[3]!.info.nodeId);
    // Once the suspicion expires the node may be picked again.
    clock.advance(60_001);
    const picked = new Set<string>();
    for (let i = 0; i < 30; i++) {
      t.rotate();
      for (const n of t.pathTo(target).slice(0, 2)) picked.add(n.nodeId);
    }
    expect(picked.has(hops[3]!.info.nodeId)).toBe(true);
  });

  it("an entry without the onion route is an explicit error, not a silent fallback to direct", async () => {
    const t = new OnionTransport(
      {relays: 2, rotateAfterMs: 60_000, suspectForMs: 60_000},
      {
        http: {post: () => Promise.resolve({status: 404, headers: {}, text: "POST /onion_req/v2 Not Found"})},
        directory: {nodes: hops.map((h) => h.info), reportFailure: () => undefined},
        clock: new ManualClock(0),
        mlKem: nobleBackend.mlKem768,
        random: Math.random,
      },
    );
    await expect(t.send(hops[0]!.info, {method: "info", params: {}})).rejects.toBeInstanceOf(ClientError);
  });

  it("refuses a path when too few nodes can relay", async () => {
    const t = new OnionTransport(
      {relays: 2, rotateAfterMs: 60_000, suspectForMs: 60_000},
      {
        http: simulatedHttp({seen: [], rpc: []}),
        directory: {nodes: [hops[0]!.info, {...hops[1]!.info, x25519PublicKey: undefined}, hops[2]!.info], reportFailure: () => undefined},
        clock: new ManualClock(0),
        mlKem: nobleBackend.mlKem768,
        random: Math.random,
      },
    );
    await expect(t.send(hops[0]!.info, {method: "info", params: {}})).rejects.toMatchObject({code: "CLIENT_ERROR_NO_NODES"});
  });
  it("reaches an https entry hop with the pin of its node-list entry", async () => {
    const sim: Sim = {seen: [], rpc: []};
    const pinOf = (h: (typeof hops)[number]): string => createHash("sha256").update(`pin ${h.info.nodeId}`).digest("hex");
    const tlsHops = hops.map((h) => ({...h.info, url: h.info.url.replace("http:", "https:"), tlsPin: pinOf(h)}));
    const posts: Array<{url: string; pin: string | undefined}> = [];
    const sim2 = simulatedHttp(sim);
    const t = new OnionTransport(
      {relays: 2, rotateAfterMs: 60_000, suspectForMs: 60_000},
      {
        http: {
          post: (url: string, body: string | Uint8Array, _type?: string, pin?: string) => {
            posts.push({url, pin});
            return sim2.post(url.replace("https:", "http:"), body);
          },
        },
        directory: {nodes: tlsHops, reportFailure: () => undefined},
        clock: new ManualClock(1_000),
        mlKem: nobleBackend.mlKem768,
        random: Math.random,
      },
    );
    expect(await t.send(tlsHops[0]!, {method: "info", params: {}})).toEqual({status: 200, body: {echo: "info"}});
    const entry = byId.get(sim.seen[0]![0]!)!;
    expect(posts).toEqual([{url: `${entry.info.url.replace("http:", "https:")}/onion_req/v2`, pin: pinOf(entry)}]);
  });
});
