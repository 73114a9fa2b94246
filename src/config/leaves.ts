import {KindGuard, type TSchema} from "@sinclair/typebox";
import {CONFIG_SCHEMA} from "./schema.js";

/**
 * Every leaf option of the config schema, flattened to a dotted path, with the names it takes in
 * the other layers. Env vars, flags, `--help` and the docs test are all derived from this list, so
 * adding a field to the schema is the only step needed to expose it everywhere.
 */

/** Prefix of every config env var. */
export const ENV_PREFIX = "PARS_STORAGE_";
/** Env var naming the config file (the equivalent of `--config`); not a config leaf. */
export const CONFIG_FILE_ENV = `${ENV_PREFIX}CONFIG`;

/**
 * `json`: an array option, or a union with non-literal members (`http.tls`), given in env vars and
 * flags as JSON text; such a union's string literals (`auto`) may also be given bare.
 */
export type LeafKind = "string" | "integer" | "number" | "boolean" | "enum" | "json";

export interface ConfigLeaf {
  /** Dotted path in the config object, e.g. `http.port`. */
  readonly path: string;
  readonly segments: readonly string[];
  readonly kind: LeafKind;
  readonly schema: TSchema;
  /** Allowed values when `kind === "enum"`; the bare-word string literals of a `json` union. */
  readonly values: readonly string[];
  readonly defaultValue: unknown;
  readonly description: string;
  /** `PARS_STORAGE_` + the path's segments in UPPER_SNAKE_CASE, joined with `_`. */
  readonly env: string;
  /** Flag names without `--`: the dotted path first, then any short alias (`http-port`). */
  readonly flags: readonly string[];
}

/** Short kebab-case flag aliases for the most used options (parsd-style `--data-dir`, `--network-id`). */
const FLAG_ALIASES: Readonly<Record<string, string>> = {
  dataDir: "data-dir",
  networkId: "network-id",
  "http.port": "http-port",
  "http.bind": "bind",
  "log.level": "log-level",
};

/** `sizeLimitBytes` → `SIZE_LIMIT_BYTES`. */
export function toUpperSnake(segment: string): string {
  return segment.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}

/** `["storage", "sizeLimitBytes"]` → `PARS_STORAGE_STORAGE_SIZE_LIMIT_BYTES`. */
export function envNameForPath(segments: readonly string[]): string {
  return ENV_PREFIX + segments.map(toUpperSnake).join("_");
}

function leafKind(schema: TSchema): {kind: LeafKind; values: string[]} {
  if (KindGuard.IsUnion(schema)) {
    const literals = schema.anyOf.filter((member) => KindGuard.IsLiteral(member));
    if (literals.length < schema.anyOf.length) {
      return {kind: "json", values: literals.map((member) => member.const).filter((v) => typeof v === "string")};
    }
    return {kind: "enum", values: literals.map((member) => String(member.const))};
  }
  if (KindGuard.IsInteger(schema)) return {kind: "integer", values: []};
  if (KindGuard.IsNumber(schema)) return {kind: "number", values: []};
  if (KindGuard.IsBoolean(schema)) return {kind: "boolean", values: []};
  if (KindGuard.IsString(schema)) return {kind: "string", values: []};
  if (KindGuard.IsArray(schema)) return {kind: "json", values: []};
  throw new Error(`config schema: unsupported leaf type ${String(schema.type)}`);
}

function collectLeaves(schema: TSchema, prefix: readonly string[], out: ConfigLeaf[]): void {
  if (KindGuard.IsObject(schema)) {
    for (const [key, child] of Object.entries(schema.properties)) collectLeaves(child, [...prefix, key], out);
    return;
  }
  const path = prefix.join(".");
  const alias = FLAG_ALIASES[path];
  out.push({
    path,
    segments: prefix,
    ...leafKind(schema),
    schema,
    defaultValue: schema.default as unknown,
    description: schema.description ?? "",
    env: envNameForPath(prefix),
    flags: alias === undefined ? [path] : [path, alias],
  });
}

function buildLeaves(): readonly ConfigLeaf[] {
  const out: ConfigLeaf[] = [];
  collectLeaves(CONFIG_SCHEMA, [], out);
  return Object.freeze(out);
}

/** All config leaves in schema order. */
export const CONFIG_LEAVES: readonly ConfigLeaf[] = buildLeaves();

const LEAF_BY_ENV = new Map(CONFIG_LEAVES.map((leaf) => [leaf.env, leaf]));
const LEAF_BY_FLAG = new Map(CONFIG_LEAVES.flatMap((leaf) => leaf.flags.map((flag) => [flag, leaf] as const)));

export function leafForEnv(name: string): ConfigLeaf | undefined {
  return LEAF_BY_ENV.get(name);
}

/** `flag` without the leading `--`: either a dotted path (`storage.sizeLimitBytes`) or an alias. */
export function leafForFlag(flag: string): ConfigLeaf | undefined {
  return LEAF_BY_FLAG.get(flag);
}

export type CoerceResult = {ok: true; value: unknown} | {ok: false; message: string};

const INTEGER_RE = /^[+-]?\d+$/;
const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const BOOLEANS: Readonly<Record<string, boolean>> = {true: true, false: false, "1": true, "0": false};

/**
 * Turns a string from the environment or the command line into the leaf's type. Anything that is
 * not a string (a flag given as a bare boolean, or a typed value from a test) is passed through and
 * left to schema validation.
 */
export function coerceLeafValue(leaf: ConfigLeaf, raw: unknown): CoerceResult {
  if (typeof raw !== "string") return {ok: true, value: raw};
  const text = raw.trim();
  switch (leaf.kind) {
    case "integer":
      return INTEGER_RE.test(text)
        ? {ok: true, value: Number(text)}
        : {ok: false, message: `must be an integer (got ${JSON.stringify(raw)})`};
    case "number":
      return NUMBER_RE.test(text)
        ? {ok: true, value: Number(text)}
        : {ok: false, message: `must be a number (got ${JSON.stringify(raw)})`};
    case "boolean": {
      const value = BOOLEANS[text.toLowerCase()];
      return value === undefined
        ? {ok: false, message: `must be true, false, 1 or 0 (got ${JSON.stringify(raw)})`}
        : {ok: true, value};
    }
    case "json":
      if (leaf.values.includes(text)) return {ok: true, value: text};
      try {
        return {ok: true, value: JSON.parse(text) as unknown};
      } catch {
        return {ok: false, message: `must be JSON (got ${JSON.stringify(raw)})`};
      }
    default:
      return {ok: true, value: raw};
  }
}
