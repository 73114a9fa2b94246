import {chmod, mkdir, mkdtemp, readFile, readdir, rm, stat, truncate, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {initHashing} from "../../../src/crypto/hash.js";
import {KEY_FILE_BYTES, KEY_FILE_V1_BYTES, encodeKeyFile, generateIdentity, loadOrCreateIdentity} from "../../../src/crypto/identity.js";
import {nobleBackend} from "../../../src/crypto/pq/index.js";

let root: string;
let counter = 0;
const freshDir = (): string => join(root, `case-${++counter}`);

beforeAll(async () => {
  await initHashing();
  root = await mkdtemp(join(tmpdir(), "pars-identity-"));
});

afterAll(async () => {
  await rm(root, {recursive: true, force: true});
});

describe("loadOrCreateIdentity", () => {
  it("creates missing parent directories (0700) and the key file (0600, PQID v2, 9,703 bytes)", async () => {
    const dir = join(freshDir(), "data", "keys");
    const path = join(dir, "pq_identity.dat");
    const result = await loadOrCreateIdentity(path, nobleBackend);
    expect(result.created).toBe(true);
    expect(result.warnings).toEqual([]);
    const file = await stat(path);
    expect(file.size).toBe(KEY_FILE_BYTES);
    expect(file.mode & 0o777).toBe(0o600);
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect((await stat(join(dir, ".."))).mode & 0o777).toBe(0o700);
    expect(new Uint8Array(await readFile(path))).toEqual(encodeKeyFile(result.identity));
    expect(await readdir(dir)).toEqual(["pq_identity.dat"]); // no temp file left behind
  });

  it("loads the same identity again and never rewrites the file", async () => {
    const path = join(freshDir(), "pq_identity.dat");
    const first = await loadOrCreateIdentity(path, nobleBackend);
    const before = await readFile(path);
    const mtimeBefore = (await stat(path)).mtimeMs;
    const second = await loadOrCreateIdentity(path, nobleBackend);
    expect(second.created).toBe(false);
    expect(second.identity).toEqual(first.identity);
    expect(await readFile(path)).toEqual(before);
    expect((await stat(path)).mtimeMs).toBe(mtimeBefore);
  });

  it("two concurrent creators end with one file and the same identity", async () => {
    const dir = freshDir();
    const path = join(dir, "pq_identity.dat");
    const [a, b] = await Promise.all([loadOrCreateIdentity(path, nobleBackend), loadOrCreateIdentity(path, nobleBackend)]);
    expect([a.created, b.created].sort()).toEqual([false, true]);
    expect(a.identity.nodeId).toBe(b.identity.nodeId);
    const loser = a.created ? b : a;
    expect(loser.warnings.join("\n")).toMatch(/another process/);
    expect(new Uint8Array(await readFile(path))).toEqual(encodeKeyFile(a.identity));
    expect(await readdir(dir)).toEqual(["pq_identity.dat"]);
  });

  it("adds an X25519 key to a PQID v1 file once, keeping the node ID and ML keys", async () => {
    const dir = freshDir();
    const path = join(dir, "pq_identity.dat");
    const old = generateIdentity(nobleBackend);
    const v1 = encodeKeyFile({nodeId: old.nodeId, mlDsa: old.mlDsa, mlKem: old.mlKem});
    expect(v1.length).toBe(KEY_FILE_V1_BYTES);
    await mkdir(dir, {recursive: true});
    await writeFile(path, v1, {mode: 0o600});
    const first = await loadOrCreateIdentity(path, nobleBackend);
    expect(first).toMatchObject({created: false, upgraded: true, warnings: []});
    expect(first.identity.nodeId).toBe(old.nodeId);
    expect(first.identity.mlKem).toEqual(old.mlKem);
    expect(first.identity.mlDsa).toEqual(old.mlDsa);
    expect(first.identity.x25519?.publicKey).toHaveLength(32);
    const file = await stat(path);
    expect(file.size).toBe(KEY_FILE_BYTES);
    expect(file.mode & 0o777).toBe(0o600);
    expect(new Uint8Array(await readFile(path))).toEqual(encodeKeyFile(first.identity));
    expect(await readdir(dir)).toEqual(["pq_identity.dat"]);
    const second = await loadOrCreateIdentity(path, nobleBackend);
    expect(second).toMatchObject({created: false, upgraded: false});
    expect(second.identity).toEqual(first.identity);
  });

  // Root ignores directory permissions, so this case needs an unprivileged user.
  it.skipIf(process.getuid?.() === 0)("leaves a PQID v1 file untouched when the upgrade cannot be written", async () => {
    const dir = freshDir();
    const path = join(dir, "pq_identity.dat");
    const old = generateIdentity(nobleBackend);
    const v1 = encodeKeyFile({nodeId: old.nodeId, mlDsa: old.mlDsa, mlKem: old.mlKem});
    await mkdir(dir, {recursive: true});
    await writeFile(path, v1, {mode: 0o600});
    await chmod(dir, 0o500); // no new names in the directory: the temp file cannot be created
    try {
      await expect(loadOrCreateIdentity(path, nobleBackend)).rejects.toMatchObject({code: "IDENTITY_ERROR_IO"});
    } finally {
      await chmod(dir, 0o700);
    }
    expect(new Uint8Array(await readFile(path))).toEqual(v1);
    expect(await readdir(dir)).toEqual(["pq_identity.dat"]);
  });

  it("refuses a damaged file and leaves it byte-identical", async () => {
    const dir = freshDir();
    const path = join(dir, "pq_identity.dat");
    // A seeded identity: which check fires for a flipped s1 bit depends on the key (an
    // out-of-range coefficient is CORRUPT, an in-range one a KEY_MISMATCH), so fix the key.
    const original = encodeKeyFile(generateIdentity(nobleBackend, {mlDsa: new Uint8Array(32).fill(5), mlKem: new Uint8Array(64).fill(6)}));
    original[6000] = (original[6000] ?? 0) ^ 0x10;
    await mkdir(dir, {recursive: true});
    await writeFile(path, original, {mode: 0o600});
    await expect(loadOrCreateIdentity(path, nobleBackend)).rejects.toMatchObject({
      code: expect.stringMatching(/^IDENTITY_ERROR_(KEY_MISMATCH|CORRUPT)$/),
      message: expect.stringContaining(path),
    });
    expect(new Uint8Array(await readFile(path))).toEqual(original);
    expect(await readdir(dir)).toEqual(["pq_identity.dat"]);
  });

  it("refuses an empty file (e.g. left by a crashed copy) instead of replacing it", async () => {
    const dir = freshDir();
    const path = join(dir, "pq_identity.dat");
    await mkdir(dir, {recursive: true});
    await writeFile(path, new Uint8Array(0), {mode: 0o600});
    await expect(loadOrCreateIdentity(path, nobleBackend)).rejects.toMatchObject({code: "IDENTITY_ERROR_FOREIGN_FILE"});
    expect((await stat(path)).size).toBe(0);
  });

  it("warns when group or others can access the key file", async () => {
    const path = join(freshDir(), "pq_identity.dat");
    await loadOrCreateIdentity(path, nobleBackend);
    await chmod(path, 0o644);
    const result = await loadOrCreateIdentity(path, nobleBackend);
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]).toMatch(/mode 0644/);
    expect(result.warnings[0]).toContain(`chmod 600 ${path}`);
    expect((await stat(path)).mode & 0o777).toBe(0o644); // warned, not changed
  });

  it("rejects a directory at the key path and a file where a parent directory should be", async () => {
    const dir = freshDir();
    await mkdir(join(dir, "pq_identity.dat"), {recursive: true});
    await expect(loadOrCreateIdentity(join(dir, "pq_identity.dat"), nobleBackend)).rejects.toMatchObject({
      code: "IDENTITY_ERROR_IO",
    });
    await writeFile(join(dir, "plain-file"), "x");
    await expect(loadOrCreateIdentity(join(dir, "plain-file", "pq_identity.dat"), nobleBackend)).rejects.toMatchObject({
      code: "IDENTITY_ERROR_IO",
      type: {syscallCode: "ENOTDIR"},
    });
  });

  it("rejects a huge file as foreign without reading it", async () => {
    const dir = freshDir();
    const path = join(dir, "pq_identity.dat");
    await mkdir(dir, {recursive: true});
    await writeFile(path, "PQID");
    await truncate(path, 64 * 1024 * 1024); // sparse
    await expect(loadOrCreateIdentity(path, nobleBackend)).rejects.toMatchObject({
      code: "IDENTITY_ERROR_FOREIGN_FILE",
      type: {sizeBytes: 64 * 1024 * 1024},
    });
  });
});
