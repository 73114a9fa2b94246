import {sha256} from "@noble/hashes/sha2.js";
import {beforeAll, describe, expect, it} from "vitest";
import {deriveAccountId07} from "../../../src/crypto/account.js";
import type {IdentityErrorCode} from "../../../src/crypto/errors.js";
import {initHashing} from "../../../src/crypto/hash.js";
import {
  KEY_FILE_BYTES,
  KEY_FILE_LAYOUT,
  KEY_FILE_V1_BYTES,
  decodeKeyFile,
  deriveNodeId,
  encodeKeyFile,
  generateIdentity,
  type KeyFileField,
  type NodeIdentity,
} from "../../../src/crypto/identity.js";
import type {PqBackend} from "../../../src/crypto/interface.js";
import {createLiboqsBackend, nobleBackend} from "../../../src/crypto/pq/index.js";
import {hex, identityFixture, toHexString} from "./fixtures.js";

const seedsOf = (i: number): {mlDsa: Uint8Array; mlKem: Uint8Array} => ({
  mlDsa: hex(identityFixture.vectors[i]!.mlDsaSeed),
  mlKem: hex(identityFixture.vectors[i]!.mlKemSeed),
});

let liboqs: PqBackend;
let alice: NodeIdentity;
let bob: NodeIdentity;
let aliceFile: Uint8Array;

beforeAll(async () => {
  await initHashing();
  liboqs = await createLiboqsBackend();
  alice = generateIdentity(nobleBackend, seedsOf(0));
  bob = generateIdentity(nobleBackend, seedsOf(1));
  aliceFile = encodeKeyFile(alice);
});

function expectDecodeError(bytes: Uint8Array, code: IdentityErrorCode, backend: PqBackend = nobleBackend): Error {
  let caught: unknown = null;
  try {
    decodeKeyFile(bytes, backend, {path: "/var/lib/pars/pq_identity.dat"});
  } catch (err) {
    caught = err;
  }
  expect(caught, `expected ${code}`).toMatchObject({code, name: "IdentityError"});
  const message = (caught as Error).message;
  expect(message).toContain("/var/lib/pars/pq_identity.dat");
  expect(message).toContain("The file was not modified.");
  return caught as Error;
}

function withField(bytes: Uint8Array, name: KeyFileField, value: Uint8Array): Uint8Array {
  const copy = bytes.slice();
  copy.set(value, KEY_FILE_LAYOUT[name].offset);
  return copy;
}

function fieldOf(bytes: Uint8Array, name: KeyFileField): Uint8Array {
  const {offset, length} = KEY_FILE_LAYOUT[name];
  return bytes.slice(offset, offset + length);
}

function flipAt(bytes: Uint8Array, offset: number, mask = 0x01): Uint8Array {
  const copy = bytes.slice();
  copy[offset] = (copy[offset] ?? 0) ^ mask;
  return copy;
}

describe("fixed seeded identity vectors", () => {
  it.each(identityFixture.vectors.map((v, i) => [v.name, i] as const))("reproduce %s with both backends", (_name, i) => {
    const v = identityFixture.vectors[i]!;
    for (const backend of [nobleBackend, liboqs]) {
      const id = generateIdentity(backend, seedsOf(i));
      expect(toHexString(sha256(id.mlDsa.publicKey)), backend.name).toBe(v.mlDsaPublicKeySha256);
      expect(toHexString(sha256(id.mlKem.publicKey)), backend.name).toBe(v.mlKemPublicKeySha256);
      expect(toHexString(sha256(id.mlDsa.secretKey)), backend.name).toBe(v.mlDsaSecretKeySha256);
      expect(toHexString(sha256(id.mlKem.secretKey)), backend.name).toBe(v.mlKemSecretKeySha256);
      expect(toHexString(id.mlDsa.publicKey)).toBe(v.mlDsaPublicKey);
      expect(id.nodeId, backend.name).toBe(v.nodeId);
      expect(deriveAccountId07(id.mlKem.publicKey, id.mlDsa.publicKey)).toBe(v.accountId07);
    }
  });

  it("nodeId is the 07 account without its prefix, 64 lowercase hex", () => {
    expect(alice.nodeId).toMatch(/^[0-9a-f]{64}$/);
    expect("07" + alice.nodeId).toBe(deriveAccountId07(alice.mlKem.publicKey, alice.mlDsa.publicKey));
    expect(deriveNodeId(alice.mlKem.publicKey, alice.mlDsa.publicKey)).toBe(alice.nodeId);
  });

  it("the key order matters: BLAKE2b-256(kem ‖ dsa), not (dsa ‖ kem)", () => {
    const swapped = deriveAccountId07(alice.mlKem.publicKey, bob.mlDsa.publicKey);
    expect(swapped).not.toBe("07" + alice.nodeId);
    expect(() => deriveAccountId07(alice.mlDsa.publicKey, alice.mlKem.publicKey)).toThrow(
      expect.objectContaining({code: "INVALID_ARGUMENT"}),
    );
  });

  it("random identities differ; bad seeds are rejected", () => {
    expect(generateIdentity(nobleBackend).nodeId).not.toBe(generateIdentity(nobleBackend).nodeId);
    expect(() => generateIdentity(nobleBackend, {mlDsa: new Uint8Array(32), mlKem: new Uint8Array(32)})).toThrow(
      expect.objectContaining({code: "INVALID_ARGUMENT"}),
    );
  });
});

describe("encodeKeyFile", () => {
  it("writes the PQID v2 layout (9,703 bytes: v1 plus the X25519 key)", () => {
    expect(aliceFile.length).toBe(KEY_FILE_BYTES);
    expect(KEY_FILE_BYTES).toBe(9703);
    expect(Buffer.from(aliceFile.subarray(0, 5)).toString("latin1")).toBe("PQID\x02");
    expect(fieldOf(aliceFile, "x25519SecretKey")).toEqual(alice.x25519?.secretKey);
    expect(fieldOf(aliceFile, "x25519PublicKey")).toEqual(alice.x25519?.publicKey);
    const end = KEY_FILE_LAYOUT.x25519PublicKey.offset + KEY_FILE_LAYOUT.x25519PublicKey.length;
    expect(end).toBe(KEY_FILE_BYTES);
  });

  it("writes the PQID v1 layout (9,639 bytes) for an identity without an X25519 key", () => {
    const v1 = encodeKeyFile({...alice, x25519: undefined});
    expect(v1.length).toBe(KEY_FILE_V1_BYTES);
    expect(Buffer.from(v1.subarray(0, 5)).toString("latin1")).toBe("PQID\x01");
    expect(v1).toEqual(aliceFile.subarray(0, KEY_FILE_V1_BYTES).map((b, i) => (i === 4 ? 1 : b)));
    expect(fieldOf(aliceFile, "mlKemPublicKey")).toEqual(alice.mlKem.publicKey);
    expect(fieldOf(aliceFile, "mlKemSecretKey")).toEqual(alice.mlKem.secretKey);
    expect(fieldOf(aliceFile, "mlDsaPublicKey")).toEqual(alice.mlDsa.publicKey);
    expect(fieldOf(aliceFile, "mlDsaSecretKey")).toEqual(alice.mlDsa.secretKey);
    expect(Buffer.from(fieldOf(aliceFile, "accountId")).toString("latin1")).toBe("07" + alice.nodeId);
    const end = KEY_FILE_LAYOUT.accountId.offset + KEY_FILE_LAYOUT.accountId.length;
    expect(end).toBe(KEY_FILE_V1_BYTES);
  });

  it("refuses identities with wrong key sizes or a malformed nodeId", () => {
    const short = {...alice, mlDsa: {...alice.mlDsa, secretKey: alice.mlDsa.secretKey.subarray(1)}};
    expect(() => encodeKeyFile(short)).toThrow(expect.objectContaining({code: "INVALID_ARGUMENT"}));
    expect(() => encodeKeyFile({...alice, nodeId: alice.nodeId.toUpperCase()})).toThrow(/nodeId/);
  });
});

describe("decodeKeyFile", () => {
  it("round-trips with either backend and copies out of the input buffer", () => {
    for (const backend of [nobleBackend, liboqs]) {
      const input = aliceFile.slice();
      const decoded = decodeKeyFile(input, backend);
      expect(decoded).toEqual(alice);
      input.fill(0);
      expect(decoded.mlDsa.secretKey).toEqual(alice.mlDsa.secretKey);
    }
  });

  it("copies out of a Buffer input too (Buffer#slice does not copy) and returns plain Uint8Arrays", () => {
    const input = Buffer.from(aliceFile);
    const decoded = decodeKeyFile(input, nobleBackend);
    input.fill(0);
    expect(decoded).toEqual(alice);
    expect(Buffer.isBuffer(decoded.mlKem.secretKey)).toBe(false);
  });

  it.each([
    ["empty file", new Uint8Array(0)],
    ["4 bytes 'PQID'", Uint8Array.from(Buffer.from("PQID"))],
    ["wrong magic", Uint8Array.from(Buffer.concat([Buffer.from("PQIX"), Buffer.alloc(KEY_FILE_BYTES - 4)]))],
    ["a PEM file", Uint8Array.from(Buffer.from("-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI...\n"))],
  ])("rejects %s as IDENTITY_ERROR_FOREIGN_FILE", (_label, bytes) => {
    expectDecodeError(bytes, "IDENTITY_ERROR_FOREIGN_FILE");
  });

  it("rejects another version as IDENTITY_ERROR_UNSUPPORTED_VERSION", () => {
    const v3 = aliceFile.slice();
    v3[4] = 3;
    expect(expectDecodeError(v3, "IDENTITY_ERROR_UNSUPPORTED_VERSION").message).toMatch(/version 3/);
  });

  it("reads a PQID v1 file: same identity and node ID, no X25519 key", () => {
    const decoded = decodeKeyFile(encodeKeyFile({...alice, x25519: undefined}), nobleBackend);
    expect(decoded.x25519).toBeUndefined();
    expect(decoded).toEqual({nodeId: alice.nodeId, mlDsa: alice.mlDsa, mlKem: alice.mlKem});
  });

  it("rejects a v2 file cut to v1 size, or a v1 file carrying v2 bytes, as IDENTITY_ERROR_CORRUPT", () => {
    expect(expectDecodeError(aliceFile.subarray(0, KEY_FILE_V1_BYTES), "IDENTITY_ERROR_CORRUPT").message).toMatch(/truncated/);
    const v1Long = aliceFile.slice();
    v1Long[4] = 1;
    expect(expectDecodeError(v1Long, "IDENTITY_ERROR_CORRUPT").message).toMatch(/too long/);
  });

  it("rejects an X25519 public key that is not the secret key's as IDENTITY_ERROR_KEY_MISMATCH", () => {
    for (const offset of [KEY_FILE_LAYOUT.x25519SecretKey.offset + 5, KEY_FILE_LAYOUT.x25519PublicKey.offset + 5]) {
      expect(expectDecodeError(flipAt(aliceFile, offset), "IDENTITY_ERROR_KEY_MISMATCH")).toMatchObject({type: {key: "x25519"}});
    }
  });

  it.each([
    ["truncated by one byte", 9638],
    ["truncated to the header", 5],
    ["truncated mid-key", 4000],
  ])("rejects a file %s as IDENTITY_ERROR_CORRUPT", (_label, length) => {
    expect(expectDecodeError(aliceFile.subarray(0, length), "IDENTITY_ERROR_CORRUPT").message).toMatch(/truncated/);
  });

  it("rejects trailing bytes as IDENTITY_ERROR_CORRUPT", () => {
    const longer = new Uint8Array(KEY_FILE_BYTES + 1);
    longer.set(aliceFile);
    expect(expectDecodeError(longer, "IDENTITY_ERROR_CORRUPT").message).toMatch(/too long/);
  });

  it.each([
    ["ML-KEM public key", KEY_FILE_LAYOUT.mlKemPublicKey.offset + 100, "IDENTITY_ERROR_KEY_MISMATCH", "ml-kem-768"],
    ["ML-KEM secret key, dk_PKE part", KEY_FILE_LAYOUT.mlKemSecretKey.offset + 100, "IDENTITY_ERROR_KEY_MISMATCH", "ml-kem-768"],
    ["ML-KEM secret key, embedded ek", KEY_FILE_LAYOUT.mlKemSecretKey.offset + 1500, "IDENTITY_ERROR_CORRUPT", null],
    ["ML-KEM secret key, H(ek)", KEY_FILE_LAYOUT.mlKemSecretKey.offset + 2340, "IDENTITY_ERROR_CORRUPT", null],
    ["ML-DSA public key", KEY_FILE_LAYOUT.mlDsaPublicKey.offset + 100, "IDENTITY_ERROR_KEY_MISMATCH", "ml-dsa-65"],
    ["ML-DSA secret key, tr", KEY_FILE_LAYOUT.mlDsaSecretKey.offset + 100, "IDENTITY_ERROR_KEY_MISMATCH", "ml-dsa-65"],
    ["ML-DSA secret key, s2", KEY_FILE_LAYOUT.mlDsaSecretKey.offset + 1000, "IDENTITY_ERROR_KEY_MISMATCH", "ml-dsa-65"],
    ["ML-DSA secret key, t0", KEY_FILE_LAYOUT.mlDsaSecretKey.offset + 3000, "IDENTITY_ERROR_KEY_MISMATCH", "ml-dsa-65"],
  ] as const)("rejects a flipped bit in the %s", (_label, offset, code, key) => {
    const err = expectDecodeError(flipAt(aliceFile, offset), code);
    if (key !== null) expect(err).toMatchObject({type: {key}});
  });

  it("rejects an edited ID as IDENTITY_ERROR_ID_MISMATCH, naming both IDs", () => {
    const idEnd = KEY_FILE_V1_BYTES;
    const lastChar = aliceFile[idEnd - 1]!;
    const edited = aliceFile.slice();
    edited[idEnd - 1] = lastChar === 0x30 ? 0x31 : 0x30; // another hex digit
    const err = expectDecodeError(edited, "IDENTITY_ERROR_ID_MISMATCH");
    expect(err.message).toContain("07" + alice.nodeId);
  });

  it.each([
    ["uppercase hex", (id: string): string => id.toUpperCase()],
    ["a 05 prefix", (id: string): string => "05" + id.slice(2)],
    ["non-hex text", (id: string): string => id.slice(0, 60) + "zzzzzz"],
    ["NUL padding", (id: string): string => id.slice(0, 33) + "\0".repeat(33)],
  ])("rejects an ID field with %s as IDENTITY_ERROR_CORRUPT", (_label, edit) => {
    const id = Buffer.from(edit("07" + alice.nodeId), "latin1");
    expectDecodeError(withField(aliceFile, "accountId", id), "IDENTITY_ERROR_CORRUPT");
  });

  it("rejects keys swapped in from another identity", () => {
    const bobFile = encodeKeyFile(bob);
    const swapPair = (a: KeyFileField, b: KeyFileField): Uint8Array =>
      withField(withField(aliceFile, a, fieldOf(bobFile, a)), b, fieldOf(bobFile, b));
    expectDecodeError(swapPair("mlDsaPublicKey", "mlDsaSecretKey"), "IDENTITY_ERROR_ID_MISMATCH");
    expectDecodeError(swapPair("mlKemPublicKey", "mlKemSecretKey"), "IDENTITY_ERROR_ID_MISMATCH");
    expectDecodeError(withField(aliceFile, "mlDsaSecretKey", fieldOf(bobFile, "mlDsaSecretKey")), "IDENTITY_ERROR_KEY_MISMATCH");
    expectDecodeError(withField(aliceFile, "mlKemSecretKey", fieldOf(bobFile, "mlKemSecretKey")), "IDENTITY_ERROR_KEY_MISMATCH");
    expectDecodeError(withField(aliceFile, "accountId", fieldOf(bobFile, "accountId")), "IDENTITY_ERROR_ID_MISMATCH");
  });

  it("rejects a one-bit flip anywhere in the file except K and z (sampled every 97 bytes)", () => {
    const dsaK = KEY_FILE_LAYOUT.mlDsaSecretKey.offset + 32;
    const kemZ = KEY_FILE_LAYOUT.mlKemSecretKey.offset + 2368;
    for (let offset = 0; offset < KEY_FILE_BYTES; offset += 97) {
      if ((offset >= dsaK && offset < dsaK + 32) || (offset >= kemZ && offset < kemZ + 32)) continue;
      expect(() => decodeKeyFile(flipAt(aliceFile, offset), nobleBackend), `byte ${offset}`).toThrow(
        expect.objectContaining({name: "IdentityError"}),
      );
    }
  });

  it("accepts damage to ML-DSA K and ML-KEM z: no redundancy covers them (documented)", () => {
    const dsaK = KEY_FILE_LAYOUT.mlDsaSecretKey.offset + 40;
    const kemZ = KEY_FILE_LAYOUT.mlKemSecretKey.offset + 2380;
    expect(decodeKeyFile(flipAt(aliceFile, dsaK), nobleBackend).nodeId).toBe(alice.nodeId);
    expect(decodeKeyFile(flipAt(aliceFile, kemZ), nobleBackend).nodeId).toBe(alice.nodeId);
  });

  it("fails with IDENTITY_ERROR_SELF_TEST_FAILED when the backend cannot verify the keys' signature", () => {
    const broken: PqBackend = {...nobleBackend, mlDsa65: {...nobleBackend.mlDsa65, verify: () => false}};
    const err = expectDecodeError(aliceFile, "IDENTITY_ERROR_SELF_TEST_FAILED", broken);
    expect(err.message).toMatch(/noble/);
  });
});
