/**
 * The client's node list: bootstrapped from seed URLs, cached, revalidated with the compact list's
 * ETag (a 304 costs a few hundred bytes), refreshed on a timer and soon after failures. Seeds
 * that do not serve a node list (a node without a membership) are asked `get_swarm` instead, which
 * lists at least the node itself.
 *
 * TLS: known nodes are asked at their entry's URL with its pin. A seed whose pin is not known
 * (`https://…`, or `pars://…`, tried as https then http) is read over a connection that accepts
 * any certificate, and its answer is used only if one of the nodes it lists carries the pin of
 * the certificate that connection showed: the seed must be a node of the list it serves.
 */
import {CoalescedTask, type Clock} from "../util/index.js";
import {ClientError} from "./errors.js";
import {nodesFromList, seedOrigins, swarmFromBody, type NodeInfo} from "./nodes.js";
import type {HttpClient, HttpRequester} from "./transport.js";

export interface NodeDirectoryOptions {
  /** Seed URLs: `pars://host:port`, `http(s)://host:port`. */
  seeds: readonly string[];
  /** Between refreshes of the list (default 10 min). */
  refreshIntervalMs: number;
  /** At most one failure-triggered refresh per this long (default 5 s). */
  minRefreshGapMs: number;
}

export const defaultNodeDirectoryOptions = {refreshIntervalMs: 600_000, minRefreshGapMs: 5_000} as const;

export interface NodeDirectoryModules {
  http: HttpClient;
  clock: Clock;
  /** [0, 1); shuffles which node is asked (default Math.random). */
  random?: () => number;
}

/** Paths of the node list, compact first; a node that predates the compact form has only the full one. */
export const COMPACT_NODES_PATH = "/network/v1/nodes/compact";
export const FULL_NODES_PATH = "/network/v1/nodes";
/** How many sources one refresh tries before giving up. */
const MAX_SOURCES_PER_REFRESH = 6;
/** get_swarm of this account lists the members of some swarm: enough to find a lone node's keys. */
const PROBE_ACCOUNT = `05${"00".repeat(32)}`;

/** Where a refresh reads the list: a known node (with its pin) or a seed (pin not known). */
interface Source {
  /** Origins to try in order (one, except for a pars:// seed). */
  bases: string[];
  tlsPin?: string;
  seed?: boolean;
}

export function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

export class NodeDirectory {
  #nodes = new Map<string, NodeInfo>();
  #etag: string | null = null;
  #lastRefresh = -Infinity;
  /** Per seed, the origins to try in order (a pars:// seed: https, then http). */
  readonly #seeds: string[][];
  readonly #task: CoalescedTask<boolean>;
  readonly #random: () => number;

  constructor(
    private readonly opts: NodeDirectoryOptions,
    private readonly modules: NodeDirectoryModules,
  ) {
    this.#seeds = opts.seeds.map(seedOrigins);
    this.#random = modules.random ?? Math.random;
    this.#task = new CoalescedTask({
      run: () => this.#refreshOnce(),
      failed: (ok) => !ok,
      intervalMs: opts.refreshIntervalMs,
      jitter: 0.1,
      backoff: {initialMs: 1_000, maxMs: opts.refreshIntervalMs},
      clock: modules.clock,
    });
  }

  /** Loads the list once (throws CLIENT_ERROR_NO_NODES if no source answered), then keeps it fresh. */
  async start(): Promise<void> {
    if (!(await this.#task.run())) {
      throw new ClientError({code: "CLIENT_ERROR_NO_NODES"}, `no node list from any seed (${this.#seeds.join(", ")})`);
    }
    this.#task.schedule(this.opts.refreshIntervalMs);
  }

  get nodes(): NodeInfo[] {
    return [...this.#nodes.values()];
  }

  get(nodeId: string): NodeInfo | undefined {
    return this.#nodes.get(nodeId);
  }

  /** Up to `n` random nodes, none of `exclude`. */
  pick(n: number, exclude: ReadonlySet<string> = new Set()): NodeInfo[] {
    return shuffled(this.nodes.filter((x) => !exclude.has(x.nodeId)), this.#random).slice(0, n);
  }

  /** A node failed: refresh the list soon (at most once per `minRefreshGapMs`). */
  reportFailure(): void {
    const since = this.modules.clock.now() - this.#lastRefresh;
    if (since >= this.opts.minRefreshGapMs) this.#task.trigger();
  }

  /** Refreshes now and waits for it; true if a source answered. */
  refresh(): Promise<boolean> {
    return this.#task.run();
  }

  async close(): Promise<void> {
    await this.#task.close();
  }

  async #refreshOnce(): Promise<boolean> {
    this.#lastRefresh = this.modules.clock.now();
    const known: Source[] = shuffled(this.nodes, this.#random).map((n) => ({bases: [n.url], ...(n.tlsPin === undefined ? {} : {tlsPin: n.tlsPin})}));
    const knownUrls = new Set(this.nodes.map((n) => n.url));
    const seeds: Source[] = shuffled(this.#seeds, this.#random)
      .filter((origins) => !origins.some((o) => knownUrls.has(o)))
      .map((bases) => ({bases, seed: true}));
    const sources = [...known.slice(0, MAX_SOURCES_PER_REFRESH - 1), ...seeds, ...known.slice(MAX_SOURCES_PER_REFRESH - 1)];
    for (const source of sources.slice(0, Math.max(MAX_SOURCES_PER_REFRESH, this.#seeds.length))) {
      try {
        if (await this.#loadFrom(source)) return true;
      } catch {
        // Unreachable, malformed or a pin mismatch: try the next source.
      }
    }
    return false;
  }

  async #loadFrom(source: Source): Promise<boolean> {
    if (source.seed !== true) return this.#loadVia(this.modules.http, source.bases[0] as string, source.tlsPin, null);
    let lastError: Error | null = null;
    for (const base of source.bases) {
      const session = this.modules.http.openUnpinned(base);
      try {
        if (await this.#loadVia(session, base, undefined, () => session.seenPin)) return true;
      } catch (err) {
        lastError = err as Error; // e.g. https to a plain node: try its http origin
      } finally {
        await session.close();
      }
    }
    if (lastError !== null) throw lastError;
    return false;
  }

  /**
   * Reads the list from `base`. `seenPin` is given for an unpinned seed: over https its answer
   * counts only if a node in it carries the pin of the certificate the seed showed.
   */
  async #loadVia(http: HttpRequester, base: string, tlsPin: string | undefined, seenPin: (() => string | null) | null): Promise<boolean> {
    const accept = (nodes: NodeInfo[]): boolean => seenPin === null || !base.startsWith("https:") || nodes.some((n) => n.tlsPin !== undefined && n.tlsPin === seenPin());
    const headers: Record<string, string> = this.#etag === null ? {} : {"if-none-match": this.#etag};
    const compact = await http.get(base + COMPACT_NODES_PATH, headers, tlsPin);
    if (compact.status === 304 && this.#nodes.size > 0 && accept(this.nodes)) return true;
    if (compact.status === 200) return this.#apply(nodesFromList(JSON.parse(compact.text)), compact.headers.etag, accept);
    if (compact.status !== 404) return false;
    const full = await http.get(base + FULL_NODES_PATH, {}, tlsPin);
    if (full.status === 200) return this.#apply(nodesFromList(JSON.parse(full.text)), undefined, accept);
    if (full.status !== 404) return false;
    return this.#probe(http, base, tlsPin, accept);
  }

  #apply(nodes: NodeInfo[], etag: string | string[] | undefined, accept: (nodes: NodeInfo[]) => boolean): boolean {
    if (nodes.length === 0 || !accept(nodes)) return false;
    this.#nodes = new Map(nodes.map((n) => [n.nodeId, n]));
    this.#etag = typeof etag === "string" ? etag : null;
    return true;
  }

  /** A node without a membership: its get_swarm answer lists itself with its keys. */
  async #probe(http: HttpRequester, base: string, tlsPin: string | undefined, accept: (nodes: NodeInfo[]) => boolean): Promise<boolean> {
    const res = await http.post(`${base}/storage_rpc/v1`, JSON.stringify({method: "get_swarm", params: {pubkey: PROBE_ACCOUNT}}), "application/json", tlsPin);
    if (res.status !== 200) return false;
    const swarm = swarmFromBody(JSON.parse(res.text));
    if (swarm === null || swarm.members.length === 0 || !accept(swarm.members)) return false;
    // The seed's own URL is how we reach it; its entry may name a bind address like 0.0.0.0.
    const lone = swarm.members[0] as NodeInfo;
    const sameScheme = (lone.tlsPin !== undefined) === base.startsWith("https:");
    const members = swarm.members.length === 1 && sameScheme ? [{...lone, url: base}] : swarm.members;
    this.#nodes = new Map(members.map((n) => [n.nodeId, n]));
    this.#etag = null;
    return true;
  }
}
