import {UsageError} from "../errors.js";

/**
 * Arguments of `pars-storage client <subcommand> …`. They are not config options (the client has
 * no node config), so they get their own small parser: `--name value` or `--name=value`, booleans
 * bare, `--seed` repeatable; every problem is reported at once.
 */
export const CLIENT_SUBCOMMANDS = ["keygen", "store", "retrieve", "watch"] as const;
export type ClientSubcommand = (typeof CLIENT_SUBCOMMANDS)[number];

type Kind = "value" | "boolean" | "repeat";
const COMMON: Record<string, Kind> = {json: "boolean", help: "boolean"};
const NETWORK: Record<string, Kind> = {seed: "repeat", direct: "boolean", "timeout-ms": "value"};

export const CLIENT_FLAGS: Readonly<Record<ClientSubcommand, Readonly<Record<string, Kind>>>> = {
  keygen: {...COMMON, out: "value", type: "value"},
  store: {...COMMON, ...NETWORK, key: "value", to: "value", text: "value", "data-file": "value", ttl: "value", namespace: "value"},
  retrieve: {...COMMON, ...NETWORK, key: "value", namespace: "value"},
  watch: {...COMMON, ...NETWORK, key: "value", namespace: "value"},
};

export interface ClientArgs {
  readonly sub: ClientSubcommand | null;
  readonly values: Readonly<Record<string, string>>;
  readonly seeds: readonly string[];
  readonly bools: ReadonlySet<string>;
}

function isSub(word: string): word is ClientSubcommand {
  return (CLIENT_SUBCOMMANDS as readonly string[]).includes(word);
}

/** Parses the words after `client`; `--help` anywhere yields `{sub, bools: {help}}` without checks. */
export function parseClientArgs(argv: readonly string[]): ClientArgs {
  const [first, ...rest] = argv;
  const problems: string[] = [];
  const sub = first !== undefined && isSub(first) ? first : null;
  const values: Record<string, string> = {};
  const seeds: string[] = [];
  const bools = new Set<string>();
  if (argv.includes("--help") || argv.includes("-h")) return {sub, values, seeds, bools: new Set(["help"])};
  if (sub === null) {
    problems.push(first === undefined ? "client: missing subcommand (keygen, store, retrieve, watch)" : `client: unknown subcommand "${first}"`);
    throw new UsageError(problems);
  }
  const flags = CLIENT_FLAGS[sub];
  for (let i = 0; i < rest.length; i++) {
    const token = rest[i] ?? "";
    if (!token.startsWith("--")) {
      problems.push(`unexpected argument: ${token}`);
      continue;
    }
    const eq = token.indexOf("=");
    const name = token.slice(2, eq === -1 ? undefined : eq);
    const kind = flags[name];
    if (kind === undefined) {
      problems.push(`unknown flag --${name} for client ${sub}`);
      continue;
    }
    if (kind === "boolean") {
      if (eq === -1 || token.slice(eq + 1) !== "false") bools.add(name);
      continue;
    }
    let value = eq === -1 ? rest[i + 1] : token.slice(eq + 1);
    if (eq === -1) i++;
    if (value === undefined || (eq === -1 && value.startsWith("--"))) {
      problems.push(`flag --${name} needs a value`);
      if (value !== undefined) i--;
      value = undefined;
    }
    if (value === undefined) continue;
    if (kind === "repeat") seeds.push(value);
    else values[name] = value;
  }
  if (problems.length > 0) throw new UsageError(problems);
  return {sub, values, seeds, bools};
}

/** A required value or a usage error naming it. */
export function required(args: ClientArgs, name: string): string {
  const v = args.values[name];
  if (v === undefined) throw new UsageError([`client ${args.sub ?? ""}: --${name} is required`]);
  return v;
}

/** An optional integer flag within [min, max]. */
export function intFlag(args: ClientArgs, name: string, min: number, max: number): number | undefined {
  const v = args.values[name];
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError([`--${name} must be an integer from ${min} to ${max}, got "${v}"`]);
  }
  return n;
}
