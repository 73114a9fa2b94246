import {ParseError} from "./errors.js";
import {NAMESPACE_MAX, NAMESPACE_MIN} from "../protocol/index.js";

/**
 * Typed parameter loading with Session's rules and error texts (client_rpc_endpoints.cpp).
 * Session type-checks every field a method knows, in alphabetical order, before any semantic
 * check; `loadFields` does the same so the first error reported is the same one Session reports.
 */
export type FieldType =
  | "string"
  | "bool"
  | "uint"
  | "int"
  | "timestamp"
  | "namespace"
  | "namespaceOrAll"
  | "stringArray"
  | "intArray"
  | "timestampArray";

export type Params = Record<string, unknown>;

const TYPE_DESC: Record<FieldType, string> = {
  string: "string",
  bool: "boolean",
  uint: "positive integer",
  int: "integer",
  timestamp: "integer timestamp (in milliseconds)",
  namespace: "16-bit integer",
  namespaceOrAll: 'integer or "all"',
  stringArray: "string array",
  intArray: "integer array",
  timestampArray: "timestamp array",
};

/** Timestamps below this many ms (1,000,000 s) were almost surely sent in seconds. */
const MIN_TIMESTAMP_MS = 1_000_000_000;

const isInt = (v: unknown): v is number => typeof v === "number" && Number.isSafeInteger(v);
const isUint = (v: unknown): v is number => isInt(v) && v >= 0;

function rightType(v: unknown, type: FieldType): boolean {
  switch (type) {
    case "string":
      return typeof v === "string";
    case "bool":
      return typeof v === "boolean";
    case "uint":
    case "timestamp":
      return isUint(v);
    case "int":
    case "namespace":
      return isInt(v);
    case "namespaceOrAll":
      return isInt(v) || typeof v === "string";
    case "stringArray":
      return typeof v === "string" || (Array.isArray(v) && v.every((x) => typeof x === "string"));
    case "intArray":
      return isInt(v) || (Array.isArray(v) && v.every(isInt));
    case "timestampArray":
      return isUint(v) || (Array.isArray(v) && v.every(isUint));
  }
}

function convert(name: string, v: unknown, type: FieldType): unknown {
  switch (type) {
    case "timestamp":
      if ((v as number) < MIN_TIMESTAMP_MS) {
        throw new ParseError(`Invalid timestamp for '${name}': timestamp must be in milliseconds`);
      }
      return v;
    case "namespace":
    case "namespaceOrAll":
      return convertNamespace(name, v, type);
    case "stringArray":
    case "intArray":
    case "timestampArray":
      return Array.isArray(v) ? v : [v];
    default:
      return v;
  }
}

function convertNamespace(name: string, v: unknown, type: FieldType): number | "all" {
  if (typeof v === "number") {
    if (v < NAMESPACE_MIN || v > NAMESPACE_MAX) {
      throw new ParseError(`Invalid value given for '${name}': value out of range`);
    }
    return v;
  }
  if (type === "namespaceOrAll" && v === "all") return "all";
  throw new ParseError(`Invalid value given for '${name}': expected integer or "all"`);
}

/** Loads one field: undefined when absent or null; throws Session's error when mistyped. */
export function loadField<T>(params: Params, name: string, type: FieldType): T | undefined {
  const v = params[name];
  if (v === undefined || v === null) return undefined;
  if (!rightType(v, type)) {
    throw new ParseError(`Invalid value given for '${name}': expected ${TYPE_DESC[type]}`);
  }
  return convert(name, v, type) as T;
}

/** Type-checks every field of `spec` in alphabetical order (Session's order) and returns them. */
export function loadFields(params: Params, spec: Record<string, FieldType>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(spec).sort()) {
    out[name] = loadField(params, name, spec[name] as FieldType);
  }
  return out;
}

/**
 * `timestamp` and `ttl` of `store` may also be stringified integers (legacy clients); then the
 * milliseconds sanity check is skipped, as in Session.
 */
export function loadStringifiedInt(params: Params, name: string, unsigned: boolean): number | undefined {
  const v = params[name];
  if (typeof v === "string") {
    const re = unsigned ? /^[0-9]+$/ : /^-?[0-9]+$/;
    const n = Number(v);
    if (re.test(v) && Number.isSafeInteger(n)) return n;
    throw new ParseError(`Invalid value given for '${name}': ${JSON.stringify(v)}`);
  }
  return loadField<number>(params, name, unsigned ? "uint" : "int");
}

/** Whether `v` nests objects or arrays more than `max` levels deep. Iterative: hostile depth cannot overflow it. */
export function nestedDeeperThan(v: unknown, max: number): boolean {
  const stack: Array<{value: object; depth: number}> = [];
  if (typeof v === "object" && v !== null) stack.push({value: v, depth: 1});
  for (let top = stack.pop(); top !== undefined; top = stack.pop()) {
    if (top.depth > max) return true;
    const children: unknown[] = Array.isArray(top.value) ? (top.value as unknown[]) : Object.values(top.value);
    for (const child of children) {
      if (typeof child === "object" && child !== null) stack.push({value: child, depth: top.depth + 1});
    }
  }
  return false;
}

export function requireField<T>(name: string, v: T | undefined): T {
  if (v === undefined) throw new ParseError(`Required field '${name}' missing`);
  return v;
}

export function requireAtMostOneOf(first: string, a: unknown, second: string, b: unknown): void {
  if (a !== undefined && b !== undefined) {
    throw new ParseError(`Cannot specify both '${first}' and '${second}'`);
  }
}

/** Exactly one of two fields; `alias` means the second is an alias and only the first is named. */
export function requireExactlyOneOf<T>(first: string, a: T | undefined, second: string, b: T | undefined, alias = false): T {
  requireAtMostOneOf(first, a, second, b);
  const v = a ?? b;
  if (v === undefined) {
    throw new ParseError(alias ? `Required field '${first}' missing` : `Required field '${first}' or '${second}' missing`);
  }
  return v;
}
