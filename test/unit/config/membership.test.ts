import {describe, expect, it} from "vitest";
import {type ConfigError, type ConfigProblem, defaultConfig, loadConfig} from "../../../src/config/index.js";

const load = (opts: Parameters<typeof loadConfig>[0] = {}): ReturnType<typeof loadConfig> =>
  loadConfig({cwd: "/work", homeDir: "/home/op", env: {}, ...opts});

function problemsOf(fn: () => unknown): readonly ConfigProblem[] {
  try {
    fn();
  } catch (e) {
    expect((e as ConfigError).code).toBe("CONFIG_ERROR_INVALID");
    return (e as ConfigError).problems;
  }
  throw new Error("expected a ConfigError");
}

describe("swarm, membership and node options", () => {
  it("default to a single node with PIP-0008 mode and no stake", () => {
    const d = defaultConfig();
    expect(d.swarm.mode).toBe("pip0008");
    expect(d.membership).toEqual({source: "none", file: "", registryUrl: "", pollIntervalMs: 30_000, requestTimeoutMs: 10_000});
    expect(d.node).toEqual({publicHost: "", stake: {operator: {address: "", amount: "0"}, contributors: []}});
  });

  it("take contributors as JSON from env and flags, and resolve the membership file path", () => {
    const config = load({
      env: {PARS_STORAGE_NODE_STAKE_CONTRIBUTORS: '[{"address": "0xbb", "amount": "5"}]'},
      flags: {"membership.source": "static", "membership.file": "~/m.json", "node.stake.operator.amount": "15000000000000000000000"},
    });
    expect(config.node.stake.contributors).toEqual([{address: "0xbb", amount: "5"}]);
    expect(config.node.stake.operator.amount).toBe("15000000000000000000000");
    expect(config.membership.file).toBe("/home/op/m.json");
    expect(load({flags: {"membership.source": "static", "membership.file": "m.json"}}).membership.file).toBe("/work/m.json");
  });

  it("report malformed stake values", () => {
    const problems = problemsOf(() =>
      load({
        env: {PARS_STORAGE_NODE_STAKE_CONTRIBUTORS: "[{"},
        flags: {"node.stake.operator.amount": "-5", "node.stake.contributors": '[{"address": "x"}]'},
      }),
    );
    expect(problems.map((p) => [p.origin, p.message.split(" (got")[0]])).toEqual([
      ["PARS_STORAGE_NODE_STAKE_CONTRIBUTORS", "must be JSON"],
      ["--node.stake.operator.amount", "must be a decimal amount of base units (no sign, no leading zeros)"],
      ["--node.stake.contributors", "is required"],
    ]);
  });

  it("require the file or URL the chosen source needs, naming where the source was set", () => {
    expect(problemsOf(() => load({flags: {"membership.source": "static"}}))).toEqual([
      {source: "flag", origin: "--membership.source", path: "membership.file", message: 'must be set when membership.source is "static"'},
    ]);
    expect(problemsOf(() => load({env: {PARS_STORAGE_MEMBERSHIP_SOURCE: "registry"}}))).toEqual([
      {source: "env", origin: "PARS_STORAGE_MEMBERSHIP_SOURCE", path: "membership.registryUrl", message: 'must be set when membership.source is "registry"'},
    ]);
    const bad = problemsOf(() => load({flags: {"membership.source": "registry", "membership.registryUrl": "ftp://x"}}));
    expect(bad).toEqual([expect.objectContaining({path: "membership.registryUrl", message: expect.stringContaining("http:// or https://")})]);
    expect(load({flags: {"membership.source": "registry", "membership.registryUrl": "https://reg.example/nodes"}}).membership.source).toBe("registry");
  });
});

describe("rewards options", () => {
  it("default to 1 h epochs from the Unix epoch and PIP-0008's claim limits", () => {
    expect(defaultConfig().rewards).toEqual({
      enabled: true,
      epochMs: 3_600_000,
      genesisMs: 0,
      settleMs: 300_000,
      totalSupply: "0",
      claimThreshold: "1000000000000000000000000",
      claimCycleMs: 43_200_000,
    });
  });

  it("refuse a genesis that is not a multiple of the epoch length", () => {
    expect(load({flags: {"rewards.epochMs": "2000", "rewards.genesisMs": "1765000000000"}}).rewards.genesisMs).toBe(1_765_000_000_000);
    expect(problemsOf(() => load({flags: {"rewards.epochMs": "3000", "rewards.genesisMs": "1000"}}))).toEqual([
      {source: "flag", origin: "--rewards.epochMs", path: "rewards.genesisMs", message: "must be a multiple of rewards.epochMs (3000)"},
    ]);
  });
});
