import {KindGuard, type TSchema, Type} from "@sinclair/typebox";
import {type ValueError, ValueErrorType, Value} from "@sinclair/typebox/value";
import type {ConfigProblem, ConfigSource} from "./errors.js";
import {CONFIG_LEAVES} from "./leaves.js";
import type {PlainObject} from "./merge.js";
import {CONFIG_SCHEMA, NETWORK_IDS, type NetworkName} from "./schema.js";

/** One layer of configuration (file, env or flags) before merging. */
export interface ConfigLayer {
  readonly source: ConfigSource;
  readonly values: PlainObject;
  /** Origin label per dotted path (env var or flag name); falls back to `origin`. */
  readonly origins: ReadonlyMap<string, string>;
  readonly origin: string;
}

/** The env var or flag that set `path` or the leaf containing it (`a.b.0.c` → `a.b`), else the layer's. */
export function originOf(layer: ConfigLayer, path: string): string {
  const segments = path.split(".");
  for (let n = segments.length; n > 0; n--) {
    const origin = layer.origins.get(segments.slice(0, n).join("."));
    if (origin !== undefined) return origin;
  }
  return layer.origin;
}

/** The schema with every property optional at every depth: what a single layer must satisfy. */
function deepPartial(schema: TSchema): TSchema {
  if (!KindGuard.IsObject(schema)) return schema;
  const properties: Record<string, TSchema> = {};
  for (const [key, child] of Object.entries(schema.properties)) properties[key] = Type.Optional(deepPartial(child));
  return Type.Object(properties, {additionalProperties: false});
}

const LAYER_SCHEMA = deepPartial(CONFIG_SCHEMA);

/** All known dotted paths (sections and leaves), used to suggest a fix for a typo. */
const KNOWN_PATHS = [
  ...new Set(CONFIG_LEAVES.flatMap((leaf) => leaf.segments.map((_, i) => leaf.segments.slice(0, i + 1).join(".")))),
];

function editDistance(a: string, b: string): number {
  let prev = Array.from({length: b.length + 1}, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

/** The closest known name to `name` (case-insensitive, at most 2 edits away), if any. */
export function suggest(name: string, candidates: readonly string[]): string | undefined {
  let best: {candidate: string; distance: number} | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = {candidate, distance};
  }
  return best?.candidate;
}

function unknownOptionMessage(path: string): string {
  const hint = suggest(path, KNOWN_PATHS);
  return hint === undefined ? "unknown option" : `unknown option (did you mean ${hint}?)`;
}

type Bounds = {minimum?: number; maximum?: number; exclusiveMinimum?: number; minLength?: number};

/** Operator-facing wording per TypeBox error type; anything unlisted keeps TypeBox's message. */
const MESSAGES: Partial<Record<ValueErrorType, (schema: Bounds) => string>> = {
  [ValueErrorType.Integer]: () => "must be an integer",
  [ValueErrorType.IntegerMinimum]: (s) => `must be at least ${s.minimum}`,
  [ValueErrorType.IntegerMaximum]: (s) => `must be at most ${s.maximum}`,
  [ValueErrorType.Number]: () => "must be a number",
  [ValueErrorType.NumberMinimum]: (s) => `must be at least ${s.minimum}`,
  [ValueErrorType.NumberMaximum]: (s) => `must be at most ${s.maximum}`,
  [ValueErrorType.NumberExclusiveMinimum]: (s) => `must be greater than ${s.exclusiveMinimum}`,
  [ValueErrorType.Boolean]: () => "must be true or false",
  [ValueErrorType.String]: () => "must be a string",
  [ValueErrorType.StringMinLength]: (s) => `must be at least ${s.minLength} character(s) long`,
  [ValueErrorType.Object]: () => "must be an object",
  [ValueErrorType.StringMaxLength]: () => "is too long",
  // The only patterned strings are stake amounts.
  [ValueErrorType.StringPattern]: () => "must be a decimal amount of base units (no sign, no leading zeros)",
  [ValueErrorType.Array]: () => "must be a JSON array",
  [ValueErrorType.ObjectRequiredProperty]: () => "is required",
};

function describeValueError(error: ValueError, path: string): string {
  if (error.type === ValueErrorType.ObjectAdditionalProperties) return unknownOptionMessage(path);
  const got = ` (got ${JSON.stringify(error.value) ?? String(error.value)})`;
  if (KindGuard.IsUnion(error.schema)) return describeUnionError(error.schema.anyOf, error.value, path, got);
  const describe = MESSAGES[error.type];
  return (describe === undefined ? error.message : describe(error.schema as Bounds)) + got;
}

/** `null`, `"auto"`, `{"cert": …, "key": …}`: how a union member is written in a message. */
function describeMember(member: TSchema): string {
  if (KindGuard.IsLiteral(member)) return JSON.stringify(member.const);
  if (KindGuard.IsNull(member)) return "null";
  if (KindGuard.IsObject(member)) return `{${Object.keys(member.properties).map((k) => `"${k}": …`).join(", ")}}`;
  return "?";
}

/** An object given for a union with an object member (`http.tls`) gets that member's first problem. */
function describeUnionError(members: readonly TSchema[], value: unknown, path: string, got: string): string {
  const objectMember = members.find((member) => KindGuard.IsObject(member));
  if (objectMember !== undefined && typeof value === "object" && value !== null && !Array.isArray(value)) {
    const first = Value.Errors(objectMember, value).First();
    if (first !== undefined) {
      const sub = first.path.split("/").slice(1).join(".");
      return `${sub === "" ? "" : `${sub}: `}${describeValueError(first, `${path}.${sub}`)}`;
    }
  }
  return `must be one of ${members.map(describeMember).join(", ")}${got}`;
}

/** Schema problems of one layer, at most one per path. */
export function layerSchemaProblems(layer: ConfigLayer): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const error of Value.Errors(LAYER_SCHEMA, layer.values)) {
    const path = error.path.split("/").slice(1).join(".");
    if (seen.has(path)) continue;
    seen.add(path);
    const message = describeValueError(error, path);
    problems.push({source: layer.source, origin: originOf(layer, path), path, message});
  }
  return problems;
}

const NETWORK_BY_ID = new Map(Object.entries(NETWORK_IDS).map(([name, id]) => [id as number, name as NetworkName]));

function isNetworkName(value: unknown): value is NetworkName {
  return typeof value === "string" && Object.hasOwn(NETWORK_IDS, value);
}

function describeNetworks(): string {
  return Object.entries(NETWORK_IDS)
    .map(([name, id]) => `${id} (${name})`)
    .join(", ");
}

/**
 * PIP-0007: a layer that sets `network` or `networkId` sets both. If it sets only one, the other is
 * derived; if it sets both, they must agree. A later layer then replaces the pair as a whole.
 */
export function resolveLayerNetwork(layer: ConfigLayer): ConfigProblem[] {
  const {network, networkId} = layer.values;
  const problem = (path: string, message: string): ConfigProblem[] => [
    {source: layer.source, origin: originOf(layer, path), path, message},
  ];
  if (typeof networkId === "number" && Number.isInteger(networkId)) {
    const named = NETWORK_BY_ID.get(networkId);
    if (named === undefined) return problem("networkId", `must be one of ${describeNetworks()} (got ${networkId})`);
    if (network === undefined) layer.values.network = named;
    else if (isNetworkName(network) && network !== named) {
      const from = layer.source === "file" ? "" : ` from ${originOf(layer, "network")}`;
      return problem("networkId", `${networkId} is ${named}, which conflicts with network "${network}"${from}`);
    }
  } else if (isNetworkName(network) && networkId === undefined) {
    layer.values.networkId = NETWORK_IDS[network];
  }
  return [];
}

/** Final guard on the merged result; any hit here is a bug in the layer checks, reported anyway. */
export function mergedProblems(config: unknown): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const error of Value.Errors(CONFIG_SCHEMA, config)) {
    const path = error.path.split("/").slice(1).join(".");
    problems.push({source: "default", origin: "", path, message: describeValueError(error, path)});
  }
  return problems;
}
