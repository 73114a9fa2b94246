import {readFile} from "node:fs/promises";
import {
  ParsClient,
  generateAccount,
  initHashing,
  nobleBackend,
  readClientKeyFile,
  writeClientKeyFile,
  type PushedMessage,
  type StoredMessage,
} from "../../client/index.js";
import type {ParsedArgs} from "../args.js";
import {CommandError, EXIT_OK, UsageError} from "../errors.js";
import type {CliIo} from "../io.js";
import {clientHelpText} from "./client-help.js";
import {intFlag, parseClientArgs, required, type ClientArgs} from "./client-args.js";

/** Seeds when no --seed is given: comma-separated URLs. */
export const CLIENT_SEEDS_ENV = "PARS_STORAGE_SEEDS";
const NAMESPACE_RANGE = [-32768, 32767] as const;

/**
 * `pars-storage client keygen|store|retrieve|watch`: the client library (src/client/) from the
 * command line. Results go to stdout (one line, or one JSON object per line with --json and for
 * messages); progress and warnings to stderr. noble is the PQ backend: a command signs and
 * verifies a handful of times, less than liboqs' start-up self-test would cost.
 */
export async function clientCommand(parsed: ParsedArgs, io: CliIo): Promise<number> {
  const args = parseClientArgs(parsed.rest ?? []);
  if (args.bools.has("help")) {
    io.stdout(clientHelpText());
    return EXIT_OK;
  }
  await initHashing();
  switch (args.sub) {
    case "keygen":
      return keygen(args, io);
    case "store":
      return withClient(args, io, (c) => store(c, args, io));
    case "retrieve":
      return withClient(args, io, (c) => retrieve(c, args, io));
    case "watch":
      return withClient(args, io, (c) => watch(c, args, io));
    default:
      throw new UsageError(["client: missing subcommand"]);
  }
}

async function keygen(args: ClientArgs, io: CliIo): Promise<number> {
  const out = required(args, "out");
  const type = args.values.type ?? "07";
  if (type !== "05" && type !== "07") throw new UsageError([`--type must be 05 or 07, got "${type}"`]);
  const account = generateAccount(type, nobleBackend);
  await writeClientKeyFile(out, account);
  io.stderr(`pars-storage: created a ${type} account key in ${out} (mode 0600)`);
  io.stdout(args.bools.has("json") ? JSON.stringify({account_id: account.id, type, key_file: out}) : account.id);
  return EXIT_OK;
}

async function withClient(args: ClientArgs, io: CliIo, run: (c: ParsClient) => Promise<number>): Promise<number> {
  const seeds = args.seeds.length > 0 ? args.seeds : (io.env[CLIENT_SEEDS_ENV] ?? "").split(",").filter((s) => s !== "");
  if (seeds.length === 0) throw new UsageError([`client ${args.sub ?? ""}: give at least one --seed URL (or ${CLIENT_SEEDS_ENV})`]);
  const timeoutMs = intFlag(args, "timeout-ms", 100, 600_000);
  const client = await ParsClient.init({seeds, direct: args.bools.has("direct"), ...(timeoutMs === undefined ? {} : {timeoutMs})}, {pq: nobleBackend});
  io.stderr(`pars-storage: ${client.directory.nodes.length} nodes known; requests take ${client.onion ? "3-hop onion paths" : "direct connections"}`);
  try {
    return await run(client);
  } finally {
    await client.close();
  }
}

async function messageData(args: ClientArgs): Promise<Buffer> {
  const text = args.values.text;
  const file = args.values["data-file"];
  if ((text === undefined) === (file === undefined)) throw new UsageError(["client store: give exactly one of --text and --data-file"]);
  return text !== undefined ? Buffer.from(text, "utf8") : readFile(file as string);
}

async function store(client: ParsClient, args: ClientArgs, io: CliIo): Promise<number> {
  const me = await readClientKeyFile(required(args, "key"), client.pq);
  const to = required(args, "to");
  if (!/^[0-9a-f]{66}$/.test(to)) throw new UsageError([`--to must be a 66-hex account ID, got "${to}"`]);
  const namespace = intFlag(args, "namespace", ...NAMESPACE_RANGE);
  const ttlMs = intFlag(args, "ttl", 1, Number.MAX_SAFE_INTEGER);
  const data = await messageData(args);
  const result = await client.store({to, data, namespace, ttlMs}, me);
  const members = (await client.swarmOf(to)).length;
  const failed = result.failed.map((f) => ({node_id: f.nodeId, reason: f.entry.reason ?? null}));
  if (args.bools.has("json")) {
    io.stdout(JSON.stringify({hash: result.hash, confirmed: result.confirmed.length, members, confirmed_by: result.confirmed, failed, unverified: result.unverified}));
  } else {
    io.stdout(`${result.hash} confirmed by ${result.confirmed.length} of ${members} swarm members`);
  }
  for (const id of result.unverified) io.stderr(`pars-storage: warning: node ${id} is not in the membership; its entry is not counted`);
  if (result.confirmed.length === 0) throw new CommandError("no swarm member confirmed the store");
  return EXIT_OK;
}

function messageJson(m: StoredMessage | PushedMessage, namespace: number): string {
  const data = m.data ?? Buffer.alloc(0);
  const text = new TextDecoder("utf-8", {fatal: false}).decode(data);
  const utf8 = Buffer.from(text, "utf8").equals(data);
  return JSON.stringify({
    hash: m.hash,
    namespace,
    timestamp: m.timestamp,
    expiry: m.expiry,
    data: data.toString("base64"),
    ...(utf8 ? {text} : {}),
  });
}

async function retrieve(client: ParsClient, args: ClientArgs, io: CliIo): Promise<number> {
  const me = await readClientKeyFile(required(args, "key"), client.pq);
  const namespace = intFlag(args, "namespace", ...NAMESPACE_RANGE) ?? 0;
  const messages = await client.retrieveAll(me, {namespace});
  for (const m of messages) io.stdout(messageJson(m, namespace));
  io.stderr(`pars-storage: ${messages.length} message${messages.length === 1 ? "" : "s"} for ${me.id}`);
  return EXIT_OK;
}

async function watch(client: ParsClient, args: ClientArgs, io: CliIo): Promise<number> {
  const me = await readClientKeyFile(required(args, "key"), client.pq);
  const namespace = intFlag(args, "namespace", ...NAMESPACE_RANGE) ?? 0;
  let stop: (signal: string) => void = () => {};
  const stopped = new Promise<string>((resolve) => (stop = resolve));
  const sub = client.subscribe(me, {
    namespaces: [namespace],
    onMessage: (m) => io.stdout(messageJson(m, m.namespace)),
    onError: (err) => io.stderr(`pars-storage: warning: ${err.message}`),
    onState: (state, node) => io.stderr(`pars-storage: ${state}${node === null ? "" : ` (node ${node})`}`),
  });
  const onSignal = (signal: NodeJS.Signals): void => stop(signal);
  process.once("SIGINT", onSignal).once("SIGTERM", onSignal);
  // The library's timers are unref'd: while the subscription waits to reconnect, nothing else
  // would keep the process alive until Ctrl-C.
  const keepAlive = setInterval(() => undefined, 60_000);
  try {
    io.stderr(`pars-storage: watching ${me.id} namespace ${namespace}; Ctrl-C to stop`);
    await stopped;
    return EXIT_OK;
  } finally {
    clearInterval(keepAlive);
    process.off("SIGINT", onSignal).off("SIGTERM", onSignal);
    sub.close();
  }
}
