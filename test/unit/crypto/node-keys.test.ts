/**
 * The staking/ key layout of issue #18: signer.key = luxd's BLS key, pq-identity.key = the PQID
 * identity; migration of a data dir the previous release made (its PQID file in signer.key),
 * including a crash between the two steps.
 */
import {chmod, copyFile, mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {dataPaths} from "../../../src/config/index.js";
import {blsPublicKey, isBlsSecretKey} from "../../../src/crypto/bls.js";
import {IdentityError} from "../../../src/crypto/errors.js";
import {initHashing} from "../../../src/crypto/hash.js";
import {KEY_FILE_BYTES, decodeKeyFile, encodeKeyFile, generateIdentity, loadOrCreateIdentity} from "../../../src/crypto/identity.js";
import {loadOrCreateNodeKeys, readNodeKeys, type NodeKeyPaths} from "../../../src/crypto/node-keys.js";
import {nobleBackend} from "../../../src/crypto/pq/index.js";

let root: string;
let counter = 0;

function freshPaths(): NodeKeyPaths & {dir: string; staking: string} {
  const dir = join(root, `case-${++counter}`);
  const p = dataPaths({dataDir: dir});
  return {dir, staking: join(dir, "staking"), identityFile: p.keyFile, signerKeyFile: p.signerKeyFile};
}

beforeAll(async () => {
  await initHashing();
  root = await mkdtemp(join(tmpdir(), "pars-node-keys-"));
});

afterAll(async () => {
  await rm(root, {recursive: true, force: true});
});

/** A data dir as the previous release left it: `loadOrCreateIdentity` on staking/signer.key. */
async function previousReleaseDataDir(paths: NodeKeyPaths): Promise<string> {
  const {identity} = await loadOrCreateIdentity(paths.signerKeyFile, nobleBackend);
  return identity.nodeId;
}

async function expectMigrated(paths: NodeKeyPaths, nodeId: string): Promise<void> {
  const signer = new Uint8Array(await readFile(paths.signerKeyFile));
  expect(signer.length).toBe(32);
  expect(isBlsSecretKey(signer)).toBe(true);
  expect((await stat(paths.signerKeyFile)).mode & 0o777).toBe(0o600);
  const moved = decodeKeyFile(await readFile(paths.identityFile), nobleBackend);
  expect(moved.nodeId).toBe(nodeId);
  expect((await stat(paths.identityFile)).mode & 0o777).toBe(0o600);
}

describe("loadOrCreateNodeKeys", () => {
  it("creates both files in an empty data dir (0600, BLS key of 32 bytes) and loads the same keys again", async () => {
    const paths = freshPaths();
    const first = await loadOrCreateNodeKeys(paths, nobleBackend);
    expect(first).toMatchObject({created: true, blsCreated: true, migrated: false, warnings: []});
    expect((await stat(paths.identityFile)).size).toBe(KEY_FILE_BYTES);
    expect((await stat(paths.signerKeyFile)).mode & 0o777).toBe(0o600);
    expect(new Uint8Array(await readFile(paths.signerKeyFile))).toEqual(first.bls.secretKey);
    expect(first.bls.publicKey).toEqual(blsPublicKey(first.bls.secretKey));
    expect((await readdir(paths.staking)).sort()).toEqual(["pq-identity.key", "signer.key"]);

    const again = await loadOrCreateNodeKeys(paths, nobleBackend);
    expect(again).toMatchObject({created: false, blsCreated: false, migrated: false});
    expect(again.identity.nodeId).toBe(first.identity.nodeId);
    expect(again.bls.secretKey).toEqual(first.bls.secretKey);
  });

  it("migrates a data dir made by the previous release: same node ID, identity moved, signer.key becomes a BLS key", async () => {
    const paths = freshPaths();
    const nodeId = await previousReleaseDataDir(paths);
    const before = await readNodeKeys(paths, nobleBackend); // read-only view (id/record) before any start
    expect(before).toMatchObject({identityFile: paths.signerKeyFile, bls: null});
    expect(before!.identity.nodeId).toBe(nodeId);
    expect(await readdir(paths.staking)).toEqual(["signer.key"]); // reading wrote nothing

    const result = await loadOrCreateNodeKeys(paths, nobleBackend);
    expect(result).toMatchObject({migrated: true, blsCreated: true, created: false});
    expect(result.identity.nodeId).toBe(nodeId);
    await expectMigrated(paths, nodeId);
    expect(new Uint8Array(await readFile(paths.signerKeyFile))).toEqual(result.bls.secretKey);
    expect((await readdir(paths.staking)).sort()).toEqual(["pq-identity.key", "signer.key"]);

    const after = await loadOrCreateNodeKeys(paths, nobleBackend);
    expect(after).toMatchObject({migrated: false, blsCreated: false});
    expect(after.identity.nodeId).toBe(nodeId);
    expect(after.bls.secretKey).toEqual(result.bls.secretKey);
    const view = await readNodeKeys(paths, nobleBackend);
    expect(view).toMatchObject({identityFile: paths.identityFile});
    expect(view!.bls!.publicKey).toEqual(result.bls.publicKey);
  });

  it("migrates a PQID v1 signer.key (adds the X25519 key, same node ID)", async () => {
    const paths = freshPaths();
    const {x25519: _drop, ...v1} = generateIdentity(nobleBackend);
    await mkdir(paths.staking, {recursive: true, mode: 0o700});
    await writeFile(paths.signerKeyFile, encodeKeyFile(v1), {mode: 0o600});
    const result = await loadOrCreateNodeKeys(paths, nobleBackend);
    expect(result).toMatchObject({migrated: true, upgraded: true});
    expect(result.identity.x25519).toBeDefined();
    await expectMigrated(paths, v1.nodeId);
  });

  it("recovers from a crash between the two steps (identity copied, signer.key not yet replaced)", async () => {
    const paths = freshPaths();
    const nodeId = await previousReleaseDataDir(paths);
    // Step 1 done, step 2 not: both names hold the identity; plus the temp file of an unfinished step 2.
    await copyFile(paths.signerKeyFile, paths.identityFile);
    await writeFile(join(paths.staking, ".signer.key.12345.00112233.tmp"), new Uint8Array(32).fill(7), {mode: 0o600});
    const result = await loadOrCreateNodeKeys(paths, nobleBackend);
    expect(result).toMatchObject({migrated: true, blsCreated: true});
    expect(result.identity.nodeId).toBe(nodeId);
    await expectMigrated(paths, nodeId);
  });

  it("recovers when the copied identity was already upgraded to v2 before the crash", async () => {
    const paths = freshPaths();
    const {x25519: _drop, ...v1} = generateIdentity(nobleBackend);
    await mkdir(paths.staking, {recursive: true, mode: 0o700});
    await writeFile(paths.signerKeyFile, encodeKeyFile(v1), {mode: 0o600});
    await copyFile(paths.signerKeyFile, paths.identityFile);
    await loadOrCreateIdentity(paths.identityFile, nobleBackend); // the v1 -> v2 rewrite of the copy
    const result = await loadOrCreateNodeKeys(paths, nobleBackend);
    expect(result.migrated).toBe(true);
    await expectMigrated(paths, v1.nodeId);
  });

  it("refuses, changing nothing, when signer.key and pq-identity.key hold different identities", async () => {
    const paths = freshPaths();
    await previousReleaseDataDir(paths);
    await writeFile(paths.identityFile, encodeKeyFile(generateIdentity(nobleBackend)), {mode: 0o600});
    const signerBefore = await readFile(paths.signerKeyFile);
    const identityBefore = await readFile(paths.identityFile);
    const err = await loadOrCreateNodeKeys(paths, nobleBackend).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IdentityError);
    expect((err as IdentityError).code).toBe("IDENTITY_ERROR_ID_MISMATCH");
    expect((err as Error).message).toContain("Neither file was modified");
    expect(await readFile(paths.signerKeyFile)).toEqual(signerBefore);
    expect(await readFile(paths.identityFile)).toEqual(identityBefore);
  });

  it("adopts a luxd-created signer.key (32 bytes, mode 0400) as is and creates the identity beside it", async () => {
    const paths = freshPaths();
    const vectors = JSON.parse(await readFile(new URL("../../fixtures/bls/vectors.json", import.meta.url), "utf8")) as {
      signerKeyFile: {fileBytes: string; publicKey: string};
    };
    const fileBytes = Buffer.from(vectors.signerKeyFile.fileBytes, "hex");
    await mkdir(paths.staking, {recursive: true, mode: 0o700});
    await writeFile(paths.signerKeyFile, fileBytes, {mode: 0o400});
    const result = await loadOrCreateNodeKeys(paths, nobleBackend);
    expect(result).toMatchObject({created: true, blsCreated: false, migrated: false, warnings: []});
    expect(Buffer.from(result.bls.publicKey).toString("hex")).toBe(vectors.signerKeyFile.publicKey);
    expect(await readFile(paths.signerKeyFile)).toEqual(fileBytes);
    expect((await stat(paths.signerKeyFile)).mode & 0o777).toBe(0o400);
    expect((await stat(paths.identityFile)).size).toBe(KEY_FILE_BYTES);
  });

  it("rejects a signer.key that is neither PQID nor a BLS key before creating anything; warns on a readable one", async () => {
    for (const [bytes, code] of [
      [new Uint8Array(33).fill(1), "IDENTITY_ERROR_FOREIGN_FILE"],
      [new Uint8Array(32), "IDENTITY_ERROR_CORRUPT"],
      [new Uint8Array(32).fill(0xff), "IDENTITY_ERROR_CORRUPT"],
    ] as const) {
      const paths = freshPaths();
      await mkdir(paths.staking, {recursive: true, mode: 0o700});
      await writeFile(paths.signerKeyFile, bytes, {mode: 0o600});
      const err = await loadOrCreateNodeKeys(paths, nobleBackend).catch((e: unknown) => e);
      expect((err as IdentityError).code).toBe(code);
      expect((err as Error).message).toContain(paths.signerKeyFile);
      expect(await readdir(paths.staking)).toEqual(["signer.key"]);
    }
    const paths = freshPaths();
    await loadOrCreateNodeKeys(paths, nobleBackend);
    await chmod(paths.signerKeyFile, 0o644);
    const loaded = await loadOrCreateNodeKeys(paths, nobleBackend);
    expect(loaded.warnings.join("\n")).toMatch(/signer\.key has mode 0644/);
  });

  it("a corrupt PQID signer.key fails with the identity error and is not moved", async () => {
    const paths = freshPaths();
    await previousReleaseDataDir(paths);
    const bytes = await readFile(paths.signerKeyFile);
    bytes[100] = (bytes[100] ?? 0) ^ 0xff;
    await writeFile(paths.signerKeyFile, bytes);
    await expect(loadOrCreateNodeKeys(paths, nobleBackend)).rejects.toBeInstanceOf(IdentityError);
    expect(await readdir(paths.staking)).toEqual(["signer.key"]);
    expect(await readFile(paths.signerKeyFile)).toEqual(bytes);
  });
});
