/**
 * Signs a penalty report for every failing verdict of this node's own challenges (the ledger's
 * hook) and stores it with its evidence. A pass or an inconclusive verdict is not reported.
 */
import {epochIndex, type EpochSchedule} from "../economics/index.js";
import type {Clock, Logger} from "../util/index.js";
import {evidenceToJson, type EvidenceBundle} from "./evidence.js";
import {penaltyEvidenceHash, penaltyKindOf, signPenaltyReport, type PenaltyReport} from "./penalty.js";
import type {PenaltyStore} from "./penalty-store.js";

export interface PenaltyReporterOptions {
  readonly networkId: number;
  /** The reward epochs (config rewards.epochMs / rewards.genesisMs) that reports name. */
  readonly epochs: EpochSchedule;
  /** Rows kept in the table (oldest dropped first). */
  readonly keepReports: number;
}

export interface PenaltyReporterModules {
  readonly nodeId: string;
  /** The node's BLS secret key (`staking/signer.key`). */
  readonly blsSecretKey: Uint8Array;
  readonly store: PenaltyStore;
  readonly clock: Clock;
  readonly logger: Pick<Logger, "info" | "warn">;
}

export class PenaltyReporter {
  constructor(
    private readonly opts: PenaltyReporterOptions,
    private readonly m: PenaltyReporterModules,
  ) {}

  /** Reports `e` if it is a failing verdict of this node's challenge; returns the report or null. */
  onVerdict(e: EvidenceBundle): PenaltyReport | null {
    const kind = penaltyKindOf(e.verdict);
    if (kind === null || e.challenge.challengerId !== this.m.nodeId) return null;
    const at = this.m.clock.now();
    let epoch: number;
    try {
      epoch = epochIndex(this.opts.epochs, at);
    } catch (err) {
      this.m.logger.warn({err: String(err)}, "no penalty report: the clock is before the network genesis");
      return null;
    }
    const evidence = JSON.stringify(evidenceToJson(e));
    const statement = {networkId: this.opts.networkId, accusedId: e.challenge.targetId, epoch, kind, evidenceHash: penaltyEvidenceHash(evidence)};
    const report = signPenaltyReport(statement, this.m.nodeId, this.m.blsSecretKey);
    this.m.store.add(report, evidence, at, this.opts.keepReports);
    this.m.logger.info({accused: report.accusedId, epoch, kind}, "signed a penalty report");
    return report;
  }
}
