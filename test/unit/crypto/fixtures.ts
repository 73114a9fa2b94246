/** Typed loaders for test/fixtures/crypto/*.json (see check-vectors.py there for their provenance). */
import {readFileSync} from "node:fs";

function load<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../fixtures/crypto/${name}`, import.meta.url), "utf8")) as T;
}

export interface MessageHashVector {
  description?: string;
  account: string;
  namespace: number;
  data_base64: string;
  hash: string;
}

export const messageHashFixture = load<{
  session: MessageHashVector;
  own: {vectors: MessageHashVector[]};
}>("message-hash.json");

export const ed25519Fixture = load<{
  rfc8032: {vectors: {secretKey: string; publicKey: string; message: string; signature: string}[]};
  toX25519: {
    vectors: {seed: string; ed25519PublicKey: string; x25519PublicKey: string}[];
    rejected: {why: string; ed25519PublicKey: string}[];
  };
  verify: {publicKey: string; message: string; signature: string};
}>("ed25519.json");

export interface IdentityVector {
  name: string;
  mlDsaSeed: string;
  mlKemSeed: string;
  mlDsaPublicKeySha256: string;
  mlKemPublicKeySha256: string;
  mlDsaSecretKeySha256: string;
  mlKemSecretKeySha256: string;
  nodeId: string;
  accountId07: string;
  mlDsaPublicKey: string;
  mlKemPublicKey: string;
}

export const identityFixture = load<{
  vectors: IdentityVector[];
  acvp: {
    mlDsa65: {tcId: number; seed: string; publicKey: string};
    mlKem768: {tcId: number; d: string; z: string; publicKey: string};
  };
}>("identity-vectors.json");

export const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, "hex"));
export const toHexString = (b: Uint8Array): string => Buffer.from(b).toString("hex");

export interface MlDsaContextVector {
  name: string;
  seed: string;
  publicKey: string;
  message: string;
  context: string;
  signature: string;
}

/** pyca/cryptography (OpenSSL) ML-DSA-65 signatures with contexts (gen-mldsa65-context-vectors.py). */
export const mlDsaContextFixture = load<{vectors: MlDsaContextVector[]}>("mldsa65-context-vectors.json");
