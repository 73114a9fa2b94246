/**
 * A dishonest node for client tests: an HTTP proxy in front of a real node (its membership record
 * points at the proxy's port, so clients and peers reach the node only through it). It forwards
 * every request unchanged, WebSocket upgrades included, and alters the answers of
 * `POST /storage_rpc/v1` with `alter` (e.g. the node's own receipt in a recursive answer).
 */
import {createServer, type IncomingMessage, type Server} from "node:http";
import {connect} from "node:net";
import type {AddressInfo} from "node:net";
import {request} from "undici";

export type Alter = (body: Record<string, unknown>) => boolean;

export class TamperProxy {
  /** Answers altered so far. */
  altered = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(target: string, alter: Alter): Promise<TamperProxy> {
    const t = new URL(target);
    let proxy: TamperProxy | null = null;
    const server = createServer((req, res) => {
      void forward(target, req, (body) => {
        const ok = alter(body);
        if (ok && proxy !== null) proxy.altered++;
        return ok;
      }).then(
        ({status, headers, body}) => res.writeHead(status, headers).end(body),
        () => res.writeHead(502).end(),
      );
    });
    server.on("upgrade", (req: IncomingMessage, socket, head) => {
      const upstream = connect(Number(t.port), t.hostname, () => {
        const lines = [`${req.method} ${req.url} HTTP/1.1`, ...Object.entries(req.headers).map(([k, v]) => `${k}: ${String(v)}`)];
        upstream.write(`${lines.join("\r\n")}\r\n\r\n`);
        upstream.write(head);
        upstream.pipe(socket).pipe(upstream);
      });
      upstream.on("error", () => socket.destroy());
      socket.on("error", () => upstream.destroy());
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    proxy = new TamperProxy(server, (server.address() as AddressInfo).port);
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function forward(
  target: string,
  req: IncomingMessage,
  alter: Alter,
): Promise<{status: number; headers: Record<string, string>; body: Buffer}> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (k !== "host" && k !== "connection" && v !== undefined) headers[k] = String(v);
  const res = await request(target + (req.url ?? "/"), {method: req.method as "POST", headers, body: chunks.length > 0 ? Buffer.concat(chunks) : undefined});
  let body = Buffer.from(await res.body.arrayBuffer());
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (k !== "content-length" && k !== "connection" && v !== undefined) out[k] = String(v);
  if (req.url === "/storage_rpc/v1" && String(res.headers["content-type"]).includes("json")) {
    const json = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
    if (alter(json)) body = Buffer.from(JSON.stringify(json));
  }
  return {status: res.statusCode, headers: out, body};
}

/** Alters `nodeId`'s own receipt in a recursive answer: its batch timestamp moves by 1 ms. */
export function alterOwnReceipt(nodeId: string): Alter {
  return (body) => {
    const entry = (body.swarm as Record<string, {signature_proof?: {t: number}}> | undefined)?.[nodeId];
    if (entry?.signature_proof === undefined) return false;
    entry.signature_proof.t += 1;
    return true;
  };
}
