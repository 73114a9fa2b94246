/** Help of `pars-storage client` (also shown by `pars-storage help client`). */
export const CLIENT_USAGE =
  "pars-storage client keygen --out FILE [--type 05|07] [--json]\n" +
  "       pars-storage client store --key FILE --to ACCOUNT_ID (--text T | --data-file F) [--ttl MS] [--namespace N] [--direct] --seed URL... [--json]\n" +
  "       pars-storage client retrieve --key FILE [--namespace N] [--direct] --seed URL...\n" +
  "       pars-storage client watch --key FILE [--namespace N] --seed URL...";

export const CLIENT_SUMMARY =
  "Use the network as a client (docs/client.md). keygen creates an account key file (mode 0600, never\n" +
  "overwritten; 07 = ML-DSA-65 + ML-KEM-768, the default, or 05 = Ed25519 Session ID) and prints its\n" +
  "account ID. store sends a message to ACCOUNT_ID's swarm (namespace 0, the public inbox, by default)\n" +
  "and prints its hash and how many swarm members confirmed it with a receipt that verifies against\n" +
  "their keys from the membership (a receipt that does not verify is an error, exit 1). retrieve prints\n" +
  "your messages, one JSON object per line. watch prints messages pushed to you as they arrive, until\n" +
  "Ctrl-C. The node list comes from the --seed nodes (repeatable; pars://host:port, tried as https then http, or http(s)://…); TLS nodes are reached with the pin their list entry carries.";

export const CLIENT_FLAG_HELP = [
  "  --seed <url>   (client) a node to bootstrap from; repeatable (env PARS_STORAGE_SEEDS: comma-separated)",
  "  --key <file>, --out <file>, --type <05|07>   (client) account key file to use / create, and its type",
  "  --to <account>, --text <t>, --data-file <f>, --ttl <ms>, --namespace <n>   (client store/retrieve/watch)",
  "  --direct, --json, --timeout-ms <ms>   (client) no onion path; JSON output; per-request deadline",
];

export function clientHelpText(): string {
  return [`Usage: ${CLIENT_USAGE}`, "", CLIENT_SUMMARY, "", "Flags:", ...CLIENT_FLAG_HELP].join("\n");
}
