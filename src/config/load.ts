import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {crossFieldProblems} from "./cross-checks.js";
import {ConfigError, type ConfigProblem, type ConfigSource} from "./errors.js";
import {CONFIG_FILE_ENV, ENV_PREFIX, coerceLeafValue, leafForEnv, leafForFlag, CONFIG_LEAVES} from "./leaves.js";
import {deepFreeze, getPath, isPlainObject, mergeInto, type PlainObject, setPath} from "./merge.js";
import {CONFIG_FILE_NAME, resolveUserPath} from "./paths.js";
import {defaultConfig, type ParsStorageConfig} from "./schema.js";
import {type ConfigLayer, layerSchemaProblems, mergedProblems, resolveLayerNetwork, suggest} from "./validate.js";

/** The flag (without `--`) that names the config file; every other flag is a config leaf. */
export const CONFIG_FLAG = "config";

export interface LoadConfigOptions {
  /**
   * Command-line flags, keyed by flag name without `--` (`"http-port"`, `"storage.sizeLimitBytes"`,
   * `"config"`). Values are strings as typed, `true` for a bare flag, or already-typed values.
   */
  readonly flags?: Readonly<Record<string, unknown>>;
  /** Environment; only `PARS_STORAGE_*` variables are read. Defaults to none (not `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Base for relative paths. Default `process.cwd()`. */
  readonly cwd?: string;
  /** Replaces `~`. Default `os.homedir()`. */
  readonly homeDir?: string;
}

export interface LoadedConfig {
  readonly config: ParsStorageConfig;
  /** Absolute path of the config file that was read, or null if none was. */
  readonly configFile: string | null;
}

interface LoadContext {
  readonly cwd: string;
  readonly homeDir: string;
  readonly problems: ConfigProblem[];
}

/**
 * Loads the node configuration: defaults < config file < environment < flags, where each layer
 * replaces what the previous one set (objects merge key by key, arrays and scalars overwrite).
 * Every layer is validated on its own so each problem names its source; all problems are thrown
 * together as one `ConfigError`. The result is deep-frozen, with `dataDir`, `membership.file` and
 * the `http.tls` files absolute.
 */
export function loadConfig(opts: LoadConfigOptions = {}): ParsStorageConfig {
  return loadConfigWithSource(opts).config;
}

/** `loadConfig`, also returning which config file was read. */
export function loadConfigWithSource(opts: LoadConfigOptions = {}): LoadedConfig {
  const ctx: LoadContext = {cwd: opts.cwd ?? process.cwd(), homeDir: opts.homeDir ?? os.homedir(), problems: []};
  const env = opts.env ?? {};
  const flagLayer = flagsToLayer(opts.flags ?? {}, ctx);
  const envLayer = envToLayer(env, ctx);
  const configFile = locateConfigFile(opts.flags?.[CONFIG_FLAG], env[CONFIG_FILE_ENV], [flagLayer, envLayer], ctx);
  const fileLayer = configFile === null ? null : readConfigFile(configFile, ctx);
  const layers = [fileLayer, envLayer, flagLayer].filter((layer): layer is ConfigLayer => layer !== null);
  for (const layer of layers) {
    ctx.problems.push(...layerSchemaProblems(layer), ...resolveLayerNetwork(layer));
  }
  if (ctx.problems.length > 0) throw new ConfigError(ctx.problems.sort(byLayer));

  const merged = defaultConfig() as unknown as PlainObject;
  for (const layer of layers) mergeInto(merged, layer.values);
  const problems = mergedProblems(merged);
  if (problems.length > 0) throw new ConfigError(problems);

  const config = merged as unknown as ParsStorageConfig;
  const crossProblems = crossFieldProblems(config, layers);
  if (crossProblems.length > 0) throw new ConfigError(crossProblems);
  config.dataDir = resolveUserPath(config.dataDir, ctx.cwd, ctx.homeDir);
  if (config.membership.file !== "") {
    config.membership.file = resolveUserPath(config.membership.file, ctx.cwd, ctx.homeDir);
  }
  const tls = config.http.tls;
  if (tls !== null && tls !== "auto") {
    config.http.tls = {cert: resolveUserPath(tls.cert, ctx.cwd, ctx.homeDir), key: resolveUserPath(tls.key, ctx.cwd, ctx.homeDir)};
  }
  return {config: deepFreeze(config), configFile: fileLayer === null ? null : configFile};
}

const LAYER_RANK: Readonly<Record<ConfigSource, number>> = {default: 0, file: 1, env: 2, flag: 3};

/** Problems are listed in precedence order (file, env, flags); `sort` is stable within a layer. */
function byLayer(a: ConfigProblem, b: ConfigProblem): number {
  return LAYER_RANK[a.source] - LAYER_RANK[b.source];
}

function flagsToLayer(flags: Readonly<Record<string, unknown>>, ctx: LoadContext): ConfigLayer {
  const values: PlainObject = {};
  const origins = new Map<string, string>();
  for (const [name, raw] of Object.entries(flags)) {
    if (name === CONFIG_FLAG || raw === undefined) continue;
    const flag = `--${name}`;
    const leaf = leafForFlag(name);
    if (leaf === undefined) {
      const hint = suggest(name, CONFIG_LEAVES.flatMap((l) => l.flags));
      const message = hint === undefined ? "unknown flag" : `unknown flag (did you mean --${hint}?)`;
      ctx.problems.push({source: "flag", origin: flag, path: "", message});
      continue;
    }
    const previous = origins.get(leaf.path);
    if (previous !== undefined) {
      ctx.problems.push({source: "flag", origin: flag, path: leaf.path, message: `also given as ${previous}`});
      continue;
    }
    origins.set(leaf.path, flag);
    const coerced = coerceLeafValue(leaf, raw);
    if (coerced.ok) setPath(values, leaf.segments, coerced.value);
    else ctx.problems.push({source: "flag", origin: flag, path: leaf.path, message: coerced.message});
  }
  return {source: "flag", values, origins, origin: "(command line)"};
}

/** Empty variables count as unset, so `PARS_STORAGE_X=` in a compose file does not break startup. */
function envToLayer(env: Readonly<Record<string, string | undefined>>, ctx: LoadContext): ConfigLayer {
  const values: PlainObject = {};
  const origins = new Map<string, string>();
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith(ENV_PREFIX) || name === CONFIG_FILE_ENV || raw === undefined || raw === "") continue;
    const leaf = leafForEnv(name);
    if (leaf === undefined) {
      const hint = suggest(name, [...CONFIG_LEAVES.map((l) => l.env), CONFIG_FILE_ENV]);
      const message = hint === undefined ? "unknown variable" : `unknown variable (did you mean ${hint}?)`;
      ctx.problems.push({source: "env", origin: name, path: "", message});
      continue;
    }
    origins.set(leaf.path, name);
    const coerced = coerceLeafValue(leaf, raw);
    if (coerced.ok) setPath(values, leaf.segments, coerced.value);
    else ctx.problems.push({source: "env", origin: name, path: leaf.path, message: coerced.message});
  }
  return {source: "env", values, origins, origin: "(environment)"};
}

/**
 * The explicit file (`--config`, else `PARS_STORAGE_CONFIG`), or `<dataDir>/config.json` if it
 * exists, where `dataDir` comes from flags, env or the default (a file cannot move itself).
 */
function locateConfigFile(
  flagValue: unknown,
  envValue: string | undefined,
  layers: readonly ConfigLayer[],
  ctx: LoadContext,
): string | null {
  if (flagValue !== undefined) {
    if (typeof flagValue === "string" && flagValue !== "") return resolveUserPath(flagValue, ctx.cwd, ctx.homeDir);
    ctx.problems.push({source: "flag", origin: `--${CONFIG_FLAG}`, path: "", message: "needs a file path"});
    return null;
  }
  if (envValue !== undefined && envValue !== "") return resolveUserPath(envValue, ctx.cwd, ctx.homeDir);
  const dataDirs = layers.map((layer) => getPath(layer.values, ["dataDir"]));
  const dataDir = dataDirs.find((d): d is string => typeof d === "string" && d !== "") ?? defaultConfig().dataDir;
  const implicit = path.join(resolveUserPath(dataDir, ctx.cwd, ctx.homeDir), CONFIG_FILE_NAME);
  return fs.existsSync(implicit) ? implicit : null;
}

function readConfigFile(file: string, ctx: LoadContext): ConfigLayer | null {
  const fail = (message: string): null => {
    ctx.problems.push({source: "file", origin: file, path: "", message});
    return null;
  };
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return fail(code === "ENOENT" ? "config file not found" : `cannot read config file (${code ?? String(e)})`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    return fail(`invalid JSON: ${(e as Error).message}`);
  }
  if (!isPlainObject(parsed)) return fail("must contain a JSON object");
  return {source: "file", values: parsed, origins: new Map(), origin: file};
}
