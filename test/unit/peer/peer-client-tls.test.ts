/**
 * PeerClient against a real HTTPS server with a self-signed certificate: a peer whose record has a
 * TLS pin is spoken to over HTTPS and accepted by that pin alone; a certificate with another key
 * is refused before a request byte is sent, and not retried.
 */
import {createPrivateKey, createPublicKey} from "node:crypto";
import https from "node:https";
import type {AddressInfo} from "node:net";
import {generate} from "selfsigned";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {spkiSha256OfKey} from "../../../src/crypto/tls-pin.js";
import {PeerClient, type PeerAddress} from "../../../src/peer/peer-client.js";

let server: https.Server;
let port: number;
let pin: string;
let requests = 0;
const clients: PeerClient[] = [];

beforeAll(async () => {
  const pems = await generate([{name: "commonName", value: "127.0.0.1"}], {keyType: "ec", algorithm: "sha256"});
  pin = spkiSha256OfKey(createPublicKey(createPrivateKey(pems.private)));
  server = https.createServer({key: pems.private, cert: pems.cert}, (req, res) => {
    requests++;
    res.end(`${req.method} ${req.url}`);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function clientFor(address: Omit<PeerAddress, "nodeId">): PeerClient {
  const nodeId = "bb".repeat(32);
  const c = new PeerClient({retry: {maxAttempts: 3, baseDelayMs: 1, factor: 1, maxDelayMs: 1, maxRetryAfterMs: 0}}, {directory: {addressOf: (id) => (id === nodeId ? {nodeId, ...address} : null)}});
  clients.push(c);
  return c;
}

describe("PeerClient to a TLS peer", () => {
  it("speaks HTTPS to a peer with a pin and accepts its self-signed certificate by key", async () => {
    const result = await clientFor({host: "127.0.0.1", port, tlsSpkiSha256: pin}).request("bb".repeat(32), {method: "GET", path: "/proof/v1/latest"});
    if (!result.ok) expect.fail(result.error.message);
    expect(result.status).toBe(200);
    expect(result.body.toString()).toBe("GET /proof/v1/latest");
  });

  it("refuses a certificate whose key is not the pin: a connect failure, nothing sent, no retry", async () => {
    const before = requests;
    const result = await clientFor({host: "127.0.0.1", port, tlsSpkiSha256: "00".repeat(32)}).request("bb".repeat(32), {path: "/peer/v1/frame", body: new Uint8Array(8), idempotent: true});
    if (result.ok) expect.fail("a wrong certificate was accepted");
    expect(result.error.type).toMatchObject({code: "PEER_CLIENT_ERROR_CONNECT", cause: "TLS_PIN_ERROR_MISMATCH", attempts: 1});
    expect(requests).toBe(before);
  });

  it("without a pin the peer is plain HTTP (the default scheme), which a TLS server does not answer", async () => {
    const result = await clientFor({host: "127.0.0.1", port}).request("bb".repeat(32), {method: "GET", path: "/", maxAttempts: 1});
    expect(result.ok && result.status).not.toBe(200);
  });
});
