import {CONFIG_FILE_ENV, CONFIG_LEAVES, type ConfigLeaf} from "../config/index.js";
import type {CommandName} from "./args.js";

interface CommandHelp {
  readonly usage: string;
  /** One line for the command list. */
  readonly brief: string;
  /** The paragraph shown by `help <command>`. */
  readonly summary: string;
}

export const COMMAND_HELP: Readonly<Record<CommandName, CommandHelp>> = {
  start: {
    usage: "pars-storage start [flags]",
    brief: "Run the storage node",
    summary:
      "Run the storage node. Prints one line when listening; SIGINT/SIGTERM close it gracefully\n" +
      "(a second signal exits at once).",
  },
  keygen: {
    usage: "pars-storage keygen [flags]",
    brief: "Create the node identity if missing and print the node ID",
    summary:
      "Create the node identity (ML-DSA-65 + ML-KEM-768) in <dataDir>/staking/signer.key if it does\n" +
      "not exist (an existing key file is never overwritten), then print the node ID.",
  },
  id: {
    usage: "pars-storage id [--full] [flags]",
    brief: "Print the node ID and public-key fingerprints",
    summary:
      "Print the node ID and the SHA-256 fingerprints of the ML-DSA-65 and ML-KEM-768 public keys\n" +
      "(--full: the whole public keys in hex). Fails if there is no key file.",
  },
  help: {usage: "pars-storage help [command]", brief: "Show help for all commands or one", summary: "Show help."},
};

function valueHint(leaf: ConfigLeaf): string {
  switch (leaf.kind) {
    case "boolean":
      return "[=true|false]";
    case "enum":
      return `<${leaf.values.join("|")}>`;
    default:
      return `<${leaf.kind}>`;
  }
}

/** `--http-port, --http.port <integer>` + description + default and env var. */
export function describeFlag(leaf: ConfigLeaf): string {
  const names = [...leaf.flags].reverse().map((flag) => `--${flag}`);
  return [
    `  ${names.join(", ")} ${valueHint(leaf)}`,
    `      ${leaf.description}`,
    `      default: ${JSON.stringify(leaf.defaultValue)}   env: ${leaf.env}`,
  ].join("\n");
}

const CONFIG_FLAG_HELP = [
  "  --config <path>",
  "      JSON config file (an explicit file must exist)",
  `      default: <dataDir>/config.json if it exists   env: ${CONFIG_FILE_ENV}`,
].join("\n");

const FULL_FLAG_HELP = ["  --full", "      id: print whole public keys instead of fingerprints"];

const PRECEDENCE =
  "Precedence: defaults < config file < environment < flags. Every option can be set with " +
  "--<dotted.path>=<value> or PARS_STORAGE_<PATH_IN_UPPER_SNAKE_CASE> (see docs/configuration.md).";

/** The help text; `topic` narrows the header to one command. Defaults are read from the schema. */
export function helpText(topic: CommandName | null = null): string {
  const commands =
    topic === null
      ? ["Usage: pars-storage <command> [flags]", "", "Commands:", ...Object.entries(COMMAND_HELP).map(commandLine)]
      : [`Usage: ${COMMAND_HELP[topic].usage}`, "", COMMAND_HELP[topic].summary];
  return [
    ...commands,
    "",
    "Flags:",
    "  -h, --help",
    "      Show this help",
    ...(topic === null || topic === "id" ? FULL_FLAG_HELP : []),
    CONFIG_FLAG_HELP,
    ...CONFIG_LEAVES.map(describeFlag),
    "",
    PRECEDENCE,
    "Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.",
  ].join("\n");
}

function commandLine([name, help]: [string, CommandHelp]): string {
  return `  ${name.padEnd(8)}${help.brief}`;
}
