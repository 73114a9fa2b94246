import {CONFIG_FLAG, type ConfigLeaf, leafForFlag} from "../config/index.js";
import {UsageError} from "./errors.js";

export const COMMANDS = ["start", "keygen", "id", "record", "devnet", "audit", "status", "client", "help"] as const;
export type CommandName = (typeof COMMANDS)[number];

/** Flags that are not config leaves. */
export const HELP_FLAG = "help";
export const FULL_FLAG = "full";

export interface ParsedArgs {
  readonly command: CommandName;
  /** Set for `help <command>` and `<command> --help`. */
  readonly helpTopic: CommandName | null;
  /** Config flags for `loadConfig` (name without `--` → string, or `true` for a bare boolean flag). */
  readonly flags: Readonly<Record<string, string | true>>;
  /** `id --full`: print whole public keys instead of fingerprints. */
  readonly full: boolean;
  /** The command's own flags (`COMMAND_FLAGS`), e.g. devnet's `nodes`; empty for most commands. */
  readonly options: Readonly<Record<string, string | true>>;
  /** `client …`: the words after `client`, parsed by the client command itself (its flags are not config). */
  readonly rest?: readonly string[];
}

type FlagKind = "value" | "boolean";

/** Flags that belong to one command and are not config options. */
export const COMMAND_FLAGS: Readonly<Record<string, {readonly command: CommandName | readonly CommandName[]; readonly kind: FlagKind}>> = {
  [FULL_FLAG]: {command: "id", kind: "boolean"},
  nodes: {command: "devnet", kind: "value"},
  "base-dir": {command: "devnet", kind: "value"},
  mode: {command: "devnet", kind: "value"},
  "init-only": {command: "devnet", kind: "boolean"},
  hosts: {command: "devnet", kind: "value"},
  tls: {command: "devnet", kind: "boolean"},
  status: {command: "devnet", kind: "boolean"},
  "stop-node": {command: "devnet", kind: "value"},
  "start-node": {command: "devnet", kind: "value"},
  "kill-node": {command: "devnet", kind: "value"},
  node: {command: "audit", kind: "value"},
  message: {command: "audit", kind: "value"},
  data: {command: "audit", kind: "value"},
  account: {command: "audit", kind: "value"},
  namespace: {command: "audit", kind: "value"},
  "pubkey-mldsa": {command: "audit", kind: "value"},
  "pubkey-mlkem": {command: "audit", kind: "value"},
  "node-id": {command: "audit", kind: "value"},
  key: {command: "audit", kind: "value"},
  evidence: {command: "audit", kind: "value"},
  "timeout-ms": {command: "audit", kind: "value"},
  "committed-by": {command: "audit", kind: "value"},
  slashing: {command: "audit", kind: "value"},
  "penalties-from": {command: "audit", kind: "value"},
  accused: {command: "audit", kind: "value"},
  epoch: {command: "audit", kind: "value"},
  membership: {command: "audit", kind: "value"},
  url: {command: "status", kind: "value"},
  "tls-pin": {command: ["status", "audit"], kind: "value"},
  devnet: {command: "status", kind: "value"},
  json: {command: "status", kind: "boolean"},
};


/** How a flag takes its value: booleans only by `=`, everything else also from the next token. */
function flagKind(name: string): FlagKind | undefined {
  if (name === CONFIG_FLAG) return "value";
  if (name === HELP_FLAG) return "boolean";
  const own = COMMAND_FLAGS[name];
  if (own !== undefined) return own.kind;
  const leaf: ConfigLeaf | undefined = leafForFlag(name);
  if (leaf === undefined) return undefined;
  return leaf.kind === "boolean" ? "boolean" : "value";
}

function isCommand(word: string): word is CommandName {
  return (COMMANDS as readonly string[]).includes(word);
}

interface Scan {
  positionals: string[];
  flags: Record<string, string | true>;
  problems: string[];
}

/** Reads `--name=value`, `--name value` and bare boolean flags; collects every problem. */
function scan(argv: readonly string[]): Scan {
  const out: Scan = {positionals: [], flags: {}, problems: []};
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] ?? "";
    if (token === "--") {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (token === "-h") out.flags[HELP_FLAG] = true;
    else if (!token.startsWith("-") || token === "-") out.positionals.push(token);
    else if (!token.startsWith("--")) out.problems.push(`unknown flag ${token}`);
    else i = scanFlag(argv, i, out);
  }
  return out;
}

/** Handles the flag at `argv[i]`; returns the index of the last token it consumed. */
function scanFlag(argv: readonly string[], i: number, out: Scan): number {
  const token = argv[i] ?? "";
  const eq = token.indexOf("=");
  const name = token.slice(2, eq === -1 ? undefined : eq);
  const kind = flagKind(name);
  if (kind === undefined) {
    out.problems.push(`unknown flag --${name}`);
    return i;
  }
  if (eq !== -1) {
    out.flags[name] = token.slice(eq + 1);
    return i;
  }
  if (kind === "boolean") {
    out.flags[name] = true;
    return i;
  }
  const next = argv[i + 1];
  if (next === undefined || next.startsWith("--")) {
    out.problems.push(`flag --${name} needs a value`);
    return i;
  }
  out.flags[name] = next;
  return i + 1;
}

/**
 * Parses `pars-storage <command> [flags]`. Flags may come before or after the command; a repeated
 * flag keeps its last value. Unknown commands and flags are reported together in one `UsageError`,
 * unless `--help` is present (then help is shown for whatever command was named).
 */
export function parseCliArgs(argv: readonly string[]): ParsedArgs {
  if (argv[0] === "client") return {command: "client", helpTopic: null, flags: {}, full: false, options: {}, rest: argv.slice(1)};
  const {positionals, flags, problems} = scan(argv);
  const [first, ...rest] = positionals;
  const help = flags[HELP_FLAG] !== undefined;
  delete flags[HELP_FLAG];
  const options = takeCommandFlags(flags);
  const full = options[FULL_FLAG] !== undefined && options[FULL_FLAG] !== "false";

  if (first !== undefined && !isCommand(first)) problems.push(`unknown command "${first}"`);
  const command = first !== undefined && isCommand(first) ? first : undefined;
  if (help) return {command: "help", helpTopic: command === "help" ? null : (command ?? null), flags, full, options};
  if (command === "help") return parseHelpCommand(rest, flags, problems);
  if (command === undefined && first === undefined) problems.push("missing command");
  if (rest.length > 0) problems.push(`unexpected argument${rest.length > 1 ? "s" : ""}: ${rest.join(" ")}`);
  for (const name of Object.keys(options)) {
    const owners = [COMMAND_FLAGS[name]?.command ?? []].flat();
    if (command === undefined || !owners.includes(command)) problems.push(`--${name} only applies to the ${owners.join(" and ")} command${owners.length > 1 ? "s" : ""}`);
  }
  if (problems.length > 0 || command === undefined) throw new UsageError(problems);
  return {command, helpTopic: null, flags, full, options};
}

/** Moves the command flags out of `flags` (which then holds config flags only). */
function takeCommandFlags(flags: Record<string, string | true>): Record<string, string | true> {
  const options: Record<string, string | true> = {};
  for (const name of Object.keys(COMMAND_FLAGS)) {
    const value = flags[name];
    if (value === undefined) continue;
    options[name] = value;
    delete flags[name];
  }
  return options;
}

function parseHelpCommand(rest: string[], flags: Record<string, string | true>, problems: string[]): ParsedArgs {
  const [topic, ...extra] = rest;
  if (topic !== undefined && !isCommand(topic)) problems.push(`unknown command "${topic}"`);
  if (extra.length > 0) problems.push(`unexpected argument${extra.length > 1 ? "s" : ""}: ${extra.join(" ")}`);
  if (problems.length > 0) throw new UsageError(problems);
  const helpTopic = topic !== undefined && isCommand(topic) && topic !== "help" ? topic : null;
  return {command: "help", helpTopic, flags, full: false, options: {}};
}
