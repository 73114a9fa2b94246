import {execFile} from "node:child_process";
import {readFileSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {promisify} from "node:util";
import {describe, expect, it} from "vitest";

/**
 * `pars-storage/client` in a fresh Node process, imported by its package name (the `exports`
 * entry): it loads and works, and none of the node's server code comes with it. A module hook
 * records every module the import resolves (ESM and, through the CJS cache, CommonJS).
 */
const root = join(import.meta.dirname, "..", "..");
const run = promisify(execFile);

const HOOK = `
import {appendFileSync} from "node:fs";
export async function resolve(specifier, context, next) {
  const r = await next(specifier, context);
  appendFileSync(process.env.PARS_LOADED_LOG, r.url + "\\n");
  return r;
}`;

const CHILD = `
import {register, createRequire} from "node:module";
register("data:text/javascript," + encodeURIComponent(${JSON.stringify(HOOK)}));
const client = await import("pars-storage/client");
await client.initHashing();
const a = new client.Ed25519Account(new Uint8Array(32).fill(1));
const req = client.storeRequest({to: a.id, data: new Uint8Array([1]), namespace: 1}, 1800000000000, a);
const cjs = Object.keys(createRequire(import.meta.url).cache);
console.log(JSON.stringify({exports: Object.keys(client).length, account: a.id, method: req.method, cjs}));
`;

describe("the pars-storage/client entry point", () => {
  it("loads in a fresh process without fastify, better-sqlite3, pino or src/storage|rpc|api|node", async () => {
    const log = join(tmpdir(), `pars-client-loaded-${process.pid}.log`);
    rmSync(log, {force: true});
    const {stdout} = await run(process.execPath, ["--input-type=module", "-e", CHILD], {cwd: root, env: {...process.env, PARS_LOADED_LOG: log}});
    const result = JSON.parse(stdout.trim().split("\n").at(-1)!) as {exports: number; account: string; method: string; cjs: string[]};
    expect(result.account).toMatch(/^05[0-9a-f]{64}$/);
    expect(result.method).toBe("store");
    const loaded = [...readFileSync(log, "utf8").trim().split("\n"), ...result.cjs];
    rmSync(log, {force: true});
    expect(loaded.some((u) => u.includes("/dist/src/client/index.js"))).toBe(true);
    const server = loaded.filter((u) => /node_modules\/(fastify|@fastify|better-sqlite3|pino)\/|\/dist\/src\/(storage|rpc|api|node|replication|swarm|config)\//.test(u));
    expect(server).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {exports: Record<string, {types: string}>};
    expect(readFileSync(join(root, pkg.exports["./client"]!.types), "utf8")).toContain("ParsClient");
  });
});
