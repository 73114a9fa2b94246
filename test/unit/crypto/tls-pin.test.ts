import {createPrivateKey, createPublicKey} from "node:crypto";
import {readFileSync} from "node:fs";
import https from "node:https";
import type {AddressInfo} from "node:net";
import {generate} from "selfsigned";
import {Pool} from "undici";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {isTlsPin, pinnedConnector, spkiSha256, spkiSha256OfKey} from "../../../src/crypto/tls-pin.js";

const vectors = JSON.parse(readFileSync(new URL("../../fixtures/swarm/vectors.json", import.meta.url), "utf8")) as {
  tlsCertificate: {ecP256SecretHex: string; certPem: string; spkiDerHex: string; spkiSha256: string};
};

describe("spkiSha256 (pin of a certificate)", () => {
  it("matches the pin pyca/cryptography computed for the fixture's certificate and key", () => {
    const v = vectors.tlsCertificate;
    expect(spkiSha256(v.certPem)).toBe(v.spkiSha256);
    const der = Buffer.from(v.certPem.replace(/-----[^-]+-----|\s/g, ""), "base64");
    expect(spkiSha256(der)).toBe(v.spkiSha256);
    const pub = createPublicKey({key: Buffer.from(v.spkiDerHex, "hex"), format: "der", type: "spki"});
    expect(spkiSha256OfKey(pub)).toBe(v.spkiSha256);
    expect(isTlsPin(v.spkiSha256)).toBe(true);
    expect(isTlsPin(v.spkiSha256.toUpperCase())).toBe(false);
  });

  it("refuses a malformed fixed pin up front", () => {
    expect(() => pinnedConnector("ab")).toThrow(TypeError);
  });
});

describe("pinnedConnector against a real HTTPS server", () => {
  let server: https.Server;
  let origin: string;
  let pin: string;

  beforeAll(async () => {
    const pems = await generate([{name: "commonName", value: "127.0.0.1"}], {keyType: "ec", algorithm: "sha256"});
    pin = spkiSha256OfKey(createPublicKey(createPrivateKey(pems.private)));
    expect(spkiSha256(pems.cert)).toBe(pin);
    server = https.createServer({key: pems.private, cert: pems.cert}, (_req, res) => res.end("ok"));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    origin = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  async function get(connect: ReturnType<typeof pinnedConnector>): Promise<string> {
    const pool = new Pool(origin, {connect, keepAliveTimeout: 10});
    try {
      const res = await pool.request({method: "GET", path: "/"});
      return await res.body.text();
    } finally {
      await pool.close();
    }
  }

  it("accepts the server whose certificate key matches the pin (fixed pin or lookup)", async () => {
    expect(await get(pinnedConnector(pin))).toBe("ok");
    const seen: string[] = [];
    const lookup = (host: string, port: number): string => (seen.push(`${host}:${port}`), pin);
    expect(await get(pinnedConnector(lookup))).toBe("ok");
    expect(seen).toEqual([new URL(origin).host]);
  });

  it("refuses a server whose certificate is not the pinned one, before sending the request", async () => {
    let requests = 0;
    server.on("request", () => requests++);
    const wrong = "00".repeat(32);
    await expect(get(pinnedConnector(wrong))).rejects.toMatchObject({code: "TLS_PIN_ERROR_MISMATCH"});
    await expect(get(pinnedConnector(() => null))).rejects.toMatchObject({code: "TLS_PIN_ERROR_UNKNOWN"});
    expect(requests).toBe(0);
  });

  it("without the pin connector, undici refuses the self-signed certificate (no CA trusts it)", async () => {
    const pool = new Pool(origin, {keepAliveTimeout: 10});
    await expect(pool.request({method: "GET", path: "/"})).rejects.toMatchObject({code: "DEPTH_ZERO_SELF_SIGNED_CERT"});
    await pool.close();
  });
});
