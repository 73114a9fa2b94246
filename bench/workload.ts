/**
 * Request bodies for the HTTP benchmark, built the way a Session client sends them.
 *
 * - store: public-inbox namespace 0 (no client signature), ~640 B of data (642 B: a 12-byte
 *   run-tag ‖ counter header keeps every message unique, so every request inserts a row), 1 day TTL.
 * - retrieve: `05` accounts with an Ed25519 signature over "retrieve" ‖ timestamp and
 *   `pubkey_ed25519`; bodies are signed up front so the load client measures no signing.
 * - retrieve from `07` accounts: the same request signed with ML-DSA-65 (context
 *   `pars-storage/v1/request`), carrying both public keys (~2.6 KB of base64) as a real `07`
 *   client does, so the node re-derives the account ID and verifies ML-DSA on every request.
 *
 * Accounts are derived from a seed, so the prefill and the retrieve runs (separate processes)
 * agree on them.
 */
import {createHash, createPrivateKey, createPublicKey, randomBytes, sign, type KeyObject} from "node:crypto";
import {PqAccount} from "../src/client/account.js";
import {ed25519PkToX25519} from "../src/crypto/ed25519.js";
import {initHashing} from "../src/crypto/hash.js";
import {loadPqBackend} from "../src/crypto/pq/index.js";

/** Data bytes per stored message: 12-byte header + 630 random bytes; base64 without padding. */
export const STORE_DATA_BYTES = 642;
const HEADER_BYTES = 12;
const STORE_TTL_MS = 86_400_000;
const PKCS8_ED25519_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");

export interface SigningAccount {
  /** 05 ‖ X25519 key, hex. */
  hex: string;
  /** The Ed25519 key the account signs with, hex. */
  edPubHex: string;
  key: KeyObject;
}

function seedBytes(seed: string, i: number): Buffer {
  return createHash("sha256").update(`pars-bench/${seed}/${i}`).digest();
}

/** Accounts that only receive messages: 05 ‖ 32 pseudo-random bytes (store never checks the key). */
export function plainAccounts(seed: string, count: number): string[] {
  return Array.from({length: count}, (_, i) => `05${seedBytes(seed, i).toString("hex")}`);
}

/** Session accounts with their Ed25519 keys (05 ‖ X25519 derived from the Ed25519 key). */
export function signingAccounts(seed: string, count: number): SigningAccount[] {
  return Array.from({length: count}, (_, i) => {
    const der = Buffer.concat([PKCS8_ED25519_PREFIX, seedBytes(seed, i)]);
    const key = createPrivateKey({key: der, format: "der", type: "pkcs8"});
    const edPub = createPublicKey(key).export({format: "der", type: "spki"}).subarray(-32);
    const x = ed25519PkToX25519(edPub);
    if (x === null) throw new Error(`seed ${seed}/${i} gave an Ed25519 key without an X25519 form`);
    return {hex: `05${Buffer.from(x).toString("hex")}`, edPubHex: edPub.toString("hex"), key};
  });
}

/**
 * An endless source of store bodies, round-robin over `accounts`, each with unique data. The
 * per-request work is one 16-char base64 header and a string concatenation.
 */
export function storeBodies(accounts: readonly string[]): () => string {
  const runTag = randomBytes(4);
  const tailB64 = randomBytes(STORE_DATA_BYTES - HEADER_BYTES).toString("base64");
  const prefixes = accounts.map((a) => `{"method":"store","params":{"pubkey":"${a}","namespace":0,"timestamp":`);
  const header = Buffer.alloc(HEADER_BYTES);
  runTag.copy(header, 0);
  let n = 0;
  return () => {
    header.writeDoubleBE(n, 4);
    const prefix = prefixes[n % prefixes.length] as string;
    n++;
    return `${prefix}${Date.now()},"ttl":${STORE_TTL_MS},"data":"${header.toString("base64")}${tailB64}"}}`;
  };
}

/** One signed retrieve body per account (valid for Session's 60 s signature tolerance). */
export function retrieveBodies(accounts: readonly SigningAccount[], now = Date.now()): string[] {
  return accounts.map((a) => {
    const signature = sign(null, Buffer.from(`retrieve${now}`), a.key).toString("base64");
    return JSON.stringify({
      method: "retrieve",
      params: {pubkey: a.hex, pubkey_ed25519: a.edPubHex, namespace: 0, timestamp: now, signature},
    });
  });
}

/**
 * `07` accounts from a seed (ML-DSA-65 and ML-KEM-768 key pairs from derived seeds). The backend is
 * the node's default ("auto": liboqs, noble if it fails its self-test); it only signs the bodies.
 */
export async function pqAccounts(seed: string, count: number): Promise<PqAccount[]> {
  await initHashing();
  const pq = await loadPqBackend("auto");
  return Array.from({length: count}, (_, i) => {
    const mlDsa = seedBytes(`${seed}/07-mldsa`, i);
    const mlKem = Buffer.concat([seedBytes(`${seed}/07-mlkem-a`, i), seedBytes(`${seed}/07-mlkem-b`, i)]);
    return new PqAccount({mlDsa, mlKem}, pq);
  });
}

/** One signed retrieve body per `07` account (both public keys and an ML-DSA-65 signature). */
export function pqRetrieveBodies(accounts: readonly PqAccount[], now = Date.now()): string[] {
  return accounts.map((a) => {
    const auth = a.auth(Buffer.from(`retrieve${now}`));
    return JSON.stringify({method: "retrieve", params: {...auth, namespace: 0, timestamp: now}});
  });
}
