import {mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterEach, describe, expect, it} from "vitest";
import {readClientKeyFile} from "../../../src/client/index.js";
import {parseClientArgs} from "../../../src/cli/commands/client-args.js";
import {runCli, type CliIo} from "../../../src/cli/run.js";
import {testPq} from "../../utils/rpc-harness.js";

function testIo(): CliIo & {out: string[]; err: string[]} {
  const out: string[] = [];
  const err: string[] = [];
  return {out, err, stdout: (l) => out.push(l), stderr: (l) => err.push(l), env: {}, cwd: "/"};
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, {recursive: true, force: true});
});

describe("client arguments", () => {
  it("collects repeated --seed, values in both forms and booleans", () => {
    const a = parseClientArgs(["store", "--seed", "pars://a:1", "--seed=http://b:2", "--to", "05ab", "--json", "--namespace=-10"]);
    expect(a.sub).toBe("store");
    expect(a.seeds).toEqual(["pars://a:1", "http://b:2"]);
    expect(a.values).toEqual({to: "05ab", namespace: "-10"});
    expect([...a.bools]).toEqual(["json"]);
  });

  it("reports every problem at once", () => {
    expect(() => parseClientArgs(["store", "--bogus", "x", "--to"])).toThrow(/unknown flag --bogus.*\n.*unexpected argument: x.*\n.*--to needs a value/s);
    expect(() => parseClientArgs(["nope"])).toThrow('client: unknown subcommand "nope"');
    expect(() => parseClientArgs(["keygen", "--seed", "x"])).toThrow("unknown flag --seed for client keygen");
  });
});

describe("pars-storage client keygen", () => {
  it("creates a 0600 key file, prints its account ID, and never overwrites it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pars-client-"));
    dirs.push(dir);
    const file = join(dir, "me.key");
    const io = testIo();
    expect(await runCli(["client", "keygen", "--out", file, "--type", "05"], io)).toBe(0);
    expect(io.out[0]).toMatch(/^05[0-9a-f]{64}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await readClientKeyFile(file, await testPq())).id).toBe(io.out[0]);
    const before = readFileSync(file);
    const again = testIo();
    expect(await runCli(["client", "keygen", "--out", file, "--type", "07"], again)).toBe(1);
    expect(again.err.join("\n")).toContain("already exists; it was not overwritten");
    expect(readFileSync(file)).toEqual(before);

    const pq = testIo();
    expect(await runCli(["client", "keygen", "--out", join(dir, "pq.key"), "--json"], pq)).toBe(0);
    expect(JSON.parse(pq.out[0]!)).toMatchObject({account_id: expect.stringMatching(/^07[0-9a-f]{64}$/), type: "07"});
  });

  it("refuses a bad --type and a file that is not a client key", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pars-client-"));
    dirs.push(dir);
    expect(await runCli(["client", "keygen", "--out", join(dir, "x"), "--type", "03"], testIo())).toBe(2);
    writeFileSync(join(dir, "junk"), "{\"pars_client_key\": 1, \"type\": \"07\", \"ml_dsa_seed\": \"zz\"}");
    await expect(readClientKeyFile(join(dir, "junk"), await testPq())).rejects.toMatchObject({code: "CLIENT_ERROR_KEY_FILE"});
  });

  it("store without seeds is a usage error; help names every subcommand", async () => {
    const io = testIo();
    expect(await runCli(["client", "retrieve", "--key", "/nonexistent"], io)).toBe(2);
    expect(io.err.join("\n")).toContain("give at least one --seed URL");
    const help = testIo();
    expect(await runCli(["client", "--help"], help)).toBe(0);
    for (const sub of ["keygen", "store", "retrieve", "watch"]) expect(help.out.join("\n")).toContain(`client ${sub}`);
  });
});
