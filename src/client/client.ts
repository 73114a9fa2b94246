/**
 * `ParsClient`: a Session-style client of Pars storage nodes (docs/client.md). It keeps the node
 * list fresh, finds each account's swarm, signs every request as the node verifies it, and checks
 * every node receipt against the node's key from the membership.
 */
import {initHashing, loadPqBackend, type PqBackend} from "../crypto/index.js";
import {systemClock, type Clock} from "../util/index.js";
import type {ClientAccount} from "./account.js";
import {defaultNodeDirectoryOptions, NodeDirectory} from "./directory.js";
import {ClientError} from "./errors.js";
import type {NodeInfo} from "./nodes.js";
import * as rq from "./requests.js";
import {defaultSwarmRouterOptions, SwarmRouter, type RoutedAnswer} from "./router.js";
import {swarmOutcome, type SwarmOutcome} from "./swarm-outcome.js";
import {OnionTransport, defaultOnionTransportOptions, onionCapable, type OnionTransportModules} from "./onion-transport.js";
import {Subscription, type SubscriptionOptions} from "./subscription.js";
import {DEFAULT_REQUEST_TIMEOUT_MS, DirectTransport, HttpClient, type RpcTransport} from "./transport.js";

export interface ParsClientOptions {
  /** Seed URLs (`pars://host:22025`, `http(s)://host:port`); at least one. */
  seeds: readonly string[];
  /**
   * Send requests straight to the swarm member instead of through a 3-hop onion path (default:
   * onion). Onion routing needs at least three nodes that publish X25519 keys and serve
   * `/onion_req/v2`; a node list without such keys (nodes older than onion requests) leaves only
   * direct requests (`ParsClient.onion` tells which is in use). WebSocket subscriptions always
   * connect directly to a swarm member.
   */
  direct?: boolean;
  /** `strict` (default): a receipt that does not verify throws CLIENT_ERROR_RECEIPT_INVALID; `report`: it is listed in the result. */
  receipts?: "strict" | "report";
  /** Per-request deadline (default 15 s). */
  timeoutMs?: number;
  /** Node list refresh interval (default 10 min). */
  refreshIntervalMs?: number;
  /** How long a resolved swarm is reused (default 10 min). */
  swarmCacheMs?: number;
}

export interface ParsClientModules {
  /** Post-quantum backend (default: liboqs if it loads and passes its self-test, else noble). */
  pq?: PqBackend;
  clock?: Clock;
  /** Replaces the transport (tests; the onion transport). */
  transport?: RpcTransport;
  random?: () => number;
}

/** A message as `retrieve` and pushes deliver it. */
export interface StoredMessage {
  hash: string;
  timestamp: number;
  expiry: number;
  data: Buffer;
}

export interface RecursiveResult extends SwarmOutcome {
  /** HTTP status of the answer (200, or 500/507 when every member failed). */
  status: number;
  /** The member the request was sent to. */
  via: string;
}

export interface StoreResult extends RecursiveResult {
  hash: string;
}

export class ParsClient {
  readonly #router: SwarmRouter;
  readonly #subscriptions = new Set<Subscription>();
  #closed = false;

  private constructor(
    private readonly opts: ParsClientOptions,
    readonly directory: NodeDirectory,
    private readonly transport: RpcTransport,
    private readonly http: HttpClient,
    readonly pq: PqBackend,
    private readonly clock: Clock,
    random: () => number,
  ) {
    const swarmCacheMs = opts.swarmCacheMs ?? defaultSwarmRouterOptions.swarmCacheMs;
    this.#router = new SwarmRouter({...defaultSwarmRouterOptions, swarmCacheMs}, {directory, transport, clock, random});
  }

  /** Loads crypto, then the node list from the seeds (throws CLIENT_ERROR_NO_NODES if none answers). */
  static async init(opts: ParsClientOptions, modules: ParsClientModules = {}): Promise<ParsClient> {
    if (opts.seeds.length === 0) throw new ClientError({code: "CLIENT_ERROR_NO_NODES"}, "no seed URLs given");
    await initHashing();
    const pq = modules.pq ?? (await loadPqBackend("auto"));
    const clock = modules.clock ?? systemClock;
    const random = modules.random ?? Math.random;
    const http = new HttpClient({timeoutMs: opts.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS});
    const directory = new NodeDirectory(
      {seeds: opts.seeds, refreshIntervalMs: opts.refreshIntervalMs ?? defaultNodeDirectoryOptions.refreshIntervalMs, minRefreshGapMs: defaultNodeDirectoryOptions.minRefreshGapMs},
      {http, clock, random},
    );
    try {
      await directory.start();
    } catch (err) {
      await directory.close();
      await http.close();
      throw err;
    }
    const transport = modules.transport ?? chooseTransport(opts, {http, directory, clock, mlKem: pq.mlKem768, random});
    return new ParsClient(opts, directory, transport, http, pq, clock, random);
  }

  /** Whether requests go through onion paths (false: direct). */
  get onion(): boolean {
    return this.transport instanceof OnionTransport;
  }

  /** The account's swarm members (cached; `get_swarm` through any node). */
  swarmOf(account: string): Promise<NodeInfo[]> {
    return this.#router.swarmOf(account);
  }

  /** Stores `data` for `to` and checks every member's receipt. */
  async store(args: rq.StoreArgs, signer?: ClientAccount): Promise<StoreResult> {
    const req = rq.storeRequest(args, this.clock.now(), signer);
    return {...(await this.#recursive(req)), hash: req.hash};
  }

  /** One page of the account's messages after `lastHash` (Session's paging: `more` says if there are others). */
  async retrieve(account: ClientAccount, args: rq.RetrieveArgs = {}): Promise<{messages: StoredMessage[]; more: boolean}> {
    const answer = await this.#send(rq.retrieveRequest(account, args, this.clock.now()));
    const body = answer.body as {messages?: unknown; more?: unknown};
    if (!Array.isArray(body.messages)) throw badResponse("retrieve");
    return {messages: body.messages.map(toMessage), more: body.more === true};
  }

  /**
   * Every message, following `more` page by page. A node that pages without progress (a page of
   * messages already seen) gets CLIENT_ERROR_BAD_RESPONSE instead of an endless loop.
   */
  async retrieveAll(account: ClientAccount, args: Omit<rq.RetrieveArgs, "lastHash"> = {}): Promise<StoredMessage[]> {
    const all: StoredMessage[] = [];
    const seen = new Set<string>();
    let lastHash: string | undefined;
    for (;;) {
      const page = await this.retrieve(account, {...args, lastHash});
      const fresh = page.messages.filter((m) => !seen.has(m.hash));
      if (page.messages.length > 0 && fresh.length === 0) throw badResponse("retrieve");
      for (const m of fresh) seen.add(m.hash);
      all.push(...fresh);
      if (!page.more || page.messages.length === 0) return all;
      lastHash = page.messages.at(-1)?.hash;
    }
  }

  delete(account: ClientAccount, hashes: string[], required = false): Promise<RecursiveResult> {
    return this.#recursive(rq.deleteRequest(account, hashes, required));
  }

  deleteAll(account: ClientAccount, namespace: rq.Namespace = 0): Promise<RecursiveResult> {
    return this.#recursive(rq.deleteAllRequest(account, namespace, this.clock.now()));
  }

  deleteBefore(account: ClientAccount, before: number, namespace: rq.Namespace = 0): Promise<RecursiveResult> {
    return this.#recursive(rq.deleteBeforeRequest(account, namespace, before));
  }

  expire(account: ClientAccount, args: rq.ExpireArgs): Promise<RecursiveResult> {
    return this.#recursive(rq.expireRequest(account, args));
  }

  expireAll(account: ClientAccount, expiry: number, namespace: rq.Namespace = 0): Promise<RecursiveResult> {
    return this.#recursive(rq.expireAllRequest(account, namespace, expiry));
  }

  async getExpiries(account: ClientAccount, hashes: string[]): Promise<Record<string, number>> {
    const answer = await this.#send(rq.getExpiriesRequest(account, hashes, this.clock.now()));
    const expiries = (answer.body as {expiries?: unknown}).expiries;
    if (typeof expiries !== "object" || expiries === null) throw badResponse("get_expiries");
    return expiries as Record<string, number>;
  }

  revokeSubaccount(account: ClientAccount, tokens: Uint8Array[]): Promise<RecursiveResult> {
    return this.#recursive(rq.tokensRequest("revoke_subaccount", account, tokens, this.clock.now()));
  }

  unrevokeSubaccount(account: ClientAccount, tokens: Uint8Array[]): Promise<RecursiveResult> {
    return this.#recursive(rq.tokensRequest("unrevoke_subaccount", account, tokens, this.clock.now()));
  }

  /**
   * `batch` (every sub-request runs) or `sequence` (stops at the first failure) of up to 20
   * requests for one account, built with the `*Request` functions. Each result carries the
   * verified outcome of recursive sub-requests.
   */
  async bulk(kind: "batch" | "sequence", requests: rq.PreparedRequest[]): Promise<Array<{code: number; body: unknown; outcome?: RecursiveResult}>> {
    if (requests.length === 0 || requests.some((r) => r.account !== requests[0]?.account)) {
      throw new ClientError({code: "CLIENT_ERROR_BAD_RESPONSE", method: kind}, `${kind}: 1 to 20 requests of one account`);
    }
    const answer = await this.#send(rq.bulkOf(kind, requests));
    const results = (answer.body as {results?: unknown}).results;
    if (!Array.isArray(results)) throw badResponse(kind);
    return results.map((r: {code: number; body: unknown}, i) => {
      const sub = requests[i];
      if (sub?.recursive !== true || r.code < 200 || r.code > 299) return r;
      return {...r, outcome: this.#outcome(sub, {status: r.code, body: r.body, node: answer.node})};
    });
  }

  /** Subscribes to pushes of new messages (WebSocket `subscribe`), reconnecting and resubscribing; `close()` ends it. */
  subscribe(account: ClientAccount, opts: SubscriptionOptions): Subscription {
    this.#checkOpen();
    const sub = new Subscription({...opts, onState: (state, node) => {
      if (state === "closed") this.#subscriptions.delete(sub);
      opts.onState?.(state, node);
    }}, {account, router: this.#router, clock: this.clock, http: this.http});
    this.#subscriptions.add(sub);
    return sub;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const sub of [...this.#subscriptions]) sub.close();
    await this.directory.close();
    await this.transport.close();
    await this.http.close();
  }

  #checkOpen(): void {
    if (this.#closed) throw new ClientError({code: "CLIENT_ERROR_CLOSED"}, "the client is closed");
  }

  /** Sends to the swarm and throws CLIENT_ERROR_RPC on a non-2xx answer. */
  async #send(req: rq.PreparedRequest): Promise<RoutedAnswer> {
    this.#checkOpen();
    const answer = await this.#router.toSwarm(req.account, {method: req.method, params: req.params});
    if (answer.status < 200 || answer.status > 299) throw rpcError(req.method, answer);
    return answer;
  }

  /** A recursive method: 500 and 507 carry the members' failure entries, which are reported, not thrown. */
  async #recursive(req: rq.PreparedRequest): Promise<RecursiveResult> {
    this.#checkOpen();
    const answer = await this.#router.toSwarm(req.account, {method: req.method, params: req.params});
    const swarmAnswer = answer.status === 200 || ((answer.status === 500 || answer.status === 507) && typeof answer.body === "object");
    if (!swarmAnswer) throw rpcError(req.method, answer);
    return this.#outcome(req, answer);
  }

  #outcome(req: rq.PreparedRequest, answer: RoutedAnswer): RecursiveResult {
    const receipt = req.receipt ?? (() => null);
    const outcome = swarmOutcome(answer.body, {pq: this.pq, keyOf: (id) => this.directory.get(id), receipt});
    if (outcome === null) throw badResponse(req.method);
    if (outcome.invalid.length > 0 && (this.opts.receipts ?? "strict") === "strict") {
      const list = outcome.invalid.map((x) => `${x.nodeId.slice(0, 12)}…: ${x.reason}`).join("; ");
      throw new ClientError(
        {code: "CLIENT_ERROR_RECEIPT_INVALID", method: req.method, invalid: outcome.invalid},
        `${req.method}: receipt does not verify (${list}); answer from ${answer.node.nodeId.slice(0, 12)}…`,
      );
    }
    return {...outcome, status: answer.status, via: answer.node.nodeId};
  }
}

/**
 * Onion unless `direct`: when at least three nodes publish X25519 keys (nodes before issue #13 do
 * not, and then only direct requests are possible).
 */
function chooseTransport(opts: ParsClientOptions, m: OnionTransportModules & {http: HttpClient}): RpcTransport {
  const hops = defaultOnionTransportOptions.relays + 1;
  if (opts.direct === true || m.directory.nodes.filter(onionCapable).length < hops) return new DirectTransport(m.http);
  return new OnionTransport(defaultOnionTransportOptions, m);
}

function rpcError(method: string, answer: RoutedAnswer): ClientError {
  const text = typeof answer.body === "string" ? answer.body.trim() : JSON.stringify(answer.body);
  return new ClientError({code: "CLIENT_ERROR_RPC", method, status: answer.status, body: answer.body}, `${method}: ${answer.status} ${text}`);
}

function badResponse(method: string): ClientError {
  return new ClientError({code: "CLIENT_ERROR_BAD_RESPONSE", method}, `${method}: the answer lacks the protocol's fields`);
}

function toMessage(m: unknown): StoredMessage {
  const r = m as Record<string, unknown>;
  if (typeof r.hash !== "string" || typeof r.data !== "string" || !Number.isSafeInteger(r.timestamp)) throw badResponse("retrieve");
  return {hash: r.hash, timestamp: r.timestamp as number, expiry: Number(r.expiration ?? r.expiry), data: Buffer.from(r.data, "base64")};
}
