/**
 * Getting one request answered by the account's swarm: resolve the swarm (`get_swarm` through any
 * node, cached), send to a random member, follow a 421 to the swarm it names, and try another
 * member when one is unreachable, overloaded or not ready. Statuses that are the request's own
 * fault (400, 401, 403, 406, …) are answers, not failures: they go back to the caller unretried.
 */
import type {Clock} from "../util/index.js";
import {shuffled, type NodeDirectory} from "./directory.js";
import {ClientError} from "./errors.js";
import {swarmFromBody, type NodeInfo} from "./nodes.js";
import {TransportFailure, type RpcAnswer, type RpcBody, type RpcTransport} from "./transport.js";

export interface SwarmRouterOptions {
  /** How long a resolved swarm is reused (default 10 min); a 421 replaces it at once. */
  swarmCacheMs: number;
  /** 421s followed per request (default 3). */
  maxRedirects: number;
  /** Members tried per request (default 5). */
  maxAttempts: number;
}

export const defaultSwarmRouterOptions = {swarmCacheMs: 600_000, maxRedirects: 3, maxAttempts: 5} as const;

export interface SwarmRouterModules {
  directory: NodeDirectory;
  transport: RpcTransport;
  clock: Clock;
  random: () => number;
}

/** Statuses after which another member may well succeed. */
const RETRY_ELSEWHERE = new Set([408, 429, 502, 503, 504]);

export interface RoutedAnswer extends RpcAnswer {
  /** The member that answered. */
  node: NodeInfo;
}

export class SwarmRouter {
  readonly #swarms = new Map<string, {members: NodeInfo[]; at: number}>();

  constructor(
    private readonly opts: SwarmRouterOptions,
    private readonly m: SwarmRouterModules,
  ) {}

  /** The account's swarm members (cached). */
  async swarmOf(account: string): Promise<NodeInfo[]> {
    const cached = this.#swarms.get(account);
    if (cached !== undefined && this.m.clock.now() - cached.at < this.opts.swarmCacheMs) return cached.members;
    const answer = await this.anyNode({method: "get_swarm", params: {pubkey: account}});
    const swarm = answer.status === 200 ? swarmFromBody(answer.body) : null;
    if (swarm === null || swarm.members.length === 0) {
      throw new ClientError({code: "CLIENT_ERROR_BAD_RESPONSE", method: "get_swarm"}, `get_swarm for ${account} answered ${answer.status} without members`);
    }
    return this.#remember(account, swarm.members);
  }

  /** Forgets the cached swarm (after failures). */
  forget(account: string): void {
    this.#swarms.delete(account);
  }

  /** Sends a request that any node answers (get_swarm, info) to random nodes until one does. */
  async anyNode(body: RpcBody): Promise<RoutedAnswer> {
    const tried: string[] = [];
    for (const node of this.m.directory.pick(this.opts.maxAttempts)) {
      tried.push(node.nodeId);
      const answer = await this.#try(node, body);
      if (answer !== null) return {...answer, node};
    }
    this.m.directory.reportFailure();
    throw new ClientError({code: "CLIENT_ERROR_TRANSPORT", tried}, `${body.method}: no node answered (${tried.length} tried)`);
  }

  /** Sends to the account's swarm, following 421s and moving to another member on failure. */
  async toSwarm(account: string, body: RpcBody): Promise<RoutedAnswer> {
    const tried: string[] = [];
    let members = shuffled(await this.swarmOf(account), this.m.random);
    let redirects = 0;
    while (tried.length < this.opts.maxAttempts) {
      const node = members.find((n) => !tried.includes(n.nodeId));
      if (node === undefined) break;
      tried.push(node.nodeId);
      const answer = await this.#try(node, body);
      if (answer === null) continue;
      if (answer.status !== 421) return {...answer, node};
      const swarm = swarmFromBody(answer.body);
      if (swarm === null || swarm.members.length === 0 || ++redirects > this.opts.maxRedirects) {
        throw new ClientError({code: "CLIENT_ERROR_RPC", method: body.method, status: 421, body: answer.body}, `${body.method}: wrong swarm`);
      }
      members = shuffled(this.#remember(account, swarm.members), this.m.random);
      tried.length = 0;
    }
    this.forget(account);
    this.m.directory.reportFailure();
    throw new ClientError({code: "CLIENT_ERROR_TRANSPORT", tried}, `${body.method}: no member of ${account.slice(0, 10)}…'s swarm answered`);
  }

  /** The answer, or null when the node failed in a way another node may not. */
  async #try(node: NodeInfo, body: RpcBody): Promise<RpcAnswer | null> {
    try {
      const answer = await this.m.transport.send(node, body);
      return RETRY_ELSEWHERE.has(answer.status) ? null : answer;
    } catch (err) {
      if (err instanceof TransportFailure) return null;
      throw err;
    }
  }

  #remember(account: string, members: NodeInfo[]): NodeInfo[] {
    // Keys come from the membership when the client has it; a get_swarm answer only names members.
    const resolved = members.map((n) => {
      const known = this.m.directory.get(n.nodeId);
      return known === undefined ? n : {...n, url: known.url, ...(known.tlsPin === undefined ? {} : {tlsPin: known.tlsPin}), x25519PublicKey: known.x25519PublicKey ?? n.x25519PublicKey};
    });
    this.#swarms.set(account, {members: resolved, at: this.m.clock.now()});
    return resolved;
  }
}
