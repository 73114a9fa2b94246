/**
 * docker/Dockerfile's runtime command line, without Docker: `npm pack` this checkout, install the
 * tarball into an empty directory with `npm install --omit=dev` (what a user of the package gets),
 * then run the image's ENTRYPOINT + `keygen` and ENTRYPOINT + CMD exactly as the Dockerfile
 * writes them, with its ENV, its /app mapped to the installed package and its /data to a temp
 * dir. The node must serve, its HEALTHCHECK command must pass, and SIGTERM must stop it cleanly.
 *
 * Kept fast: the install skips install scripts, and the one native addon (better-sqlite3, which
 * compiles for minutes when no prebuilt binary is reachable) is copied from this checkout after
 * checking the version is the same. Everything else comes from the tarball and the registry (or
 * npm's cache, which `npm ci` filled). hadolint is not available here (docs/configuration.md).
 */
import {spawn, spawnSync, type ChildProcess} from "node:child_process";
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {fileURLToPath} from "node:url";
import {request} from "undici";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {waitExit} from "../utils/child-process.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "pars-e2e-docker-entry-"));
let node: ChildProcess | null = null;

/** The runtime stage (after the last FROM) of a Dockerfile: ENV, WORKDIR, COPY targets, ENTRYPOINT, CMD, HEALTHCHECK CMD. */
interface RuntimeStage {
  env: Record<string, string>;
  workdir: string;
  copied: string[];
  entrypoint: string[];
  cmd: string[];
  healthcheck: string[];
}

function parseDockerfile(text: string): RuntimeStage {
  // Continuation lines joined, comments dropped.
  const lines = text
    .replace(/\\\n/g, " ")
    .split("\n")
    .filter((l) => !l.trimStart().startsWith("#") && l.trim() !== "");
  const lastFrom = lines.findLastIndex((l) => /^FROM\s/i.test(l));
  const stage: RuntimeStage = {env: {}, workdir: "/", copied: [], entrypoint: [], cmd: [], healthcheck: []};
  for (const line of lines.slice(lastFrom + 1)) {
    const [, instruction = "", rest = ""] = /^(\w+)\s+(.*)$/.exec(line.trim()) ?? [];
    switch (instruction.toUpperCase()) {
      case "ENV":
        for (const m of rest.matchAll(/(\w+)=(\S+)/g)) stage.env[m[1]!] = m[2]!;
        break;
      case "WORKDIR":
        stage.workdir = rest.trim();
        break;
      case "COPY":
        stage.copied.push(rest.trim().split(/\s+/).at(-1)!);
        break;
      case "ENTRYPOINT":
        stage.entrypoint = JSON.parse(rest) as string[];
        break;
      case "CMD":
        stage.cmd = JSON.parse(rest) as string[];
        break;
      case "HEALTHCHECK":
        stage.healthcheck = JSON.parse(rest.slice(rest.indexOf("CMD") + 3)) as string[];
        break;
    }
  }
  return stage;
}

const stage = parseDockerfile(readFileSync(join(ROOT, "docker/Dockerfile"), "utf8"));
const installDir = join(dir, "install");
const pkgDir = join(installDir, "node_modules", "pars-storage");
const dataDir = join(dir, "data");

/** The image's paths on this machine: /app is the installed package, /data a temp dir; `node` is this node. */
function local(word: string): string {
  if (word === "node") return process.execPath;
  if (word === stage.workdir || word.startsWith(`${stage.workdir}/`)) return pkgDir + word.slice(stage.workdir.length);
  return word;
}

/** The image's ENV (data dir and bind mapped to here: loopback, port 0), and nothing of ours. */
function imageEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: dir,
    ...stage.env,
    PARS_STORAGE_DATA_DIR: dataDir,
    PARS_STORAGE_HTTP_BIND: "127.0.0.1",
    PARS_STORAGE_HTTP_PORT: "0",
    ...extra,
  };
}

function npm(args: string[], cwd: string): string {
  const res = spawnSync("npm", [...args, "--no-audit", "--no-fund"], {cwd, encoding: "utf8", env: {...process.env, npm_config_loglevel: "error"}});
  expect(res.status, `npm ${args.join(" ")}:\n${res.stderr}`).toBe(0);
  return res.stdout;
}

beforeAll(() => {
  expect(existsSync(join(ROOT, "dist/src/cli/bin.js")), "run `npm run build` first").toBe(true);
  const packed = JSON.parse(npm(["pack", "--json", "--ignore-scripts", "--pack-destination", dir], ROOT)) as Array<{filename: string}>;
  mkdirSync(installDir);
  writeFileSync(join(installDir, "package.json"), JSON.stringify({name: "docker-entry-check", private: true}));
  npm(["install", "--omit=dev", "--prefer-offline", "--ignore-scripts", join(dir, packed[0]!.filename)], installDir);
  const version = (d: string): string => (JSON.parse(readFileSync(join(d, "package.json"), "utf8")) as {version: string}).version;
  const ours = join(ROOT, "node_modules/better-sqlite3");
  const theirs = join(installDir, "node_modules/better-sqlite3");
  expect(version(theirs)).toBe(version(ours));
  mkdirSync(join(theirs, "build/Release"), {recursive: true});
  copyFileSync(join(ours, "build/Release/better_sqlite3.node"), join(theirs, "build/Release/better_sqlite3.node"));
}, 300_000);

afterAll(async () => {
  if (node !== null && node.exitCode === null) {
    node.kill("SIGKILL");
    await waitExit(node);
  }
  rmSync(dir, {recursive: true, force: true});
});

function run(argv: string[], env: NodeJS.ProcessEnv): {code: number | null; stdout: string; stderr: string} {
  const [cmd = "", ...args] = argv.map(local);
  const res = spawnSync(cmd, args, {env, encoding: "utf8", cwd: pkgDir, timeout: 60_000});
  return {code: res.status, stdout: res.stdout, stderr: res.stderr};
}

describe("docker/Dockerfile's command line on a fresh npm pack install", () => {
  it("the image's files are in the package, without dev dependencies", () => {
    expect(stage.entrypoint[0]).toBe("node");
    expect(stage.cmd).toEqual(["start"]);
    for (const target of stage.copied) {
      // node_modules is the install's own (hoisted next to the package).
      const path = target.replace(/^\.\//, `${stage.workdir}/`);
      if (path.endsWith("/node_modules")) continue;
      expect(existsSync(local(path)), path).toBe(true);
    }
    expect(existsSync(join(installDir, "node_modules/vitest"))).toBe(false);
    expect(existsSync(join(installDir, "node_modules/typescript"))).toBe(false);
  });

  it("ENTRYPOINT keygen, then ENTRYPOINT CMD serves with that key; HEALTHCHECK passes; SIGTERM stops it with exit 0", async () => {
    const keygen = run([...stage.entrypoint, "keygen"], imageEnv());
    expect(keygen.code, keygen.stderr).toBe(0);
    const nodeId = /[0-9a-f]{64}/.exec(keygen.stdout)?.[0];
    expect(nodeId).toBeDefined();

    const [cmd = "", ...args] = [...stage.entrypoint, ...stage.cmd].map(local);
    const proc = spawn(cmd, args, {env: imageEnv(), cwd: pkgDir, stdio: ["ignore", "pipe", "pipe"]});
    node = proc;
    let stderr = "";
    proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      let out = "";
      proc.stdout.on("data", (d: Buffer) => {
        out += d.toString();
        const m = /listening on (\S+) node ([0-9a-f]{64})/.exec(out);
        if (m !== null) {
          expect(m[2]).toBe(nodeId);
          resolve(m[1]!);
        }
      });
      proc.once("exit", (code) => reject(new Error(`exited ${code} before listening:\n${stderr}`)));
    });
    const health = await request(new URL("/health", url));
    expect(health.statusCode).toBe(200);
    expect(((await health.body.json()) as {nodeId: string}).nodeId).toBe(nodeId);
    const page = await request(new URL("/status", url));
    expect(page.statusCode).toBe(200);
    await page.body.dump();

    const check = run(stage.healthcheck, imageEnv({PARS_STORAGE_HTTP_PORT: new URL(url).port}));
    expect(check.code, check.stderr).toBe(0);

    const stopAt = Date.now();
    proc.kill("SIGTERM");
    expect(await waitExit(proc)).toBe(0);
    const stopMs = Date.now() - stopAt;
    console.log(`docker entry: graceful stop took ${stopMs} ms`);
    expect(stopMs).toBeLessThan(30_000);
    expect(stderr).toContain('"msg":"closed"');
    expect(stderr).toContain('"failedSteps":0');
  });
});
