import {createPrivateKey, createPublicKey, generateKeyPairSync, sign as nodeSign, type KeyObject} from "node:crypto";
import {blake2b} from "@noble/hashes/blake2.js";
import {ml_dsa65} from "@noble/post-quantum/ml-dsa.js";
import {ml_kem768} from "@noble/post-quantum/ml-kem.js";

/**
 * Client-side key material for tests, computed independently of src/crypto (node:crypto for
 * Ed25519, BigInt arithmetic for ed→x25519, @noble for the PQ keys and BLAKE2b).
 */
export interface Ed25519Key {
  pub: Buffer;
  sign(msg: Uint8Array | string): Buffer;
}

export function ed25519FromSeed(seed: Uint8Array): Ed25519Key {
  const der = Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), Buffer.from(seed)]);
  return fromPrivate(createPrivateKey({key: der, format: "der", type: "pkcs8"}));
}

export function ed25519(): Ed25519Key {
  return fromPrivate(generateKeyPairSync("ed25519").privateKey);
}

function fromPrivate(priv: KeyObject): Ed25519Key {
  const pub = createPublicKey(priv).export({format: "der", type: "spki"}).subarray(-32);
  return {pub: Buffer.from(pub), sign: (msg) => nodeSign(null, Buffer.from(msg), priv)};
}

const P = 2n ** 255n - 19n;

function modPow(b: bigint, e: bigint): bigint {
  let r = 1n;
  b %= P;
  while (e > 0n) {
    if (e & 1n) r = (r * b) % P;
    b = (b * b) % P;
    e >>= 1n;
  }
  return r;
}

/** Montgomery u = (1 + y) / (1 − y) mod p of an Ed25519 public key. */
export function edToX(pub: Uint8Array): Buffer {
  const le = Buffer.from(pub);
  le[31] = (le[31] as number) & 0x7f;
  const y = BigInt("0x" + Buffer.from(le).reverse().toString("hex"));
  const u = ((1n + y) * modPow((1n - y + P) % P, P - 2n)) % P;
  return Buffer.from(u.toString(16).padStart(64, "0"), "hex").reverse();
}

/** A Session ID (05 ‖ X25519) with its Ed25519 signing key. */
export interface SessionAccount {
  hex: string;
  ed: Ed25519Key;
}

export function sessionAccount(ed = ed25519()): SessionAccount {
  return {hex: "05" + edToX(ed.pub).toString("hex"), ed};
}

/** An account whose 32 bytes are its own Ed25519 key (03 groups and any non-05 prefix). */
export function ed25519Account(prefix = "03", ed = ed25519()): SessionAccount {
  return {hex: prefix + ed.pub.toString("hex"), ed};
}

export interface PqAccount {
  hex: string;
  dsa: {publicKey: Uint8Array; secretKey: Uint8Array};
  kem: {publicKey: Uint8Array; secretKey: Uint8Array};
  sign(msg: Uint8Array | string, ctx: Uint8Array): Buffer;
}

export function pqAccount(dsaSeed?: Uint8Array, kemSeed?: Uint8Array): PqAccount {
  const dsa = ml_dsa65.keygen(dsaSeed);
  const kem = ml_kem768.keygen(kemSeed);
  const id = blake2b(Buffer.concat([kem.publicKey, dsa.publicKey]), {dkLen: 32});
  return {
    hex: "07" + Buffer.from(id).toString("hex"),
    dsa,
    kem,
    sign: (msg, context) => Buffer.from(ml_dsa65.sign(Buffer.from(msg), dsa.secretKey, {context})),
  };
}

/** BLAKE2b-256 message hash, Session's rule, computed with @noble (independent of hash-wasm). */
export function sessionHash(accountHex: string, namespace: number, data: Uint8Array): string {
  const ns = namespace === 0 ? Buffer.alloc(0) : Buffer.from(String(namespace));
  const h = blake2b(Buffer.concat([Buffer.from(accountHex, "hex"), ns, Buffer.from(data)]), {dkLen: 32});
  return Buffer.from(h).toString("base64").replace(/=+$/, "");
}
