import {DEFAULT_HTTP_PORT, leafForFlag, type ParsStorageConfig} from "../../config/index.js";
import type {ParsedArgs} from "../args.js";
import {UsageError} from "../errors.js";

/** Most nodes one devnet starts (each is a Node.js process of ~100 MB). */
export const DEVNET_MAX_NODES = 50;

/** Config options devnet sets for every node itself; setting them on its command line is an error. */
const OWNED_PREFIXES = ["network", "networkId", "dataDir", "http.bind", "http.port", "swarm.", "membership.", "node."];

export function isDevnetOwned(path: string): boolean {
  return OWNED_PREFIXES.some((p) => (p.endsWith(".") ? path.startsWith(p) : path === p));
}

export interface DevnetEndpoint {
  readonly host: string;
  readonly port: number;
}

export interface DevnetOptions {
  readonly count: number;
  /** Null = a new temporary directory. */
  readonly baseDir: string | null;
  readonly mode: ParsStorageConfig["swarm"]["mode"] | null;
  readonly initOnly: boolean;
  /** `--tls`: every node gets `http.tls = "auto"` (HTTPS, pinned in its record). */
  readonly tls: boolean;
  /** With --init-only: one address per node (default 127.0.0.1:22025, :22026, …). */
  readonly endpoints: readonly DevnetEndpoint[] | null;
  /** `--status`, `--stop-node N`, `--start-node N`, `--kill-node N`: talk to a running devnet. */
  readonly control: DevnetControlRequest | null;
}

export type DevnetControlAction = "status" | "stop" | "start" | "kill";

export interface DevnetControlRequest {
  readonly action: DevnetControlAction;
  /** 1-based node number; null for status. */
  readonly node: number | null;
}

const CONTROL_FLAGS: ReadonlyArray<readonly [string, DevnetControlAction]> = [
  ["stop-node", "stop"],
  ["start-node", "start"],
  ["kill-node", "kill"],
];

/** Reads devnet's own flags; every problem is reported at once as a UsageError. */
export function parseDevnetOptions(args: ParsedArgs): DevnetOptions {
  const problems: string[] = [];
  const {nodes, "base-dir": baseDir, mode, "init-only": initOnly, hosts, tls} = args.options;
  const control = parseControl(args, problems);
  if (control !== null) {
    if (typeof baseDir !== "string") problems.push("--status, --stop-node, --start-node and --kill-node need the running devnet's --base-dir");
    for (const other of ["nodes", "mode", "init-only", "hosts", "tls"]) if (args.options[other] !== undefined) problems.push(`--${other} does not apply to a control command`);
    if (problems.length > 0) throw new UsageError(problems);
    return {count: 0, baseDir: typeof baseDir === "string" ? baseDir : null, mode: null, initOnly: false, tls: false, endpoints: null, control};
  }
  const count = typeof nodes === "string" && /^\d+$/.test(nodes) ? Number(nodes) : NaN;
  if (!(count >= 1 && count <= DEVNET_MAX_NODES)) problems.push(`--nodes must be an integer from 1 to ${DEVNET_MAX_NODES}`);
  if (baseDir === true) problems.push("--base-dir needs a path");
  if (mode !== undefined && mode !== "pip0008" && mode !== "balanced") problems.push('--mode must be "pip0008" or "balanced"');
  const init = initOnly !== undefined && initOnly !== "false";
  if (hosts !== undefined && !init) problems.push("--hosts only applies with --init-only");
  const endpoints = init ? parseEndpoints(typeof hosts === "string" ? hosts : null, count, problems) : null;
  for (const flag of Object.keys(args.flags)) {
    const leaf = leafForFlag(flag);
    if (leaf !== undefined && isDevnetOwned(leaf.path)) problems.push(`--${flag} is set by devnet for each node`);
  }
  if (problems.length > 0) throw new UsageError(problems);
  return {
    count,
    baseDir: typeof baseDir === "string" ? baseDir : null,
    mode: mode === "pip0008" || mode === "balanced" ? mode : null,
    initOnly: init,
    tls: tls !== undefined && tls !== "false",
    endpoints,
    control: null,
  };
}

/** At most one control flag; a node number is 1 … DEVNET_MAX_NODES (the devnet checks its own count). */
function parseControl(args: ParsedArgs, problems: string[]): DevnetControlRequest | null {
  const found: DevnetControlRequest[] = [];
  const status = args.options.status;
  if (status !== undefined && status !== "false") found.push({action: "status", node: null});
  for (const [flag, action] of CONTROL_FLAGS) {
    const value = args.options[flag];
    if (value === undefined) continue;
    const node = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : NaN;
    if (!(node >= 1 && node <= DEVNET_MAX_NODES)) problems.push(`--${flag} needs a node number from 1 to ${DEVNET_MAX_NODES}`);
    found.push({action, node});
  }
  if (found.length > 1) problems.push("give one of --status, --stop-node, --start-node, --kill-node");
  return found[0] ?? null;
}

function parseEndpoints(hosts: string | null, count: number, problems: string[]): DevnetEndpoint[] | null {
  if (hosts === null) {
    return Array.from({length: Number.isInteger(count) ? count : 0}, (_, i) => ({host: "127.0.0.1", port: DEFAULT_HTTP_PORT + i}));
  }
  const endpoints = hosts.split(",").map((entry) => {
    const [host = "", port] = entry.trim().split(":");
    const number = port === undefined ? DEFAULT_HTTP_PORT : Number(port);
    if (host === "" || !Number.isInteger(number) || number < 1 || number > 65535) problems.push(`--hosts: bad entry "${entry}"`);
    return {host, port: number};
  });
  if (endpoints.length !== count) problems.push(`--hosts lists ${endpoints.length} hosts for ${count} nodes`);
  return endpoints;
}
