/**
 * Replication, assembled (docs/PROTOCOL.md (Replication)): the PQ channel and peer client
 * (transport), the fan-out of recursive requests (forwarder), persisted retries, anti-entropy,
 * relocation, and the digest indexes that anti-entropy compares (messages and tombstones;
 * subaccount revocations). The node builds one per membership;
 * `forward()` is the SwarmRouter's fan-out and `endpoint(rpc)` serves the HTTP peer routes.
 */
import type {PeerEntry} from "../protocol/index.js";
import type {NodeIdentity} from "../crypto/index.js";
import type {PqBackend} from "../crypto/index.js";

import {ReplicationTables, RetryTable, type SqliteMessageStore} from "../storage/index.js";
import type {RevocationRecord, StoredMessage, TombstoneChange} from "../storage/index.js";
import {SwarmEvent} from "../swarm/index.js";
import {MEMBERSHIP_UPDATED, type MembershipService} from "../swarm/index.js";
import type {Clock} from "../util/index.js";
import {AntiEntropy} from "./anti-entropy.js";
import type {ChannelStats, HandshakeSigner} from "../peer/index.js";
import {DigestIndex} from "./digest-index.js";
import {Forwarder} from "./forwarder.js";
import type {ReplicationLogger} from "./logger.js";
import {MembershipView} from "./membership-view.js";
import {PEER_DOWN_PROBE_MS, resolveReplicationOptions, type ReplicationOptions} from "./options.js";
import {ChannelTransport, PEER_CONNECTIONS, PEER_MAX_FRAME_BYTES, PeerClient, type PeerEndpoint} from "../peer/index.js";
import {PeerRequestHandler, type RpcRunner} from "./peer-handler.js";
import {PeerHealth} from "./peer-health.js";
import {Relocator} from "./relocation.js";
import {RevocationIndex} from "./revocation-index.js";
import {RevocationSync} from "./revocation-sync.js";
import {RetryQueue} from "./retry-queue.js";
import {RpcBatcher} from "./rpc-batcher.js";
import {PeerTransport} from "./transport.js";

/** Tombstones past their `until` are swept this often, in batches of TOMBSTONE_SWEEP_BATCH. */
const TOMBSTONE_SWEEP_MS = 10_000;
const TOMBSTONE_SWEEP_BATCH = 5_000;
/** Membership events after which accounts may be served by another swarm. */
const SERVING_EVENTS = [SwarmEvent.SwarmCountChanged, SwarmEvent.NodeJoined, SwarmEvent.NodeLeft, SwarmEvent.NodeMoved, SwarmEvent.OurSwarmChanged] as const;

export interface ReplicatorModules {
  readonly membership: Pick<MembershipService, "snapshot" | "on" | "off">;
  readonly store: SqliteMessageStore;
  readonly pq: PqBackend;
  readonly identity: Pick<NodeIdentity, "nodeId" | "mlKem" | "mlDsa">;
  /** Handshake signatures; the node passes its worker-thread ContextSigner. */
  readonly signer?: HandshakeSigner;
  readonly clock: Clock;
  readonly logger: ReplicationLogger;
  /**
   * The node's peer client (its owner closes it). Default: one of the Replicator's own, with
   * PEER_CONNECTIONS sockets per peer, closed by `close()`.
   */
  readonly peerClient?: PeerClient;
}

export interface ReplicationStats {
  channels: ChannelStats;
  /** Persisted retries per peer. */
  pendingRetries: Record<string, number>;
}

export class Replicator {
  readonly opts: ReplicationOptions;
  readonly transport: PeerTransport;
  readonly antiEntropy: AntiEntropy;
  readonly relocator: Relocator;
  readonly retries: RetryQueue;
  readonly index = new DigestIndex();
  readonly revocationIndex = new RevocationIndex();
  readonly #revocations: RevocationSync;
  readonly #m: ReplicatorModules;
  readonly #view: MembershipView;
  readonly #tables: ReplicationTables;
  readonly #client: PeerClient;
  readonly #ownsClient: boolean;
  readonly #health: PeerHealth;
  readonly #forwarder: Forwarder;
  readonly #unsubscribe: Array<() => void> = [];
  #relocationDue = false;
  #syncDue = false;
  #sweepTimer: NodeJS.Timeout | null = null;

  constructor(opts: Partial<ReplicationOptions>, modules: ReplicatorModules) {
    this.opts = resolveReplicationOptions(opts);
    this.#m = modules;
    const {store, clock, logger} = modules;
    this.#view = new MembershipView(modules.membership, modules.identity.nodeId);
    this.#tables = new ReplicationTables(store.db);
    const view = this.#view;
    this.#ownsClient = modules.peerClient === undefined;
    this.#client = modules.peerClient ?? new PeerClient({connections: PEER_CONNECTIONS}, {directory: view});
    this.#health = new PeerHealth(PEER_DOWN_PROBE_MS, clock);
    this.transport = new PeerTransport(new ChannelTransport({maxFrameBytes: PEER_MAX_FRAME_BYTES}, {...modules, client: this.#client, keys: view}));
    const transport = this.transport;
    const revocations = new RevocationSync({revocations: store.revocations, index: this.revocationIndex, transport, view, clock});
    this.#revocations = revocations;
    this.retries = new RetryQueue(this.opts, {table: new RetryTable(store.db), tables: this.#tables, revocations, transport, view, health: this.#health, clock, logger});
    const batcher = new RpcBatcher(this.opts.maxBatchBytes, {transport});
    this.#forwarder = new Forwarder(this.opts, {batcher, view, retries: this.retries, health: this.#health, clock, logger});
    this.antiEntropy = new AntiEntropy(this.opts, {store, tables: this.#tables, index: this.index, revocations, transport, view, clock, logger});
    this.relocator = new Relocator(this.opts, {store, tables: this.#tables, index: this.index, revocations, transport, view, clock, logger});
  }

  /** The SwarmRouter's fan-out: every other member's entry (or failure entry), keyed by node ID. */
  forward(method: string, params: Record<string, unknown>): Promise<Record<string, PeerEntry>> {
    return this.#forwarder.forward(method, params);
  }

  /** The handler of the HTTP peer routes; `rpc` runs forwarded client requests. */
  endpoint(rpc: RpcRunner): PeerEndpoint {
    const {store, clock, logger} = this.#m;
    return new PeerRequestHandler(this.opts, {
      channels: this.transport.channels,
      rpc,
      store,
      tables: this.#tables,
      index: this.index,
      revocationIndex: this.revocationIndex,
      revocations: this.#revocations,
      view: this.#view,
      clock,
      logger,
      onContact: (peer) => this.#onContact(peer),
    });
  }

  /** Builds the digest indexes, follows the store and the membership, and starts the background work. */
  start(): void {
    this.#tables.scanHashes(
      (h) => this.index.addMessage(h),
      (h) => this.index.addTombstone(h),
    );
    const byAccount = new Map<string, RevocationRecord[]>();
    this.#m.store.revocations.scan((r) => {
      const records = byAccount.get(r.account) ?? [];
      records.push(r);
      byAccount.set(r.account, records);
    });
    for (const [account, records] of byAccount) this.revocationIndex.setAccount(account, records);
    this.#followStore();
    this.#followMembership();
    this.retries.start();
    this.#scheduleSweep();
    if (this.#view.snapshot !== null) this.#onMembership(true, true);
  }

  stats(): ReplicationStats {
    return {channels: this.transport.channels.stats(), pendingRetries: Object.fromEntries(this.retries.pending())};
  }

  /** Stops the background work; requests in flight are aborted rather than awaited. */
  async close(): Promise<void> {
    for (const off of this.#unsubscribe.splice(0)) off();
    if (this.#sweepTimer !== null) clearTimeout(this.#sweepTimer);
    this.transport.close();
    await Promise.all([this.retries.close(), this.antiEntropy.close(), this.relocator.close()]);
    if (this.#ownsClient) await this.#client.close();
  }

  /** Keeps the digest indexes in step with every committed write. */
  #followStore(): void {
    const {store} = this.#m;
    const added = (messages: StoredMessage[]): void => messages.forEach((m) => this.index.addMessage(m.hash));
    const removed = (hashes: string[]): void => hashes.forEach((h) => this.index.removeMessage(h));
    const tombstones = (c: TombstoneChange): void => {
      c.added.forEach((h) => this.index.addTombstone(h));
      c.removed.forEach((h) => this.index.removeTombstone(h));
    };
    const revocations = (accounts: string[]): void => accounts.forEach((a) => this.revocationIndex.setAccount(a, store.revocations.ofAccount(a)));
    store.on("added", added);
    store.on("removed", removed);
    store.on("tombstones", tombstones);
    store.on("revocations", revocations);
    this.#unsubscribe.push(() => {
      store.off("added", added);
      store.off("removed", removed);
      store.off("tombstones", tombstones);
      store.off("revocations", revocations);
    });
  }

  #followMembership(): void {
    const {membership} = this.#m;
    const onServing = (): void => void (this.#relocationDue = true);
    const onPeers = (): void => void (this.#syncDue = true);
    const onUpdated = (): void => {
      this.#onMembership(this.#relocationDue, this.#syncDue || this.#relocationDue);
      this.#relocationDue = this.#syncDue = false;
    };
    for (const e of SERVING_EVENTS) membership.on(e, onServing);
    membership.on(SwarmEvent.OurSwarmPeersChanged, onPeers);
    membership.on(MEMBERSHIP_UPDATED, onUpdated);
    this.#unsubscribe.push(() => {
      for (const e of SERVING_EVENTS) membership.off(e, onServing);
      membership.off(SwarmEvent.OurSwarmPeersChanged, onPeers);
      membership.off(MEMBERSHIP_UPDATED, onUpdated);
    });
  }

  #onMembership(relocate: boolean, sync: boolean): void {
    const nodes = this.#view.snapshot?.view.nodes().map((n) => n.nodeId) ?? [];
    void this.#client.retainPeers(nodes);
    if (relocate) this.relocator.schedule();
    if (sync) this.antiEntropy.trigger();
  }

  #onContact(peer: string): void {
    if (this.#health.markUp(peer)) this.#m.logger.info({peer}, "swarm peer reachable again");
    this.retries.wake(peer);
  }

  #scheduleSweep(): void {
    this.#sweepTimer = setTimeout(() => {
      try {
        const swept = this.#tables.sweepTombstones(this.#m.clock.now(), TOMBSTONE_SWEEP_BATCH);
        swept.forEach((h) => this.index.removeTombstone(h));
      } catch (err) {
        this.#m.logger.warn({err: String(err)}, "tombstone sweep failed");
      }
      this.#scheduleSweep();
    }, TOMBSTONE_SWEEP_MS);
    this.#sweepTimer.unref();
  }
}
