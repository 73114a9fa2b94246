import {CONFIG_FILE_ENV, CONFIG_LEAVES, type ConfigLeaf} from "../config/index.js";
import type {CommandName} from "./args.js";
import {CLIENT_FLAG_HELP, CLIENT_SUMMARY, CLIENT_USAGE} from "./commands/client-help.js";

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
      "Create the node identity (ML-DSA-65 + ML-KEM-768) in <dataDir>/staking/pq-identity.key and the BLS\n" +
      "key (luxd's format) in <dataDir>/staking/signer.key if they do not exist (an existing key file is\n" +
      "never overwritten; an older release's signer.key identity is moved first), then print the node ID.",
  },
  id: {
    usage: "pars-storage id [--full] [flags]",
    brief: "Print the node ID and public-key fingerprints",
    summary:
      "Print the node ID, the SHA-256 fingerprints of the ML-DSA-65 and ML-KEM-768 public keys\n" +
      "(--full: the whole public keys in hex) and the BLS public key (--full: and its proof of\n" +
      "possession). Fails if there is no key file.",
  },
  record: {
    usage: "pars-storage record [flags]",
    brief: "Print this node's signed node record (JSON) for a registry",
    summary:
      "Print this node's node record (docs/PROTOCOL.md Swarms §3), signed with its ML-DSA-65 key: keys from\n" +
      "<dataDir>/staking/{pq-identity.key,signer.key}, host from node.publicHost (else http.bind), port from http.port,\n" +
      "stake from node.stake.*, network from networkId. Fails if the record would be rejected.",
  },
  devnet: {
    usage:
      "pars-storage devnet --nodes N [--base-dir DIR] [--mode pip0008|balanced] [--tls] [--init-only --hosts H1[:PORT],...]\n" +
      "       pars-storage devnet --base-dir DIR --status|--stop-node N|--start-node N|--kill-node N",
    brief: "Run N local nodes in swarms (static membership) until Ctrl-C",
    summary:
      "Create N node directories with keys under --base-dir (default: a new temp dir), start N nodes on\n" +
      "127.0.0.1 with OS-chosen ports, write one signed static membership (membership.json) with their\n" +
      "records, print each node's URL, node ID and swarm, and stop them all on Ctrl-C (exit 0). A node that\n" +
      "exits on its own is restarted in place (same key, data dir and port) with back-off; the others keep\n" +
      "running. --status/--stop-node/--start-node/--kill-node with the same --base-dir control a running\n" +
      "devnet: a node stopped (SIGTERM) or killed (SIGKILL) that way stays down until --start-node.\n" +
      "--init-only writes the layout for the given --hosts (port default 22025) without starting anything\n" +
      "(docker/docker-compose.yml uses it). Extra config flags apply to every node.",
  },
  audit: {
    usage:
      "pars-storage audit --node URL [--tls-pin HEX] --message HASH --data FILE [--account HEX --namespace N] [flags]\n" +
      "       pars-storage audit --slashing FILE\n" +
      "       pars-storage audit --penalties-from URL[,URL...] --accused ID --epoch N --membership FILE [--evidence OUT]",
    brief: "Challenge a node for a stored message and verify its signed answer",
    summary:
      "Send a signed StorageChallenge (docs/PROTOCOL.md (Storage proofs)) for a message you stored to the node at\n" +
      "--node, verify the signed answer, its inclusion path and the StorageProof it refers to against the node's\n" +
      "keys (--pubkey-mldsa/--pubkey-mlkem, else taken from the node's own membership or get_swarm entry and\n" +
      "checked against --node-id if given), print the verdict and write the evidence bundle. Exit 0 on a pass.\n" +
      "With --slashing, verify a slashing report bundle offline (the reporters' node records, their BLS proofs of\n" +
      "possession, then the aggregate signature); with --penalties-from, collect the penalty reports about one\n" +
      "node and epoch from those nodes (GET /proof/v1/penalties), aggregate them with the reporters' records\n" +
      "from the membership file, verify and write the bundle. Exit 0 when the slashing report verifies.",
  },
  status: {
    usage: "pars-storage status [--url URL [--tls-pin HEX]] [--json] [flags]\n       pars-storage status --devnet DIR [--json]",
    brief: "Print a node's status (what GET /status shows), or a table for every node of a devnet",
    summary:
      "Print a running node's status from its GET /status/v1: node ID, network, readiness, messages and\n" +
      "storage against the limit, swarm members and their reachability, storage proofs, fee multiplier and\n" +
      "network health. Without --url it asks the node of this configuration (http.bind, http.port, and the\n" +
      "pin of http.tls). --devnet DIR prints one row per node of the devnet in DIR (from its membership.json).\n" +
      "--json prints the summary as JSON. Exit 0 when every node answered and is ready, else 1.",
  },
  client: {usage: CLIENT_USAGE, brief: "Client: keygen, store, retrieve, watch (docs/client.md)", summary: CLIENT_SUMMARY},
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

const DEVNET_FLAG_HELP = [
  "  --nodes <integer>",
  "      devnet: how many nodes (1-50)",
  "  --base-dir <path>",
  "      devnet: where node directories and membership.json go (default: a new temp dir)",
  "  --mode <pip0008|balanced>",
  "      devnet: swarm mode of every node (default: swarm.mode, normally pip0008)",
  "  --init-only, --hosts <host[:port],...>",
  "      devnet: only write keys, configs and membership for these hosts (one per node)",
  "  --tls",
  "      devnet: every node serves HTTPS with a self-signed certificate (http.tls \"auto\"), pinned in its record",
  "  --status, --stop-node <n>, --start-node <n>, --kill-node <n>",
  "      devnet: list the running devnet's nodes, or stop / start / kill node n (1-based) of it",
];

const AUDIT_FLAG_HELP = [
  "  --node <url>, --message <hash>, --data <file>",
  "      audit: the node's base URL, the message hash, and a file with the message data (raw bytes)",
  "  --tls-pin <64 hex>",
  "      audit: the https node's TLS pin (its record's tls.spkiSha256); --penalties-from instead",
  "      takes each https node's pin from its record in --membership",
  "  --account <66 hex>, --namespace <integer>",
  "      audit: the message's account and namespace (default: the answer's, checked against the hash)",
  "  --pubkey-mldsa <base64|hex>, --pubkey-mlkem <base64|hex>, --node-id <64 hex>",
  "      audit: the node's public keys, or the node ID its self-reported keys must match",
  "  --key <file>, --evidence <file>, --timeout-ms <integer>, --committed-by <unix ms>",
  "      audit: challenger key file (default: a throwaway key), evidence output (default:",
  "      ./pars-audit-<node>-<time>.json), answer deadline (10000), and the time from which the",
  "      node's proof must contain the message (an 'uncommitted' answer is then a failure)",
  "  --slashing <file>",
  "      audit: verify a slashing report bundle ({slashingReport, records}) instead of challenging",
  "  --penalties-from <url,...>, --accused <64 hex>, --epoch <integer>, --membership <file>",
  "      audit: build that bundle from the nodes' penalty reports and the membership document's records",
];

const STATUS_FLAG_HELP = [
  "  --url <url>, --tls-pin <64 hex>",
  "      status: the node's base URL (default: this configuration's node) and, for https, its TLS pin",
  "  --devnet <dir>, --json",
  "      status: a table for every node of the devnet in dir; the summary as JSON instead of text",
];

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
    ...(topic === null || topic === "devnet" ? DEVNET_FLAG_HELP : []),
    ...(topic === null || topic === "audit" ? AUDIT_FLAG_HELP : []),
    ...(topic === null || topic === "status" ? STATUS_FLAG_HELP : []),
    ...(topic === null || topic === "client" ? CLIENT_FLAG_HELP : []),
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
