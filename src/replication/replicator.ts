/**
 * Replication (docs/PROTOCOL.md (Replication)): the PQ channel transport, the fan-out of recursive
 * requests (forwarder), persisted retries, anti-entropy, relocation, and the digest indexes that
 * anti-entropy compares (messages and tombstones; subaccount revocations). node/ builds the parts
 * (node/assemble-replication.ts), one set per membership; this class starts, follows and stops
 * them. `forward()` is the SwarmRouter's fan-out and `endpoint(rpc)` serves the HTTP peer routes.
 */
import type {PeerEntry} from "../protocol/index.js";

import type {ReplicationTables, SqliteMessageStore} from "../storage/index.js";
import type {RevocationRecord, StoredMessage, TombstoneChange} from "../storage/index.js";
import {SwarmEvent} from "../swarm/index.js";
import {MEMBERSHIP_UPDATED, type MembershipService} from "../swarm/index.js";
import type {Clock} from "../util/index.js";
import type {AntiEntropy} from "./anti-entropy.js";
import type {ChannelStats, PeerClient, PeerEndpoint} from "../peer/index.js";
import type {DigestIndex} from "./digest-index.js";
import type {Forwarder} from "./forwarder.js";
import type {Logger} from "../util/index.js";
import type {MembershipView} from "./membership-view.js";
import type {ReplicationOptions} from "./options.js";
import type {RpcRunner, SealedProofApi} from "./peer-handler.js";
import type {PeerHealth} from "./peer-health.js";
import type {Relocator} from "./relocation.js";
import type {RevocationIndex} from "./revocation-index.js";
import type {RetryQueue} from "./retry-queue.js";
import type {PeerTransport} from "./transport.js";

/** Tombstones past their `until` are swept this often, in batches of TOMBSTONE_SWEEP_BATCH. */
const TOMBSTONE_SWEEP_MS = 10_000;
const TOMBSTONE_SWEEP_BATCH = 5_000;
/** Membership events after which accounts may be served by another swarm. */
const SERVING_EVENTS = [SwarmEvent.SwarmCountChanged, SwarmEvent.NodeJoined, SwarmEvent.NodeLeft, SwarmEvent.NodeMoved, SwarmEvent.OurSwarmChanged] as const;

/** The parts node/ builds for one Replicator (node/assemble-replication.ts). */
export interface ReplicatorModules {
  readonly membership: Pick<MembershipService, "snapshot" | "on" | "off">;
  readonly store: SqliteMessageStore;
  readonly tables: ReplicationTables;
  readonly view: MembershipView;
  /** The node's peer client (its owner closes it): the Replicator keeps its pools to current nodes. */
  readonly peerClient: Pick<PeerClient, "retainPeers">;
  readonly transport: PeerTransport;
  readonly health: PeerHealth;
  readonly index: DigestIndex;
  readonly revocationIndex: RevocationIndex;
  readonly retries: RetryQueue;
  readonly forwarder: Forwarder;
  readonly antiEntropy: AntiEntropy;
  readonly relocator: Relocator;
  /** Builds the handler of the HTTP peer routes once the RPC exists; `onContact` wakes a peer's retries. */
  readonly endpoint: (rpc: RpcRunner, onContact: (peer: string) => void, proofs: SealedProofApi | null) => PeerEndpoint;
  readonly clock: Clock;
  readonly logger: Logger;
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
  readonly index: DigestIndex;
  readonly revocationIndex: RevocationIndex;
  readonly #m: ReplicatorModules;
  readonly #unsubscribe: Array<() => void> = [];
  #relocationDue = false;
  #syncDue = false;
  #sweepTimer: NodeJS.Timeout | null = null;

  constructor(opts: ReplicationOptions, modules: ReplicatorModules) {
    this.opts = opts;
    this.#m = modules;
    this.transport = modules.transport;
    this.antiEntropy = modules.antiEntropy;
    this.relocator = modules.relocator;
    this.retries = modules.retries;
    this.index = modules.index;
    this.revocationIndex = modules.revocationIndex;
  }

  /** The SwarmRouter's fan-out: every other member's entry (or failure entry), keyed by node ID. */
  forward(method: string, params: Record<string, unknown>): Promise<Record<string, PeerEntry>> {
    return this.#m.forwarder.forward(method, params);
  }

  /** The handler of the HTTP peer routes; `rpc` runs forwarded client requests, `proofs` answers storage-proof messages. */
  endpoint(rpc: RpcRunner, proofs: SealedProofApi | null = null): PeerEndpoint {
    return this.#m.endpoint(rpc, (peer) => this.#onContact(peer), proofs);
  }

  /** Builds the digest indexes, follows the store and the membership, and starts the background work. */
  start(): void {
    this.#m.tables.scanHashes(
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
    if (this.#m.view.snapshot !== null) this.#onMembership(true, true);
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
    const nodes = this.#m.view.snapshot?.view.nodes().map((n) => n.nodeId) ?? [];
    void this.#m.peerClient.retainPeers(nodes);
    if (relocate) this.relocator.schedule();
    if (sync) this.antiEntropy.trigger();
  }

  #onContact(peer: string): void {
    if (this.#m.health.markUp(peer)) this.#m.logger.info({peer}, "swarm peer reachable again");
    this.retries.wake(peer);
  }

  #scheduleSweep(): void {
    this.#sweepTimer = setTimeout(() => {
      try {
        const swept = this.#m.tables.sweepTombstones(this.#m.clock.now(), TOMBSTONE_SWEEP_BATCH);
        swept.forEach((h) => this.index.removeTombstone(h));
      } catch (err) {
        this.#m.logger.warn({err: String(err)}, "tombstone sweep failed");
      }
      this.#scheduleSweep();
    }, TOMBSTONE_SWEEP_MS);
    this.#sweepTimer.unref();
  }
}
