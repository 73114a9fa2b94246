import fs from "node:fs";
import path from "node:path";
import {fileURLToPath} from "node:url";
import {Value} from "@sinclair/typebox/value";
import {describe, expect, it} from "vitest";
import {
  CONFIG_LEAVES,
  defaultConfig,
  envNameForPath,
  loadConfig,
  NETWORK_IDS,
  ParsStorageConfigSchema,
} from "../../../src/config/index.js";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const EXAMPLE = path.join(ROOT, "config.example.json");

describe("schema defaults", () => {
  it("are valid and consistent", () => {
    const defaults = defaultConfig();
    expect(Value.Check(ParsStorageConfigSchema, defaults)).toBe(true);
    expect(defaults.networkId).toBe(NETWORK_IDS[defaults.network]);
    expect(defaults.http.bodyLimitBytes).toBe(10 * 1024 * 1024);
    expect(defaults.storage.sizeLimitBytes).toBe(10 * 1024 ** 3);
  });

  it("defaultConfig() returns a fresh object each time", () => {
    const a = defaultConfig();
    a.http.port = 1;
    expect(defaultConfig().http.port).toBe(22025);
  });

  it("every leaf has a default and a description", () => {
    for (const leaf of CONFIG_LEAVES) {
      expect(leaf.defaultValue, leaf.path).not.toBeUndefined();
      expect(leaf.description, leaf.path).not.toBe("");
    }
  });
});

describe("derived names", () => {
  it("env var names follow the rule and are unique", () => {
    expect(envNameForPath(["storage", "sizeLimitBytes"])).toBe("PARS_STORAGE_STORAGE_SIZE_LIMIT_BYTES");
    expect(envNameForPath(["rateLimit", "refillPerSecond"])).toBe("PARS_STORAGE_RATE_LIMIT_REFILL_PER_SECOND");
    const envs = CONFIG_LEAVES.map((leaf) => leaf.env);
    expect(new Set(envs).size).toBe(envs.length);
    expect(envs).not.toContain("PARS_STORAGE_CONFIG");
  });

  it("flag names are unique", () => {
    const flags = CONFIG_LEAVES.flatMap((leaf) => leaf.flags);
    expect(new Set(flags).size).toBe(flags.length);
    expect(flags).not.toContain("config");
  });
});

describe("config.example.json", () => {
  it("validates and equals the defaults", () => {
    const example: unknown = JSON.parse(fs.readFileSync(EXAMPLE, "utf8"));
    expect(example).toEqual(defaultConfig());
    const loaded = loadConfig({flags: {config: EXAMPLE}, env: {}, cwd: ROOT, homeDir: "/home/x"});
    expect(loaded).toEqual({...defaultConfig(), dataDir: "/home/x/.pars"});
  });
});

describe("docs/configuration.md", () => {
  const docs = fs.readFileSync(path.join(ROOT, "docs", "configuration.md"), "utf8");
  const optionsSection = docs.split(/^## /m).find((section) => section.startsWith("Options")) ?? "";

  it("documents every option, its env var and its default", () => {
    for (const leaf of CONFIG_LEAVES) {
      const row = optionsSection.split("\n").find((line) => line.startsWith(`| \`${leaf.path}\` |`));
      expect(row, `table row for ${leaf.path}`).toBeDefined();
      expect(row, leaf.path).toContain(`\`${leaf.env}\``);
      expect(row, leaf.path).toContain(`\`${JSON.stringify(leaf.defaultValue)}\``);
      for (const flag of leaf.flags) expect(row, leaf.path).toContain(`\`--${flag}\``);
    }
  });

  it("documents no option the schema lacks", () => {
    const documented = [...optionsSection.matchAll(/^\| `([A-Za-z.]+)` \| .* \| `PARS_STORAGE_/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(CONFIG_LEAVES.map((leaf) => leaf.path).sort());
  });
});
