import type {Server} from "node:http";
import type {Socket} from "node:net";

/**
 * Caps open HTTP connections (WebSocket ones included: they start as HTTP) per remote address. A
 * connection over the cap is destroyed before a byte is read, as node does at `server.maxConnections`:
 * answering would mean reading the request, which is what the cap exists to avoid.
 */
export class ConnectionLimit {
  readonly #perIp = new Map<string, number>();
  #refused = 0;

  constructor(
    readonly maxPerIp: number,
    private readonly exempt: (ip: string) => boolean = () => false,
  ) {}

  /** Counts the server's connections from now on. */
  attach(server: Server): void {
    server.on("connection", (socket: Socket) => this.#onConnection(socket));
  }

  get refused(): number {
    return this.#refused;
  }

  get open(): number {
    let n = 0;
    for (const v of this.#perIp.values()) n += v;
    return n;
  }

  #onConnection(socket: Socket): void {
    const ip = socket.remoteAddress ?? "";
    if (this.exempt(ip)) return;
    const n = this.#perIp.get(ip) ?? 0;
    if (n >= this.maxPerIp) {
      this.#refused += 1;
      socket.destroy();
      return;
    }
    this.#perIp.set(ip, n + 1);
    socket.once("close", () => {
      const left = (this.#perIp.get(ip) ?? 1) - 1;
      if (left <= 0) this.#perIp.delete(ip);
      else this.#perIp.set(ip, left);
    });
  }
}

/**
 * Loopback: the operator's own tools, a TLS proxy in front of the node, and a devnet's nodes (all
 * on 127.0.0.1, each peer keeping a pool of connections to every other) all connect from here.
 */
export function isLoopback(ip: string): boolean {
  return ip === "::1" || ip.startsWith("127.") || ip.startsWith("::ffff:127.");
}
