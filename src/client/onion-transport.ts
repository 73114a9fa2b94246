/**
 * Onion routing (docs/PROTOCOL.md "Onion requests"): every request goes through two relays to the
 * swarm member that answers it, each layer sealed to one hop's X25519 + ML-KEM-768 keys, so the
 * entry relay sees the client but not the request, and the member sees the request but not the
 * client. Paths: three distinct nodes, the two relays not both in the target's swarm when the
 * network allows, reused for `rotateAfterMs` and rebuilt at once after a failure.
 */
import type {MlKem768} from "../crypto/index.js";
import {buildOnionRequest, type HopPublicKeys} from "../onion/index.js";
import type {Clock} from "../util/index.js";
import {shuffled, type NodeDirectory} from "./directory.js";
import {ClientError} from "./errors.js";
import type {NodeInfo} from "./nodes.js";
import {TransportFailure, type HttpClient, type RpcAnswer, type RpcBody, type RpcTransport} from "./transport.js";

export const ONION_PATH = "/onion_req/v2";

export interface OnionTransportOptions {
  /** Relays before the target (default 2: a 3-hop path). */
  relays: number;
  /** A relay pair is reused this long (default 10 min, as Session's path rotation). */
  rotateAfterMs: number;
  /** A relay of a failed path is not picked again for this long, unless too few others remain (default 1 min). */
  suspectForMs: number;
}

export const defaultOnionTransportOptions: OnionTransportOptions = {relays: 2, rotateAfterMs: 600_000, suspectForMs: 60_000};

export interface OnionTransportModules {
  http: Pick<HttpClient, "post">;
  directory: Pick<NodeDirectory, "nodes" | "reportFailure">;
  clock: Clock;
  mlKem: MlKem768;
  random: () => number;
}

/** Nodes that can be hops: they publish an X25519 key. */
export function onionCapable(n: NodeInfo): n is NodeInfo & {x25519PublicKey: Uint8Array} {
  return n.x25519PublicKey !== undefined;
}

const hopKeys = (n: NodeInfo & {x25519PublicKey: Uint8Array}): HopPublicKeys => ({nodeId: n.nodeId, x25519: n.x25519PublicKey, mlKem: n.mlKemPublicKey});

/** Parses the RPC body the member sealed: JSON when it is an object or array, else text. */
function rpcBodyOf(body: unknown): unknown {
  if (typeof body !== "string") return body;
  const t = body.trimStart();
  if (!t.startsWith("{") && !t.startsWith("[")) return body;
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return body;
  }
}

export class OnionTransport implements RpcTransport {
  #relays: NodeInfo[] = [];
  #builtAt = -Infinity;
  /** Relays of recently failed paths, until when they are avoided. */
  readonly #suspects = new Map<string, number>();

  constructor(
    private readonly opts: OnionTransportOptions,
    private readonly m: OnionTransportModules,
  ) {}

  /** The path a request to `target` takes now: relays first, `target` last. */
  pathTo(target: NodeInfo): NodeInfo[] {
    if (this.m.clock.now() - this.#builtAt >= this.opts.rotateAfterMs || this.#relays.length !== this.opts.relays) {
      this.#relays = this.#pickRelays(target);
      this.#builtAt = this.m.clock.now();
    }
    // The current pair contains this target: a one-off pair for this request, the rotation stays.
    if (this.#relays.some((r) => r.nodeId === target.nodeId)) return [...this.#pickRelays(target), target];
    return [...this.#relays, target];
  }

  /** Forgets the relay pair: the next request builds a new path. */
  rotate(): void {
    this.#relays = [];
    this.#builtAt = -Infinity;
  }

  #pickRelays(target: NodeInfo): NodeInfo[] {
    const capable = this.m.directory.nodes.filter((n) => onionCapable(n) && n.nodeId !== target.nodeId);
    const now = this.m.clock.now();
    const trusted = capable.filter((n) => (this.#suspects.get(n.nodeId) ?? -Infinity) <= now);
    // Suspects are skipped only while enough others remain: a small network keeps working.
    const candidates = trusted.length >= this.opts.relays ? trusted : capable;
    if (candidates.length < this.opts.relays) {
      throw new ClientError({code: "CLIENT_ERROR_NO_NODES"}, `onion: ${candidates.length} nodes can relay, a path needs ${this.opts.relays} besides the target`);
    }
    // Relays from other swarms first, so that a path is not all inside the target's swarm.
    const outside = shuffled(candidates.filter((n) => n.swarm === null || n.swarm !== target.swarm), this.m.random);
    const inside = shuffled(candidates.filter((n) => n.swarm !== null && n.swarm === target.swarm), this.m.random);
    return [...outside, ...inside].slice(0, this.opts.relays);
  }

  async send(target: NodeInfo, body: RpcBody): Promise<RpcAnswer> {
    if (!onionCapable(target)) throw new TransportFailure(target.nodeId, `onion: ${target.nodeId} publishes no X25519 key`);
    const path = this.pathTo(target);
    const built = buildOnionRequest(path.map((n) => hopKeys(n as NodeInfo & {x25519PublicKey: Uint8Array})), Buffer.from(JSON.stringify(body)), {mlKem: this.m.mlKem});
    const entry = path[0] as NodeInfo;
    let res;
    try {
      // The entry hop over HTTPS shows its record's pin; relays pin each other (the peer client).
      res = await this.m.http.post(entry.url + ONION_PATH, built.blob, "application/octet-stream", entry.tlsPin);
    } catch (err) {
      return this.#failed(target, `entry ${entry.nodeId.slice(0, 12)}… unreachable: ${(err as Error).message}`, [entry]);
    }
    if (res.status === 404) {
      throw new ClientError({code: "CLIENT_ERROR_TRANSPORT", tried: [entry.nodeId]}, `onion: ${entry.url} does not serve ${ONION_PATH}; use direct mode`);
    }
    // Refused along the path: which relay is at fault is unknown, so both are avoided for a while.
    const relays = path.slice(0, -1);
    if (res.status !== 200) return this.#failed(target, `path answered ${res.status} ${res.text.trim().slice(0, 200)}`, relays);
    let answer;
    try {
      answer = built.decryptResponse(res.text);
    } catch (err) {
      return this.#failed(target, `answer does not decrypt: ${(err as Error).message}`);
    }
    // Sealed by a relay: it refused the path (next hop unknown or unreachable), not the request.
    if (answer.hopIndex !== path.length - 1) {
      return this.#failed(target, `relay ${answer.hopIndex} answered ${answer.status} ${String(answer.body)}`, relays);
    }
    return {status: answer.status, body: rpcBodyOf(answer.body)};
  }

  #failed(target: NodeInfo, why: string, suspects: NodeInfo[] = []): never {
    for (const n of suspects) this.#suspects.set(n.nodeId, this.m.clock.now() + this.opts.suspectForMs);
    this.rotate();
    this.m.directory.reportFailure();
    throw new TransportFailure(target.nodeId, `onion: ${why}`);
  }

  async close(): Promise<void> {}
}
