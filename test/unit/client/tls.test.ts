import {createPrivateKey, createPublicKey} from "node:crypto";
import https from "node:https";
import type {AddressInfo} from "node:net";
import {generate} from "selfsigned";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {DirectTransport, HttpClient, NodeDirectory, TransportFailure, type NodeInfo} from "../../../src/client/index.js";
import {nodeFromListEntry, nodeFromSnode, seedOrigins} from "../../../src/client/nodes.js";
import {initHashing, nobleBackend, pqKeysHash, spkiSha256OfKey} from "../../../src/crypto/index.js";
import {toHex} from "../../../src/protocol/index.js";
import {ManualClock} from "../../../src/util/clock.js";

/**
 * The client and TLS nodes: an entry carrying `tls.spki_sha256` becomes an https:// node reached
 * only through a connection whose certificate key has that SHA-256 (checked before a request byte
 * is sent), and a seed whose pin is not known yet is believed only if the list it serves carries
 * the pin of the certificate it showed. Against a real HTTPS server with a self-signed certificate.
 */
let keys: {nodeId: string; dsa: Uint8Array; kem: Uint8Array};
let server: https.Server;
let port: number;
let pin: string;
/** Requests the server received (a refused pin must leave this unchanged). */
let received = 0;
/** What the server's node list says its pin is; tests change it. */
let listedPin: string | null;

const entry = (host: string, p: number, tls?: unknown): Record<string, unknown> => ({
  node_id: keys.nodeId,
  host,
  port: p,
  pubkey_mldsa: Buffer.from(keys.dsa).toString("base64"),
  pubkey_mlkem: Buffer.from(keys.kem).toString("base64"),
  ...(tls === undefined ? {} : {tls}),
});

beforeAll(async () => {
  await initHashing();
  const dsa = nobleBackend.mlDsa65.keygen(new Uint8Array(32).fill(9)).publicKey;
  const kem = nobleBackend.mlKem768.keygen(new Uint8Array(64).fill(9)).publicKey;
  keys = {nodeId: toHex(pqKeysHash(kem, dsa)), dsa, kem};
  const pems = await generate([{name: "commonName", value: "127.0.0.1"}], {keyType: "ec", algorithm: "sha256"});
  pin = spkiSha256OfKey(createPublicKey(createPrivateKey(pems.private)));
  server = https.createServer({key: pems.private, cert: pems.cert}, (req, res) => {
    received++;
    if (req.url === "/network/v1/nodes/compact") {
      const body = JSON.stringify({network_id: 7072, mode: "balanced", swarm_count: 1, nodes: [entry("127.0.0.1", port, listedPin === null ? undefined : {spki_sha256: listedPin})]});
      res.writeHead(200, {"content-type": "application/json"}).end(body);
    } else {
      res.writeHead(200, {"content-type": "application/json"}).end(JSON.stringify({ok: true}));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe("node entries with a TLS pin", () => {
  it("a list or snode entry with tls.spki_sha256 gives an https URL and the pin; without it, http and no pin", () => {
    const pinned = nodeFromListEntry(entry("127.0.0.1", 4433, {spki_sha256: "ab".repeat(32)}));
    expect(pinned).toMatchObject({url: "https://127.0.0.1:4433", tlsPin: "ab".repeat(32)});
    const plain = nodeFromListEntry(entry("127.0.0.1", 4433));
    expect(plain?.url).toBe("http://127.0.0.1:4433");
    expect(plain?.tlsPin).toBeUndefined();
    const snode = {...entry("::1", 0, {spki_sha256: "cd".repeat(32)}), ip: "::1", port_https: 4434};
    expect(nodeFromSnode(snode, "0")).toMatchObject({url: "https://[::1]:4434", tlsPin: "cd".repeat(32)});
  });

  it("drops an entry whose pin is malformed rather than reaching it over plain http", () => {
    for (const tls of [{spki_sha256: "AB".repeat(32)}, {spki_sha256: "ab"}, {}, "x"]) {
      expect(nodeFromListEntry(entry("127.0.0.1", 4433, tls)), JSON.stringify(tls)).toBeNull();
    }
  });

  it("pars:// seeds try https then http on the same port", () => {
    expect(seedOrigins("pars://127.0.0.1:9")).toEqual(["https://127.0.0.1:9", "http://127.0.0.1:9"]);
    expect(seedOrigins("pars://example.org")).toEqual(["https://example.org:22025", "http://example.org:22025"]);
    expect(seedOrigins("https://127.0.0.1:9/x")).toEqual(["https://127.0.0.1:9"]);
  });
});

describe("HttpClient to an https node", () => {
  const node = (tlsPin?: string): NodeInfo => ({
    nodeId: keys.nodeId,
    url: `https://127.0.0.1:${port}`,
    swarm: "0",
    mlDsaPublicKey: keys.dsa,
    mlKemPublicKey: keys.kem,
    ...(tlsPin === undefined ? {} : {tlsPin}),
  });

  it("answers through a connection whose certificate key matches the entry's pin", async () => {
    const http = new HttpClient({timeoutMs: 5_000});
    try {
      const answer = await new DirectTransport(http).send(node(pin), {method: "info", params: {}});
      expect(answer).toEqual({status: 200, body: {ok: true}});
    } finally {
      await http.close();
    }
  });

  it("refuses a certificate whose key is not the pin, or an https node without a pin, before sending any request byte", async () => {
    const http = new HttpClient({timeoutMs: 5_000});
    const before = received;
    try {
      const wrong = new DirectTransport(http).send(node("00".repeat(32)), {method: "info", params: {}});
      await expect(wrong).rejects.toBeInstanceOf(TransportFailure);
      await expect(wrong).rejects.toThrow(/is not the pinned/);
      await expect(new DirectTransport(http).send(node(), {method: "info", params: {}})).rejects.toThrow(/no TLS pin known/);
      expect(received).toBe(before);
    } finally {
      await http.close();
    }
  });
});

describe("NodeDirectory with a TLS seed", () => {
  async function load(seed: string): Promise<{nodes: NodeInfo[]} | Error> {
    const http = new HttpClient({timeoutMs: 5_000});
    const d = new NodeDirectory({seeds: [seed], refreshIntervalMs: 60_000, minRefreshGapMs: 0}, {http, clock: new ManualClock(0)});
    try {
      await d.start();
      return {nodes: d.nodes};
    } catch (err) {
      return err as Error;
    } finally {
      await d.close();
      await http.close();
    }
  }

  it("a pars:// or https:// seed whose list carries the pin of the certificate it showed gives pinned https nodes", async () => {
    listedPin = pin;
    for (const seed of [`pars://127.0.0.1:${port}`, `https://127.0.0.1:${port}`]) {
      const got = await load(seed);
      expect(got, seed).not.toBeInstanceOf(Error);
      expect((got as {nodes: NodeInfo[]}).nodes, seed).toEqual([expect.objectContaining({url: `https://127.0.0.1:${port}`, tlsPin: pin})]);
    }
  });

  it("a seed whose certificate key is not the pin of any node it lists is not believed", async () => {
    for (const other of ["00".repeat(32), null]) {
      listedPin = other;
      const got = await load(`https://127.0.0.1:${port}`);
      expect(got, String(other)).toMatchObject({code: "CLIENT_ERROR_NO_NODES"});
    }
  });
});
