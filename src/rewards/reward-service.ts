/**
 * Reward accounting (docs/PROTOCOL.md (Rewards)): after each epoch this node signs its epoch report,
 * collects every member's report for `settleMs` (from any peer: reports are signed and relayed),
 * then computes the epoch's rewards from the reports it holds and adds them to the balances, in
 * one transaction. Epochs are accounted in order, from the first one this node ran in; epochs it
 * missed while down are accounted when it is back, from the reports its peers kept (its own is
 * missing, so it earns nothing for them).
 */
import {CTX} from "../crypto/index.js";
import type {PqBackend} from "../crypto/index.js";
import {epochBounds, epochIndex, lastClosedEpoch} from "../economics/index.js";
import {normalizeClaimAddress} from "../protocol/index.js";
import type {ContextSigner} from "../signer/index.js";
import type {RewardTables} from "../storage/index.js";
import {CoalescedTask, silentLogger, type Clock, type Logger} from "../util/index.js";
import {computeEpochRewards, type EpochRewards, type RewardMember} from "./compute.js";
import {MAX_BACKFILL_EPOCHS, REPORT_KEEP_MS, rewardTickMs, type RewardServiceOptions} from "./options.js";
import {reportFromJson, reportSigningBytes, reportToJson, verifyReport, type EpochReport, type EpochReportJson} from "./report.js";
import {epochRewardsToJson, type EpochRewardsJson} from "./views.js";

/** A member with what reward accounting needs from its signed record. */
export interface RewardMemberRecord extends RewardMember {
  readonly mlDsaPublicKey: Uint8Array;
}

export type RewardTableStore = Pick<
  RewardTables,
  | "putReport"
  | "reports"
  | "report"
  | "pruneReports"
  | "finalizeEpoch"
  | "lastFinalEpoch"
  | "verdictCounts"
  | "balances"
  | "balance"
  | "lastClaim"
  | "recentEpochs"
>;

export interface RewardServiceModules {
  readonly clock: Clock;
  readonly logger?: Logger;
  readonly pq: PqBackend;
  readonly nodeId: string;
  readonly tables: RewardTableStore;
  /** The node's ML-DSA signer (reports are signed with CTX.EPOCH_REPORT). */
  readonly signer: ContextSigner;
  /** The current members, or null before the first membership document. */
  readonly members: () => readonly RewardMemberRecord[] | null;
  /** What this node charged in the epoch starting at `startMs` (the fee ledger, flushed first). */
  readonly feesOf: (startMs: number) => {total: bigint; swarmMembers: readonly string[]};
  /** Every report `nodeId` holds for `epoch` (`GET /rewards/v1/reports/<epoch>`); rejects on failure. */
  readonly fetchReports: (nodeId: string, epoch: number, timeoutMs: number) => Promise<unknown>;
  /** The first epoch this node accounts, kept across restarts (the store's state table). */
  readonly firstEpoch: {get(): number | null; set(epoch: number): void};
}

export class RewardService {
  readonly #task: CoalescedTask<void>;
  readonly #log: Logger;
  /** When this service came up: it reports only epochs that ended after this (it ran at their end). */
  readonly #upSince: number;
  #first: number | null = null;

  constructor(
    readonly opts: RewardServiceOptions,
    private readonly modules: RewardServiceModules,
  ) {
    this.#log = modules.logger ?? silentLogger;
    this.#upSince = modules.clock.now();
    this.#task = new CoalescedTask({
      run: () => this.pass(),
      intervalMs: rewardTickMs(opts),
      clock: modules.clock,
      onError: (err) => this.#log.warn({err}, "reward accounting pass failed"),
    });
  }

  start(): void {
    this.#task.trigger();
  }

  close(): Promise<void> {
    return this.#task.close();
  }

  /** One round: publish our report, collect the others', finalize what has settled. Exposed for tests. */
  async pass(): Promise<void> {
    const now = this.modules.clock.now();
    const first = this.#firstEpoch(now);
    const last = lastClosedEpoch(this.opts.schedule, now);
    if (last === null || last < first) return;
    const done = this.modules.tables.lastFinalEpoch();
    const from = Math.max(first, done === null ? first : done + 1, last - MAX_BACKFILL_EPOCHS + 1);
    // Epochs become final in order: once one is still settling, the later ones only publish and collect.
    let settled = true;
    for (let e = from; e <= last; e++) {
      const {endMs} = epochBounds(this.opts.schedule, e);
      await this.#publishOwn(e, now);
      await this.#collect(e);
      settled &&= this.modules.clock.now() >= endMs + this.opts.settleMs;
      if (settled) this.#finalize(e);
    }
  }

  /** The reports held for `epoch` (wire form), for `GET /rewards/v1/reports/<epoch>`. */
  reportsOf(epoch: number): EpochReportJson[] {
    return this.modules.tables.reports(epoch).map((text) => JSON.parse(text) as EpochReportJson);
  }

  /** `GET /rewards/v1/balances`: every address's cumulative earnings over the final epochs. */
  balances(): Record<string, unknown> {
    const {tables} = this.modules;
    const balances = tables.balances().map((b) => ({address: b.address, earned: b.earned.toString(), last_epoch: b.lastEpoch}));
    return {...this.#header(), balances};
  }

  /** `GET /rewards/v1/balances/<address>`, or null when the address never earned. */
  balance(rawAddress: string): Record<string, unknown> | null {
    const address = normalizeClaimAddress(rawAddress);
    const row = address === null ? null : this.modules.tables.balance(address);
    if (row === null || address === null) return null;
    const claimed = this.modules.tables.lastClaim(address)?.amount ?? 0n;
    return {...this.#header(), address, earned: row.earned.toString(), last_epoch: row.lastEpoch, last_claim: claimed.toString()};
  }

  /** `GET /rewards/v1/epochs?limit=N`: the newest final epochs with their computed rewards. */
  epochs(limit: number): Record<string, unknown> {
    const epochs = this.modules.tables.recentEpochs(limit).map((r) => ({
      start_ms: r.startMs,
      end_ms: r.endMs,
      finalized_at: r.finalizedAt,
      ...(JSON.parse(r.result) as EpochRewardsJson),
    }));
    return {...this.#header(), epochs};
  }

  #header(): Record<string, unknown> {
    const {epochMs, genesisMs} = this.opts.schedule;
    const last = this.modules.tables.lastFinalEpoch();
    return {unit: "base", decimals: 18, network_id: this.opts.networkId, epoch_ms: epochMs, genesis_ms: genesisMs, last_final_epoch: last, t: this.modules.clock.now()};
  }

  /** A pass now (tests; the loop runs on its own). */
  trigger(): void {
    this.#task.trigger();
  }

  #firstEpoch(now: number): number {
    if (this.#first !== null) return this.#first;
    const stored = this.modules.firstEpoch.get();
    const {genesisMs} = this.opts.schedule;
    this.#first = stored ?? (now < genesisMs ? 0 : epochIndex(this.opts.schedule, now));
    if (stored === null) this.modules.firstEpoch.set(this.#first);
    return this.#first;
  }

  /**
   * Our report for `epoch`, signed once, only if this node was up when the epoch ended and only
   * during the first half of the settle window: a node that was down at the epoch's end publishes
   * nothing for it later (even if it is back within the window), and peers get the second half to
   * fetch what was published.
   */
  async #publishOwn(epoch: number, now: number): Promise<void> {
    const {nodeId, tables} = this.modules;
    if (tables.report(epoch, nodeId) !== null) return;
    const {startMs, endMs} = epochBounds(this.opts.schedule, epoch);
    if (endMs <= this.#upSince || now >= endMs + this.opts.settleMs / 2) return;
    const fees = this.modules.feesOf(startMs);
    const unsigned = {
      networkId: this.opts.networkId,
      epoch,
      nodeId,
      fees: {total: fees.total, swarmMembers: [...new Set(fees.swarmMembers)].sort()},
      verdicts: tables.verdictCounts(nodeId, startMs, endMs),
      signedAt: now,
    };
    const signature = await this.modules.signer.sign(reportSigningBytes(unsigned), CTX.EPOCH_REPORT);
    const report: EpochReport = {...unsigned, signature};
    tables.putReport(epoch, nodeId, JSON.stringify(reportToJson(report)), now);
    this.#log.debug({epoch}, "epoch report signed");
  }

  /** Asks every other member for the reports it holds for `epoch` while one is missing here. */
  async #collect(epoch: number): Promise<void> {
    const members = this.modules.members();
    if (members === null) return;
    const held = new Set(this.modules.tables.reports(epoch).map((t) => (JSON.parse(t) as EpochReportJson).node_id));
    if (members.every((m) => held.has(m.nodeId))) return;
    const byId = new Map(members.map((m) => [m.nodeId, m]));
    const peers = members.filter((m) => m.nodeId !== this.modules.nodeId);
    await Promise.all(peers.map(async (peer) => this.#fetchFrom(peer.nodeId, epoch, byId)));
  }

  async #fetchFrom(peer: string, epoch: number, byId: ReadonlyMap<string, RewardMemberRecord>): Promise<void> {
    let answer: unknown;
    try {
      answer = await this.modules.fetchReports(peer, epoch, this.opts.requestTimeoutMs);
    } catch (err) {
      this.#log.debug({peer, epoch, err: (err as Error).message}, "epoch reports not fetched");
      return;
    }
    const list = (answer as {reports?: unknown} | null)?.reports;
    if (!Array.isArray(list)) return;
    for (const item of list) this.#accept(item, epoch, byId);
  }

  /** Keeps a fetched report if it is for `epoch` and this network, by a member, and signed by it. */
  #accept(item: unknown, epoch: number, byId: ReadonlyMap<string, RewardMemberRecord>): void {
    let report: EpochReport;
    try {
      report = reportFromJson(item);
    } catch {
      return;
    }
    const author = byId.get(report.nodeId);
    if (report.epoch !== epoch || report.networkId !== this.opts.networkId || author === undefined) return;
    if (!verifyReport(this.modules.pq, report, author.mlDsaPublicKey)) return;
    this.modules.tables.putReport(epoch, report.nodeId, JSON.stringify(reportToJson(report)), this.modules.clock.now());
  }

  #finalize(epoch: number): EpochRewards | null {
    const members = this.modules.members();
    if (members === null) return null;
    const {startMs, endMs} = epochBounds(this.opts.schedule, epoch);
    const reports: EpochReport[] = [];
    for (const text of this.modules.tables.reports(epoch)) {
      try {
        reports.push(reportFromJson(JSON.parse(text)));
      } catch {
        // Every stored report was parsed before it was stored; a row that no longer parses is skipped.
      }
    }
    const {genesisMs, epochMs} = this.opts.schedule;
    const result = computeEpochRewards({epoch, startMs, epochMs, genesisMs, totalSupply: this.opts.totalSupply, members, reports});
    const row = {epoch, startMs, endMs, result: JSON.stringify(epochRewardsToJson(result)), finalizedAt: this.modules.clock.now()};
    this.modules.tables.finalizeEpoch(row, result.addresses);
    const keepEpochs = Math.ceil(REPORT_KEEP_MS / epochMs);
    if (epoch >= keepEpochs) this.modules.tables.pruneReports(epoch - keepEpochs);
    const earning = result.nodes.filter((n) => n.eligible).length;
    this.#log.info({epoch, reports: reports.length, earning, members: members.length}, "reward epoch final");
    return result;
  }
}
