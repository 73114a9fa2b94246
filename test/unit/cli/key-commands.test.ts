/**
 * `keygen` and `id` on the issue #18 key layout: keygen migrates a previous release's data dir
 * (PQID identity in staking/signer.key) like `start` does; id reads either layout without writing
 * and prints the BLS public key (and, with --full, its proof of possession).
 */
import {mkdtemp, readFile, readdir, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {parseCliArgs} from "../../../src/cli/args.js";
import {idCommand} from "../../../src/cli/commands/id.js";
import {keygenCommand} from "../../../src/cli/commands/keygen.js";
import type {CliIo} from "../../../src/cli/io.js";
import {blsPublicKey, blsVerifyProofOfPossession, initHashing, loadOrCreateIdentity, nobleBackend} from "../../../src/crypto/index.js";

let root: string;
beforeAll(async () => {
  await initHashing();
  root = await mkdtemp(join(tmpdir(), "pars-key-commands-"));
});
afterAll(async () => {
  await rm(root, {recursive: true, force: true});
});

function testIo(): CliIo & {out: string[]; err: string[]} {
  const out: string[] = [];
  const err: string[] = [];
  // The noble backend: liboqs would only add load time here.
  return {out, err, stdout: (l) => out.push(l), stderr: (l) => err.push(l), env: {PARS_STORAGE_CRYPTO_PQ_BACKEND: "noble"}, cwd: root};
}

const line = (lines: string[], prefix: string): string => lines.find((l) => l.startsWith(prefix))?.slice(prefix.length) ?? "";

describe("keygen and id on the staking/ key layout", () => {
  it("id reads a previous release's data dir without writing; keygen migrates it with the same node ID", async () => {
    const dataDir = join(root, "old");
    const signerKeyFile = join(dataDir, "staking", "signer.key");
    const {identity} = await loadOrCreateIdentity(signerKeyFile, nobleBackend); // the previous release's keygen

    const before = testIo();
    expect(await idCommand(parseCliArgs(["id", "--data-dir", dataDir]), before)).toBe(0);
    expect(line(before.out, "node ID: ")).toBe(identity.nodeId);
    expect(line(before.out, "BLS public key: ")).toMatch(/^none yet/);
    expect(await readdir(join(dataDir, "staking"))).toEqual(["signer.key"]);

    const keygen = testIo();
    expect(await keygenCommand(parseCliArgs(["keygen", "--data-dir", dataDir]), keygen)).toBe(0);
    expect(keygen.out).toEqual([identity.nodeId]);
    expect(keygen.err.join("\n")).toContain("moved the node identity");
    expect(keygen.err.join("\n")).toContain("created a new BLS signer key");
    const secretKey = new Uint8Array(await readFile(signerKeyFile));
    expect(secretKey.length).toBe(32);

    const after = testIo();
    expect(await idCommand(parseCliArgs(["id", "--full", "--data-dir", dataDir]), after)).toBe(0);
    expect(line(after.out, "node ID: ")).toBe(identity.nodeId);
    expect(line(after.out, "key file: ")).toBe(join(dataDir, "staking", "pq-identity.key"));
    const publicKey = line(after.out, "BLS public key: ");
    expect(publicKey).toBe(Buffer.from(blsPublicKey(secretKey)).toString("hex"));
    const pop = Buffer.from(line(after.out, "BLS proof of possession: "), "hex");
    expect(blsVerifyProofOfPossession(Buffer.from(publicKey, "hex"), pop)).toBe(true);

    const again = testIo();
    expect(await keygenCommand(parseCliArgs(["keygen", "--data-dir", dataDir]), again)).toBe(0);
    expect(again.err.join("\n")).toContain("a BLS signer key already exists");
    expect(new Uint8Array(await readFile(signerKeyFile))).toEqual(secretKey);
  });
});
