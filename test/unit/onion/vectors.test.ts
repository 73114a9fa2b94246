/**
 * The onion layer against test/fixtures/onion/vectors.json, built by gen_vectors.py with
 * pyca/cryptography from the documented construction: every byte must match.
 */
import {readFileSync} from "node:fs";
import {describe, expect, it} from "vitest";
import {nobleBackend, x25519KeyPair, x25519SharedSecret} from "../../../src/crypto/index.js";
import {buildOnionRequest, openLayer, parseEntryBlob, xwingCombine, type HopPublicKeys} from "../../../src/onion/index.js";
import {deriveLayerKeys, layerInfo, open, sha3} from "../../../src/onion/hop-crypto.js";

interface HopVector {
  nodeId: string;
  mlKemSeed: string;
  mlKemPublicKeySha3: string;
  x25519Secret: string;
  x25519Public: string;
  ephemeralSecret: string;
  ephemeralPublic: string;
  kemM: string;
  kemCt: string;
  ssM: string;
  ssX: string;
  ss: string;
  info: string;
  requestKey: string;
  responseKey: string;
  nonce: string;
  plaintext: string;
  ciphertext: string;
  entryBlob: string;
}

const vectors = JSON.parse(readFileSync(new URL("../../fixtures/onion/vectors.json", import.meta.url), "utf8")) as {
  encType: string;
  rpcBody: string;
  hops: HopVector[];
  blob: string;
  response: {status: number; jsonBody: unknown; nonce: string; plaintext: string; wire: string; base64: string};
};

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, "hex"));
const toHex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

const hops = vectors.hops.map((v) => {
  const kem = nobleBackend.mlKem768.keygen(hex(v.mlKemSeed));
  return {
    v,
    pub: {nodeId: v.nodeId, x25519: hex(v.x25519Public), mlKem: kem.publicKey} satisfies HopPublicKeys,
    secret: {nodeId: v.nodeId, x25519Secret: hex(v.x25519Secret), mlKemSecret: kem.secretKey},
  };
});

/** The client's randomness, in the order buildOnionRequest draws it (per hop from the last). */
function fixedRandom(chunks: string[]): (n: number) => Uint8Array {
  const queue = [...chunks];
  return (n) => {
    const next = queue.shift();
    if (next === undefined || next.length !== 2 * n) throw new Error(`vector randomness exhausted or wrong size (${n})`);
    return hex(next);
  };
}

describe("onion vectors (pyca/cryptography, gen_vectors.py)", () => {
  it("each hop's keys, secrets and layer keys match", () => {
    for (const {v, pub} of hops) {
      expect(toHex(sha3(pub.mlKem))).toBe(v.mlKemPublicKeySha3);
      expect(toHex(x25519KeyPair(hex(v.x25519Secret)).publicKey)).toBe(v.x25519Public);
      expect(toHex(x25519KeyPair(hex(v.ephemeralSecret)).publicKey)).toBe(v.ephemeralPublic);
      const enc = nobleBackend.mlKem768.encapsulate(pub.mlKem, hex(v.kemM));
      expect(toHex(enc.cipherText)).toBe(v.kemCt);
      expect(toHex(enc.sharedSecret)).toBe(v.ssM);
      const ssX = x25519SharedSecret(hex(v.ephemeralSecret), pub.x25519) as Uint8Array;
      expect(toHex(ssX)).toBe(v.ssX);
      const ss = xwingCombine(enc.sharedSecret, ssX, hex(v.ephemeralPublic), pub.x25519);
      expect(toHex(ss)).toBe(v.ss);
      const info = layerInfo(hex(v.nodeId), sha3(pub.mlKem), enc.cipherText);
      expect(toHex(info)).toBe(v.info);
      const keys = deriveLayerKeys(ss, info);
      expect(toHex(keys.request)).toBe(v.requestKey);
      expect(toHex(keys.response)).toBe(v.responseKey);
    }
  });

  it("buildOnionRequest produces the entry blob byte for byte, and each hop peels its layer to the next blob", () => {
    const random = fixedRandom([...vectors.hops].reverse().flatMap((v) => [v.ephemeralSecret, v.kemM, v.nonce]));
    const built = buildOnionRequest(
      hops.map((h) => h.pub),
      Buffer.from(vectors.rpcBody),
      {random},
    );
    expect(toHex(built.blob)).toBe(vectors.blob);
    let blob = built.blob;
    hops.forEach(({v, secret}, i) => {
      expect(toHex(blob)).toBe(v.entryBlob);
      const entry = parseEntryBlob(blob);
      expect(toHex(entry.ciphertext)).toBe(v.ciphertext);
      expect(toHex(open(hex(v.requestKey), entry.ciphertext) as Uint8Array)).toBe(v.plaintext);
      const layer = openLayer(secret, entry, {random: fixedRandom([vectors.response.nonce])});
      expect(layer.hopNo).toBe(i);
      if (layer.kind === "relay") {
        expect(layer.destination).toBe(hops[i + 1]?.v.nodeId);
        blob = layer.nextBlob;
        return;
      }
      expect(i).toBe(2);
      expect(Buffer.from(layer.rpcBody).toString()).toBe(vectors.rpcBody);
      const reply = layer.encryptResponse(vectors.response.status, vectors.response.jsonBody);
      expect(reply).toBe(vectors.response.base64);
      expect(toHex(Buffer.from(reply as string, "base64"))).toBe(vectors.response.wire);
      expect(built.decryptResponse(reply)).toEqual({
        status: 200,
        body: JSON.stringify(vectors.response.jsonBody),
        hopIndex: 2,
      });
    });
  });
});
