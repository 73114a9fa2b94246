import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {afterEach, beforeEach, describe, expect, it} from "vitest";
import {
  type ConfigError,
  type ConfigProblem,
  dataPaths,
  defaultConfig,
  loadConfig,
  loadConfigWithSource,
} from "../../../src/config/index.js";

let tmp: string;
let home: string;

beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "pars-config-"));
  home = path.join(tmp, "home");
  fs.mkdirSync(home);
});
afterEach(() => fs.rmSync(tmp, {recursive: true, force: true}));

function writeJson(name: string, value: unknown): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, typeof value === "string" ? value : JSON.stringify(value));
  return file;
}

function load(opts: Parameters<typeof loadConfig>[0] = {}): ReturnType<typeof loadConfig> {
  return loadConfig({cwd: tmp, homeDir: home, env: {}, ...opts});
}

function problemsOf(fn: () => unknown): readonly ConfigProblem[] {
  try {
    fn();
  } catch (e) {
    expect((e as ConfigError).code).toBe("CONFIG_ERROR_INVALID");
    return (e as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig defaults", () => {
  it("returns the schema defaults with dataDir expanded", () => {
    const config = load();
    expect(config).toEqual({...defaultConfig(), dataDir: path.join(home, ".pars")});
    expect(config.http.port).toBe(22025);
    expect(config.networkId).toBe(7070);
  });

  it("returns a deep-frozen object", () => {
    const config = load();
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.http)).toBe(true);
    expect(() => {
      (config.http as {port: number}).port = 1;
    }).toThrow(TypeError);
  });
});

describe("precedence: defaults < file < env < flags", () => {
  it("each layer overrides the previous one", () => {
    const file = writeJson("c.json", {http: {port: 1001}, log: {level: "debug"}});
    const env = {PARS_STORAGE_HTTP_PORT: "1002"};
    const flags = {config: file, "http-port": "1003"};
    expect(load({flags: {config: file}}).http.port).toBe(1001);
    expect(load({flags: {config: file}, env}).http.port).toBe(1002);
    expect(load({flags, env}).http.port).toBe(1003);
    // untouched keys of a section survive a partial override
    const merged = load({flags, env});
    expect(merged.log.level).toBe("debug");
    expect(merged.http.bind).toBe("127.0.0.1");
  });

  it("reads <dataDir>/config.json when no --config is given", () => {
    const dataDir = path.join(tmp, "data");
    fs.mkdirSync(dataDir);
    fs.writeFileSync(path.join(dataDir, "config.json"), JSON.stringify({storage: {sweepBatchSize: 7}}));
    const loaded = loadConfigWithSource({cwd: tmp, homeDir: home, flags: {"data-dir": dataDir}});
    expect(loaded.config.storage.sweepBatchSize).toBe(7);
    expect(loaded.configFile).toBe(path.join(dataDir, "config.json"));
    expect(loadConfigWithSource({cwd: tmp, homeDir: home}).configFile).toBeNull();
  });

  it("finds the implicit config file via PARS_STORAGE_DATA_DIR, and PARS_STORAGE_CONFIG names a file", () => {
    const dataDir = path.join(tmp, "envdata");
    fs.mkdirSync(dataDir);
    fs.writeFileSync(path.join(dataDir, "config.json"), JSON.stringify({storage: {sweepBatchSize: 8}}));
    expect(load({env: {PARS_STORAGE_DATA_DIR: dataDir}}).storage.sweepBatchSize).toBe(8);
    const file = writeJson("named.json", {storage: {sweepBatchSize: 9}});
    expect(load({env: {PARS_STORAGE_CONFIG: file}}).storage.sweepBatchSize).toBe(9);
  });

  it("a missing explicit --config is an error", () => {
    const problems = problemsOf(() => load({flags: {config: "nope.json"}}));
    expect(problems).toEqual([
      {source: "file", origin: path.join(tmp, "nope.json"), path: "", message: "config file not found"},
    ]);
  });
});

describe("environment", () => {
  it("coerces numbers and booleans", () => {
    const config = load({
      env: {
        PARS_STORAGE_STORAGE_SIZE_LIMIT_BYTES: "12345",
        PARS_STORAGE_SIGNING_MAX_BATCH_DELAY_MS: "0.5",
        PARS_STORAGE_RATE_LIMIT_ENABLED: "false",
        PARS_STORAGE_LOG_PRETTY: "1",
        PARS_STORAGE_LOG_LEVEL: "warn",
        PARS_STORAGE_HTTP_BIND: "0.0.0.0",
      },
    });
    expect(config.storage.sizeLimitBytes).toBe(12345);
    expect(config.signing.maxBatchDelayMs).toBe(0.5);
    expect(config.rateLimit.enabled).toBe(false);
    expect(config.log.pretty).toBe(true);
    expect(config.log.level).toBe("warn");
    expect(config.http.bind).toBe("0.0.0.0");
  });

  it("ignores other variables and empty PARS_STORAGE_ values", () => {
    expect(load({env: {HOME: "/x", PATH: "/bin", PARS_STORAGE_HTTP_PORT: ""}}).http.port).toBe(22025);
  });

  it("rejects unknown PARS_STORAGE_ variables and bad values, naming the variable", () => {
    const problems = problemsOf(() => load({env: {PARS_STORAGE_HTTP_PROT: "1", PARS_STORAGE_HTTP_PORT: "x1"}}));
    expect(problems).toEqual([
      {
        source: "env",
        origin: "PARS_STORAGE_HTTP_PROT",
        path: "",
        message: "unknown variable (did you mean PARS_STORAGE_HTTP_PORT?)",
      },
      {source: "env", origin: "PARS_STORAGE_HTTP_PORT", path: "http.port", message: 'must be an integer (got "x1")'},
    ]);
  });
});

describe("flags", () => {
  it("accepts aliases and dotted paths for any leaf", () => {
    const config = load({
      flags: {"data-dir": "d", bind: "::", "log-level": "error", "storage.synchronous": "full", "log.pretty": true},
    });
    expect(config.dataDir).toBe(path.join(tmp, "d"));
    expect(config.http.bind).toBe("::");
    expect(config.log.level).toBe("error");
    expect(config.storage.synchronous).toBe("full");
    expect(config.log.pretty).toBe(true);
  });

  it("reports unknown flags and a leaf given twice", () => {
    const problems = problemsOf(() => load({flags: {"http.prot": "1", "http-port": "1", "http.port": "2"}}));
    expect(problems.map((p) => [p.origin, p.message])).toEqual([
      ["--http.prot", "unknown flag (did you mean --http.port?)"],
      ["--http.port", "also given as --http-port"],
    ]);
  });
});

describe("validation reports every problem at once", () => {
  it("a file with three problems gives three problems, with file and path", () => {
    const file = writeJson("bad.json", {http: {port: 70000}, log: {level: "loud"}, extra: 1});
    const problems = problemsOf(() => load({flags: {config: file}}));
    expect(problems).toHaveLength(3);
    expect(problems.every((p) => p.source === "file" && p.origin === file)).toBe(true);
    expect(problems.map((p) => p.path).sort()).toEqual(["extra", "http.port", "log.level"]);
    const level = problems.find((p) => p.path === "log.level");
    expect(level?.message).toBe(
      'must be one of "trace", "debug", "info", "warn", "error", "fatal", "silent" (got "loud")',
    );
  });

  it("collects problems across file, env and flags into one error message", () => {
    const file = writeJson("bad.json", {storage: {sweepBatchSize: 0}});
    let error: ConfigError | undefined;
    try {
      load({
        flags: {config: file, "http-port": "-1", bogus: "1"},
        env: {PARS_STORAGE_NETWORK: "moon", PARS_STORAGE_X: "1"},
      });
    } catch (e) {
      error = e as ConfigError;
    }
    expect(error?.name).toBe("ConfigError");
    expect(error?.problems.map((p) => p.source)).toEqual(["file", "env", "env", "flag", "flag"]);
    expect(error?.message).toContain("invalid configuration (5 problems):");
    expect(error?.message).toContain(`file ${file}: storage.sweepBatchSize: must be at least 1 (got 0)`);
    expect(error?.message).toContain(
      'env PARS_STORAGE_NETWORK: network: must be one of "mainnet", "testnet", "devnet" (got "moon")',
    );
    expect(error?.message).toContain("flag --http-port: http.port:");
  });

  it("rejects unknown nested keys with a suggestion, wrong types and bad JSON", () => {
    const unknown = writeJson("u.json", {storage: {sizeLimitbytes: 1}, http: "x"});
    expect(problemsOf(() => load({flags: {config: unknown}})).map((p) => [p.path, p.message])).toEqual([
      ["http", 'must be an object (got "x")'],
      ["storage.sizeLimitbytes", "unknown option (did you mean storage.sizeLimitBytes?)"],
    ]);
    const badJson = writeJson("b.json", "{\"http\": ");
    const [problem] = problemsOf(() => load({flags: {config: badJson}}));
    expect(problem?.origin).toBe(badJson);
    expect(problem?.message).toMatch(/^invalid JSON: /);
    const array = writeJson("a.json", "[]");
    expect(problemsOf(() => load({flags: {config: array}}))[0]?.message).toBe("must contain a JSON object");
  });

  it("rejects non-integers and out-of-range numbers", () => {
    const problems = problemsOf(() =>
      load({flags: {"http.port": "1.5", "storage.sweepIntervalMs": "3000000000", "rateLimit.refillPerSecond": "0"}}),
    );
    expect(problems.map((p) => `${p.path}: ${p.message}`)).toEqual([
      "http.port: must be an integer (got \"1.5\")",
      "storage.sweepIntervalMs: must be at most 2147483647 (got 3000000000)",
      "rateLimit.refillPerSecond: must be greater than 0 (got 0)",
    ]);
  });
});

describe("network and networkId (PIP-0007)", () => {
  it.each([
    ["mainnet", 7070],
    ["testnet", 7071],
    ["devnet", 7072],
  ] as const)("%s ↔ %i", (network, id) => {
    expect(load({flags: {network}})).toMatchObject({network, networkId: id});
    expect(load({flags: {"network-id": String(id)}})).toMatchObject({network, networkId: id});
    expect(load({env: {PARS_STORAGE_NETWORK_ID: String(id)}})).toMatchObject({network, networkId: id});
    expect(load({flags: {network, "network-id": String(id)}})).toMatchObject({network, networkId: id});
  });

  it("rejects an unknown network ID", () => {
    const problems = problemsOf(() => load({flags: {"network-id": "1"}}));
    expect(problems).toEqual([
      {
        source: "flag",
        origin: "--network-id",
        path: "networkId",
        message: "must be one of 7070 (mainnet), 7071 (testnet), 7072 (devnet) (got 1)",
      },
    ]);
  });

  it("rejects network and networkId that disagree within a layer", () => {
    const flags = problemsOf(() => load({flags: {network: "testnet", "network-id": "7070"}}));
    expect(flags[0]?.message).toBe('7070 is mainnet, which conflicts with network "testnet" from --network');
    const file = writeJson("n.json", {network: "devnet", networkId: 7071});
    expect(problemsOf(() => load({flags: {config: file}}))[0]?.message).toBe(
      '7071 is testnet, which conflicts with network "devnet"',
    );
  });

  it("a later layer replaces the pair as a whole", () => {
    const file = writeJson("n.json", {network: "testnet", networkId: 7071});
    expect(load({flags: {config: file, "network-id": "7072"}})).toMatchObject({network: "devnet", networkId: 7072});
    expect(load({flags: {config: file}, env: {PARS_STORAGE_NETWORK: "mainnet"}})).toMatchObject({
      network: "mainnet",
      networkId: 7070,
    });
  });
});

describe("paths", () => {
  it("expands ~ and resolves relative paths against cwd", () => {
    expect(load({flags: {"data-dir": "~"}}).dataDir).toBe(home);
    expect(load({flags: {"data-dir": "~/x/y"}}).dataDir).toBe(path.join(home, "x", "y"));
    expect(load({flags: {"data-dir": "rel"}}).dataDir).toBe(path.join(tmp, "rel"));
    expect(load({flags: {"data-dir": "/abs"}}).dataDir).toBe("/abs");
  });

  it("derives the PIP-0007 layout", () => {
    expect(dataPaths({dataDir: "/d"})).toEqual({
      dataDir: "/d",
      dbDir: "/d/db/session",
      dbFile: "/d/db/session/storage.db",
      keyFile: "/d/staking/pq-identity.key",
      signerKeyFile: "/d/staking/signer.key",
      configFile: "/d/config.json",
      tlsKeyFile: "/d/tls/key.pem",
      tlsCertFile: "/d/tls/cert.pem",
    });
  });
});
