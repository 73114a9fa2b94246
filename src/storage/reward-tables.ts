/**
 * Reward accounting tables (migration 0009; src/rewards/ owns the rules): epoch reports, final
 * epochs with their balances, signed claims. Autocommit statements on the store's connection,
 * except `finalizeEpoch`, which writes an epoch and its balances in one transaction.
 */
import type {Statement} from "better-sqlite3";
import type {StorageDb} from "./db.js";
import {prepareAll, runOnOpen} from "./table.js";

export interface RewardBalanceRow {
  address: string;
  earned: bigint;
  lastEpoch: number;
}

export interface RewardClaimRow {
  address: string;
  amount: bigint;
  delta: bigint;
  atMs: number;
  expiryMs: number;
}

export interface RewardEpochRow {
  epoch: number;
  startMs: number;
  endMs: number;
  /** The computed rewards as JSON text. */
  result: string;
  finalizedAt: number;
}

const SQL = {
  putReport: "INSERT OR IGNORE INTO reward_reports (epoch, node_id, report, received_at) VALUES (?, ?, ?, ?)",
  reports: "SELECT report FROM reward_reports WHERE epoch = ? ORDER BY node_id",
  reportOf: "SELECT report FROM reward_reports WHERE epoch = ? AND node_id = ?",
  pruneReports: "DELETE FROM reward_reports WHERE epoch < ?",
  putEpoch: "INSERT INTO reward_epochs (epoch, start_ms, end_ms, result, finalized_at) VALUES (?, ?, ?, ?, ?)",
  epoch: "SELECT * FROM reward_epochs WHERE epoch = ?",
  recentEpochs: "SELECT * FROM reward_epochs ORDER BY epoch DESC LIMIT ?",
  lastEpoch: "SELECT max(epoch) AS e FROM reward_epochs",
  balance: "SELECT * FROM reward_balances WHERE address = ?",
  balances: "SELECT * FROM reward_balances ORDER BY address",
  upsertBalance: "INSERT INTO reward_balances (address, earned, last_epoch) VALUES (?, ?, ?) " +
    "ON CONFLICT (address) DO UPDATE SET earned = excluded.earned, last_epoch = excluded.last_epoch",
  addClaim: "INSERT INTO reward_claims (address, amount, delta, at_ms, expiry_ms) VALUES (?, ?, ?, ?, ?)",
  claimsSince: "SELECT * FROM reward_claims WHERE at_ms >= ? ORDER BY id",
  lastClaim: "SELECT * FROM reward_claims WHERE address = ? ORDER BY id DESC LIMIT 1",
  verdicts:
    "SELECT target_id, outcome, count(*) AS n FROM proof_results " +
    "WHERE at >= ? AND at < ? AND challenger_id = ? AND outcome IN ('pass', 'fail') GROUP BY target_id, outcome ORDER BY target_id",
} as const;

type Prepared = {[K in keyof typeof SQL]: Statement};
interface BalanceDb {
  address: string;
  earned: string;
  last_epoch: number;
}
interface ClaimDb {
  address: string;
  amount: string;
  delta: string;
  at_ms: number;
  expiry_ms: number;
}
interface EpochDb {
  epoch: number;
  start_ms: number;
  end_ms: number;
  result: string;
  finalized_at: number;
}

export class RewardTables {
  readonly #db: StorageDb;
  readonly #st: Prepared;

  constructor(db: StorageDb) {
    this.#db = db;
    this.#st = prepareAll(db, SQL) as Prepared;
  }

  /** Keeps the first copy of a node's report for an epoch; returns whether this one was new. */
  putReport(epoch: number, nodeId: string, json: string, receivedAt: number): boolean {
    return this.#run(() => this.#st.putReport.run(epoch, nodeId, json, receivedAt).changes === 1);
  }

  /** Every report held for `epoch` as JSON text, by node ID. */
  reports(epoch: number): string[] {
    return this.#run(() => this.#st.reports.pluck().all(epoch) as string[]);
  }

  report(epoch: number, nodeId: string): string | null {
    return this.#run(() => (this.#st.reportOf.pluck().get(epoch, nodeId) as string | undefined) ?? null);
  }

  /** Drops reports of epochs before `epoch`; returns how many. */
  pruneReports(epoch: number): number {
    return this.#run(() => this.#st.pruneReports.run(epoch).changes);
  }

  /** Writes a final epoch and adds its earnings to the balances, atomically; false if it was final already. */
  finalizeEpoch(row: RewardEpochRow, earned: ReadonlyArray<{address: string; amount: bigint}>): boolean {
    return this.#run(() =>
      this.#db.sqlite.transaction(() => {
        if (this.#st.epoch.get(row.epoch) !== undefined) return false;
        this.#st.putEpoch.run(row.epoch, row.startMs, row.endMs, row.result, row.finalizedAt);
        for (const {address, amount} of earned) {
          const old = this.#st.balance.get(address) as BalanceDb | undefined;
          const total = (old === undefined ? 0n : BigInt(old.earned)) + amount;
          this.#st.upsertBalance.run(address, total.toString(), row.epoch);
        }
        return true;
      })(),
    );
  }

  epoch(epoch: number): RewardEpochRow | null {
    const r = this.#run(() => this.#st.epoch.get(epoch) as EpochDb | undefined);
    return r === undefined ? null : toEpoch(r);
  }

  recentEpochs(limit: number): RewardEpochRow[] {
    return this.#run(() => (this.#st.recentEpochs.all(limit) as EpochDb[]).map(toEpoch));
  }

  /** The newest final epoch, or null before the first. */
  lastFinalEpoch(): number | null {
    return this.#run(() => (this.#st.lastEpoch.get() as {e: number | null}).e);
  }

  balance(address: string): RewardBalanceRow | null {
    const r = this.#run(() => this.#st.balance.get(address) as BalanceDb | undefined);
    return r === undefined ? null : toBalance(r);
  }

  balances(): RewardBalanceRow[] {
    return this.#run(() => (this.#st.balances.all() as BalanceDb[]).map(toBalance));
  }

  addClaim(c: RewardClaimRow): void {
    this.#run(() => this.#st.addClaim.run(c.address, c.amount.toString(), c.delta.toString(), c.atMs, c.expiryMs));
  }

  claimsSince(sinceMs: number): RewardClaimRow[] {
    return this.#run(() => (this.#st.claimsSince.all(sinceMs) as ClaimDb[]).map(toClaim));
  }

  lastClaim(address: string): RewardClaimRow | null {
    const r = this.#run(() => this.#st.lastClaim.get(address) as ClaimDb | undefined);
    return r === undefined ? null : toClaim(r);
  }

  /** Pass and fail counts per target of the verdicts `challengerId` reached in [fromMs, toMs) (the proof ledger, 0003). */
  verdictCounts(challengerId: string, fromMs: number, toMs: number): Array<{target: string; passed: number; failed: number}> {
    type Row = {target_id: string; outcome: "pass" | "fail"; n: number};
    const rows = this.#run(() => this.#st.verdicts.all(fromMs, toMs, challengerId) as Row[]);
    const out = new Map<string, {target: string; passed: number; failed: number}>();
    for (const r of rows) {
      const t = out.get(r.target_id) ?? {target: r.target_id, passed: 0, failed: 0};
      if (r.outcome === "pass") t.passed += r.n;
      else t.failed += r.n;
      out.set(r.target_id, t);
    }
    return [...out.values()];
  }

  #run<T>(fn: () => T): T {
    return runOnOpen(this.#db, fn);
  }
}

function toBalance(r: BalanceDb): RewardBalanceRow {
  return {address: r.address, earned: BigInt(r.earned), lastEpoch: r.last_epoch};
}

function toClaim(r: ClaimDb): RewardClaimRow {
  return {address: r.address, amount: BigInt(r.amount), delta: BigInt(r.delta), atMs: r.at_ms, expiryMs: r.expiry_ms};
}

function toEpoch(r: EpochDb): RewardEpochRow {
  return {epoch: r.epoch, startMs: r.start_ms, endMs: r.end_ms, result: r.result, finalizedAt: r.finalized_at};
}
