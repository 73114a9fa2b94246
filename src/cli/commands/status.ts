/**
 * `pars-storage status [--url URL] [--tls-pin HEX] [--json]`: a node's `GET /status/v1` summary
 * in the terminal (the facts the status page shows). Without `--url` it asks the node this
 * configuration describes (`http.bind`/`http.port`, and the TLS pin of `http.tls` from the data dir).
 *
 * `pars-storage status --devnet DIR`: one table row per node of the devnet in DIR, read from its
 * signed membership.json (node-<i> is the i-th record, as `devnet` writes them), with the devnet
 * process's own view of each node (running, stopped, …) when the devnet runs.
 *
 * Exit 0 when every node answered and is ready, 1 otherwise.
 */
import {existsSync} from "node:fs";
import {readFile} from "node:fs/promises";
import path from "node:path";
import {Agent, request} from "undici";
import {dataPaths, loadConfig, type ParsStorageConfig} from "../../config/index.js";
import {pinnedConnector} from "../../crypto/index.js";
import {loadNodeTls} from "../../node/index.js";
import type {ParsedArgs} from "../args.js";
import {sendControl} from "../devnet/control.js";
import {MEMBERSHIP_FILE_NAME, nodeUrl} from "../devnet/layout.js";
import {CommandError, EXIT_FAILURE, EXIT_OK, UsageError} from "../errors.js";
import type {CliIo} from "../io.js";
import {formatDevnetTable, formatStatus, type DevnetStatusRow, type StatusSummary} from "../status-format.js";

const TIMEOUT_MS = 5_000;
/** A summary is a few KB; more means this is not a pars-storage node. */
const MAX_BODY_BYTES = 1 << 20;

const text = (v: string | true | undefined): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

export async function statusCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const o = args.options;
  const devnet = text(o.devnet);
  const json = o.json !== undefined && o.json !== "false";
  if (devnet !== undefined) {
    if (o.url !== undefined || o["tls-pin"] !== undefined) throw new UsageError(["--devnet reads each node's URL and pin from the devnet; drop --url/--tls-pin"]);
    return devnetStatus(path.resolve(io.cwd, devnet), json, io);
  }
  const {url, pin} = await target(args, io);
  const summary = await fetchSummary(url, pin);
  if (json) io.stdout(JSON.stringify(summary, null, 2));
  else for (const line of formatStatus(summary)) io.stdout(line);
  return summary.node.ready ? EXIT_OK : EXIT_FAILURE;
}

/** `--url`/`--tls-pin`, else the node of this configuration. */
async function target(args: ParsedArgs, io: CliIo): Promise<{url: string; pin: string | null}> {
  const o = args.options;
  const pin = text(o["tls-pin"]) ?? null;
  if (pin !== null && !/^[0-9a-f]{64}$/.test(pin)) throw new UsageError(["--tls-pin must be the SPKI SHA-256 in 64 lowercase hex digits"]);
  const given = text(o.url);
  if (given !== undefined) {
    let url: URL;
    try {
      url = new URL(given);
    } catch {
      throw new UsageError([`--url must be a node's base URL, e.g. http://127.0.0.1:22025 (got ${given})`]);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(["--url must be http:// or https://"]);
    if (url.protocol === "https:" && pin === null) throw new UsageError(["an https node is checked by its pin: add --tls-pin (its record's tls.spkiSha256)"]);
    return {url: url.origin, pin};
  }
  const config = loadConfig({flags: args.flags, env: io.env, cwd: io.cwd});
  const host = config.http.bind === "0.0.0.0" || config.http.bind === "::" ? "127.0.0.1" : config.http.bind;
  const tls = pin ?? (await configuredPin(config));
  return {url: nodeUrl(host.includes(":") ? `[${host}]` : host, config.http.port, tls), pin: tls};
}

/** The pin of the node's own certificate; an "auto" one must exist already (status creates nothing). */
async function configuredPin(config: ParsStorageConfig): Promise<string | null> {
  if (config.http.tls === null) return null;
  if (config.http.tls === "auto" && !existsSync(dataPaths(config).tlsCertFile)) {
    throw new CommandError(`http.tls is "auto" but ${dataPaths(config).tlsCertFile} does not exist yet; start the node first or give --url and --tls-pin`);
  }
  return (await loadNodeTls(config))?.spkiSha256 ?? null;
}

/** GET /status/v1 of the node at `url` (its TLS key checked against `pin` when given). */
export async function fetchSummary(url: string, pin: string | null): Promise<StatusSummary> {
  const dispatcher = new Agent({keepAliveTimeout: 10, ...(pin === null ? {} : {connect: pinnedConnector(pin)})});
  try {
    const res = await request(new URL("/status/v1", url), {dispatcher, headersTimeout: TIMEOUT_MS, bodyTimeout: TIMEOUT_MS});
    const body = await res.body.text();
    if (res.statusCode !== 200) throw new CommandError(`${url} answered HTTP ${res.statusCode} to GET /status/v1: ${body.slice(0, 200).trim()}`);
    if (body.length > MAX_BODY_BYTES) throw new CommandError(`${url}: GET /status/v1 answered ${body.length} bytes; not a pars-storage node?`);
    const parsed = JSON.parse(body) as StatusSummary;
    if (typeof parsed !== "object" || parsed === null || typeof parsed.node !== "object") throw new CommandError(`${url}: GET /status/v1 is not a status summary`);
    return parsed;
  } catch (err) {
    if (err instanceof CommandError) throw err;
    throw new CommandError(`no status from ${url}: ${(err as Error).message}`);
  } finally {
    await dispatcher.close();
  }
}

interface RecordJson {
  nodeId?: unknown;
  host?: unknown;
  port?: unknown;
  tls?: {spkiSha256?: unknown};
}

async function devnetStatus(baseDir: string, json: boolean, io: CliIo): Promise<number> {
  const file = path.join(baseDir, MEMBERSHIP_FILE_NAME);
  let records: RecordJson[];
  try {
    records = (JSON.parse(await readFile(file, "utf8")) as {nodes: RecordJson[]}).nodes;
  } catch (err) {
    throw new CommandError(`no devnet membership at ${file}: ${(err as Error).message}`);
  }
  if (!Array.isArray(records)) throw new CommandError(`${file} has no node list`);
  const processes = await supervisorStates(baseDir);
  const rows = await Promise.all(
    records.map(async (r, i): Promise<DevnetStatusRow> => {
      const pin = typeof r.tls?.spkiSha256 === "string" ? r.tls.spkiSha256 : null;
      const url = nodeUrl(String(r.host), Number(r.port), pin);
      const name = `node-${i + 1}`;
      const process = processes?.get(name) ?? null;
      try {
        return {name, url, process, summary: await fetchSummary(url, pin), error: null};
      } catch (err) {
        return {name, url, process, summary: null, error: (err as Error).message.replace(`no status from ${url}: `, "")};
      }
    }),
  );
  if (json) io.stdout(JSON.stringify(rows, null, 2));
  else for (const line of formatDevnetTable(rows)) io.stdout(line);
  return rows.every((r) => r.summary?.node.ready === true) ? EXIT_OK : EXIT_FAILURE;
}

/** The running devnet's view of its nodes by name; null when no devnet process runs there. */
async function supervisorStates(baseDir: string): Promise<Map<string, string> | null> {
  try {
    const answer = await sendControl(baseDir, "status", null);
    return new Map((Array.isArray(answer) ? answer : [answer]).map((n) => [n.name, n.state]));
  } catch {
    return null;
  }
}
