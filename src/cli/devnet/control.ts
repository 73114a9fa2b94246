/**
 * The devnet's control channel: a small HTTP server on 127.0.0.1 (OS-chosen port) in the devnet
 * process, announced in `<base>/control.json` (mode 0600, with a random token every request must
 * carry), so `pars-storage devnet --base-dir DIR --stop-node 3` and tests can stop, kill and start
 * single nodes of a running devnet.
 *
 *   GET  /nodes              → 200 [{name, url, pid, state, restarts, exits}]
 *   POST /nodes/<n>/stop     → SIGTERM, node n (1-based) stays down until started
 *   POST /nodes/<n>/kill     → SIGKILL, stays down until started
 *   POST /nodes/<n>/start    → starts it in place, answers once it listens (same port)
 */
import {randomBytes, timingSafeEqual} from "node:crypto";
import {createServer, type IncomingMessage, type Server, type ServerResponse} from "node:http";
import {readFile, rm} from "node:fs/promises";
import type {AddressInfo} from "node:net";
import path from "node:path";
import {request} from "undici";
import {CommandError} from "../errors.js";
import {writeAtomically} from "./layout.js";
import type {DevnetControlAction} from "./options.js";
import type {DevnetSupervisor, NodeStatus} from "./supervisor.js";

export const CONTROL_FILE_NAME = "control.json";
const TOKEN_HEADER = "x-devnet-token";
const ROUTE_RE = /^\/nodes\/(\d+)\/(stop|kill|start)$/;

interface ControlFile {
  readonly url: string;
  readonly token: string;
  readonly pid: number;
}

export interface ControlServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the control server and writes `<baseDir>/control.json`; `close` removes both. */
export async function startControlServer(baseDir: string, supervisor: DevnetSupervisor): Promise<ControlServer> {
  const token = randomBytes(16).toString("hex");
  const server = createServer((req, res) => {
    handle(req, res, token, supervisor).catch((err: unknown) => send(res, 500, {error: (err as Error).message}));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const file = path.join(baseDir, CONTROL_FILE_NAME);
  await writeAtomically(file, `${JSON.stringify({url, token, pid: process.pid} satisfies ControlFile)}\n`, 0o600);
  return {
    url,
    close: async () => {
      await rm(file, {force: true});
      await closeServer(server);
    },
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, token: string, supervisor: DevnetSupervisor): Promise<void> {
  const given = Buffer.from(String(req.headers[TOKEN_HEADER] ?? ""));
  const expected = Buffer.from(token);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return send(res, 403, {error: "bad or missing token"});
  const url = req.url ?? "";
  if (req.method === "GET" && url === "/nodes") return send(res, 200, supervisor.status());
  const match = req.method === "POST" ? ROUTE_RE.exec(url) : null;
  if (match === null) return send(res, 404, {error: "not found"});
  const index = Number(match[1]) - 1;
  if (!(index >= 0 && index < supervisor.size)) return send(res, 404, {error: `no node ${match[1]} (devnet has ${supervisor.size})`});
  const action = match[2];
  if (action === "start") await supervisor.start(index);
  else await supervisor.stop(index, action === "kill" ? "SIGKILL" : "SIGTERM");
  return send(res, 200, supervisor.status()[index]);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return;
  res.writeHead(status, {"content-type": "application/json"}).end(`${JSON.stringify(body)}\n`);
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** Client side: one control request to the devnet running in `baseDir`. */
export async function sendControl(baseDir: string, action: DevnetControlAction, node: number | null): Promise<NodeStatus[] | NodeStatus> {
  const file = path.join(baseDir, CONTROL_FILE_NAME);
  let control: ControlFile;
  try {
    control = JSON.parse(await readFile(file, "utf8")) as ControlFile;
  } catch {
    throw new CommandError(`no running devnet in ${baseDir} (${CONTROL_FILE_NAME} missing or unreadable)`);
  }
  const route = action === "status" ? "/nodes" : `/nodes/${node}/${action}`;
  let status: number;
  let body: {error?: string};
  try {
    const res = await request(new URL(route, control.url), {
      method: action === "status" ? "GET" : "POST",
      headers: {[TOKEN_HEADER]: control.token},
      headersTimeout: 120_000,
      bodyTimeout: 120_000,
    });
    status = res.statusCode;
    body = (await res.body.json()) as {error?: string};
  } catch (err) {
    throw new CommandError(`devnet in ${baseDir} does not answer at ${control.url}: ${(err as Error).message}`);
  }
  if (status !== 200) throw new CommandError(`devnet control: ${body.error ?? `HTTP ${status}`}`);
  return body as NodeStatus[] | NodeStatus;
}
