/**
 * The node's network view (docs/economics.md "Network view"): the newest valid StorageProof of
 * every membership node, fed by the poller, by proofs swarm peers push to us and by our own, and
 * the §4.1 NetworkHealth and storage load derived from it. The derived state is cached until the
 * membership or a proof changes, or the oldest proof counted as active leaves the activity window,
 * so `report()` and `load()` cost a few comparisons (the fee quote of every store reads `load()`).
 */
import type {PqBackend} from "../crypto/index.js";
import {isHealthy, type NetworkHealth, type StorageLoad} from "../economics/index.js";
import type {PeerClient} from "../peer/index.js";
import type {StorageProof} from "../proofs/index.js";
import {MEMBERSHIP_UPDATED, type MembershipService, type MembershipSnapshot} from "../swarm/index.js";
import type {Clock} from "../util/index.js";
import {networkState, type ActivityRules, type NetworkState} from "./network-state.js";
import {latestProofFetcher, type LatestProofFetcher} from "./proof-fetch.js";
import {ProofPoller, type PollTarget, type PollerLogger, type ProofPollerOptions} from "./proof-poller.js";
import {NetworkProofView, type OfferResult, type ProofViewOptions} from "./proof-view.js";

export type NetworkHealthOptions = ProofPollerOptions & ProofViewOptions & ActivityRules;

export interface NetworkHealthLogger extends PollerLogger {
  info(obj: object, msg: string): void;
}

export interface NetworkHealthModules {
  readonly membership: MembershipService;
  readonly pq: PqBackend;
  readonly clock: Clock;
  readonly logger: NetworkHealthLogger;
  /** Our newest signed StorageProof; null before the first or with proofs disabled. */
  readonly ownProof: () => StorageProof | null;
  /** The node's peer client: `GET /proof/v1/latest` of each node goes through it. */
  readonly peers: Pick<PeerClient, "request">;
  /** Default: `latestProofFetcher(peers)`. */
  readonly fetch?: LatestProofFetcher;
  readonly random?: () => number;
}

/** `GET /network/v1/health`: §4.1 NetworkHealth with the PIP's field names, plus §4.1 `IsHealthy()`. */
export interface NetworkHealthReport extends NetworkHealth {
  readonly isHealthy: boolean;
}

interface Cached {
  readonly snapshot: MembershipSnapshot;
  readonly version: number;
  readonly state: NetworkState;
  readonly report: NetworkHealthReport;
}

export class NetworkHealthService {
  readonly view: NetworkProofView;
  readonly poller: ProofPoller;
  readonly #opts: NetworkHealthOptions;
  readonly #m: NetworkHealthModules;
  #cache: Cached | null = null;
  #own: StorageProof | null = null;
  #started = false;

  /** Construct before `membership.start()`, so the first membership update is seen. */
  constructor(opts: NetworkHealthOptions, modules: NetworkHealthModules) {
    this.#opts = opts;
    this.#m = modules;
    this.view = new NetworkProofView(opts, {
      memberKeys: (nodeId) => {
        const record = modules.membership.snapshot?.view.node(nodeId) ?? null;
        return record === null ? null : {mlDsa: record.mlDsaPublicKey, mlKem: record.mlKemPublicKey};
      },
      pq: modules.pq,
      clock: modules.clock,
    });
    this.poller = new ProofPoller(opts, {
      targets: () => this.#targets(),
      fetch: modules.fetch ?? latestProofFetcher(modules.peers),
      offer: (nodeId, body) => this.view.offerJson(nodeId, body),
      logger: modules.logger,
      ...(modules.random === undefined ? {} : {random: modules.random}),
    });
    modules.membership.on(MEMBERSHIP_UPDATED, (snapshot) => {
      this.view.retain(new Set(snapshot.view.nodes().map((r) => r.nodeId)));
      if (this.#started) this.poller.poke();
    });
  }

  start(): void {
    this.#started = true;
    this.poller.start();
  }

  close(): Promise<void> {
    return this.poller.close();
  }

  /** A proof a swarm peer pushed to us, already verified against the membership. */
  notePeerProof(proof: StorageProof): OfferResult {
    return this.view.noteVerified(proof);
  }

  /** Null until the membership is loaded. */
  report(): NetworkHealthReport | null {
    return this.#current()?.report ?? null;
  }

  /** Bytes used and capacity over the active nodes; null before the membership or with no active node. */
  load(): StorageLoad | null {
    return this.#current()?.state.load ?? null;
  }

  #current(): Cached | null {
    const snapshot = this.#m.membership.snapshot;
    if (snapshot === null) return null;
    const own = this.#m.ownProof();
    if (own !== null && own !== this.#own) {
      this.#own = own;
      this.view.noteVerified(own);
    }
    const now = this.#m.clock.now();
    const c = this.#cache;
    if (c !== null && c.snapshot === snapshot && c.version === this.view.version && now <= c.state.validUntilMs) return c;
    const state = networkState(snapshot.view, (id) => this.view.get(id), now, this.#opts);
    const report = {...state.health, isHealthy: isHealthy(state.health)};
    if (c !== null && c.report.isHealthy !== report.isHealthy) this.#m.logger.info({...report}, "network health changed");
    this.#cache = {snapshot, version: this.view.version, state, report};
    return this.#cache;
  }

  #targets(): PollTarget[] {
    const snapshot = this.#m.membership.snapshot;
    if (snapshot === null) return [];
    const self = this.#m.membership.ourNodeId;
    return snapshot.view
      .nodes()
      .filter((r) => r.nodeId !== self)
      .map((r) => ({nodeId: r.nodeId}));
  }
}
