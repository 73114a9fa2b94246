/**
 * One epoch's rewards from the reports every node published (docs/PROTOCOL.md (Rewards) §4): a
 * pure function of the membership and the report set, so every node holding the same reports
 * computes the same balances. The formulas are economics/ (PIP-0008 §2.2, §6.2).
 */
import {annualInflation, apportion, distributeRewards, inflationYear, periodInflation, splitFee} from "../economics/index.js";
import type {EpochReport} from "./report.js";

/** A member as the accounting sees it: its stake from the signed node record. */
export interface RewardMember {
  readonly nodeId: string;
  readonly stake: {
    readonly operator: {readonly address: string; readonly amount: bigint};
    readonly contributors: ReadonlyArray<{readonly address: string; readonly amount: bigint}>;
  };
}

export interface EpochInput {
  readonly epoch: number;
  readonly startMs: number;
  readonly epochMs: number;
  readonly genesisMs: number;
  /** Supply at genesis (config `rewards.totalSupply`); 0 = no inflation pool. */
  readonly totalSupply: bigint;
  readonly members: readonly RewardMember[];
  /** Verified reports of this epoch, at most one per member; others are ignored. */
  readonly reports: readonly EpochReport[];
}

export type Ineligibility = "no-report" | "failed-challenge";

export interface NodeReward {
  readonly nodeId: string;
  readonly eligible: boolean;
  readonly reason: Ineligibility | null;
  /** Challenge verdicts about this node in the epoch's reports. */
  readonly passed: number;
  readonly failed: number;
  readonly fees: bigint;
  readonly inflation: bigint;
}

export interface EpochRewards {
  readonly epoch: number;
  readonly inflationPool: bigint;
  /** Fees charged by every reporting node in the epoch (100 %). */
  readonly feesTotal: bigint;
  /** 20 % of the fees, plus the swarm parts of nodes that did not earn (forfeited). */
  readonly treasury: bigint;
  /** Inflation not paid out because no node earned (never minted). */
  readonly unpaidInflation: bigint;
  /** By node ID, sorted. */
  readonly nodes: readonly NodeReward[];
  /** Base units earned in this epoch by each staking address (lowercase), sorted by address. */
  readonly addresses: ReadonlyArray<{readonly address: string; readonly amount: bigint}>;
}

/** Computes an epoch's rewards; every ordering is by node ID or address, so input order does not matter. */
export function computeEpochRewards(input: EpochInput): EpochRewards {
  const members = [...input.members].sort((a, b) => compare(a.nodeId, b.nodeId));
  const memberIds = new Set(members.map((m) => m.nodeId));
  const reports = new Map<string, EpochReport>();
  for (const r of input.reports) if (r.epoch === input.epoch && memberIds.has(r.nodeId)) reports.set(r.nodeId, r);
  const verdicts = tallyVerdicts(reports);
  const eligible = new Set<string>();
  const nodeFacts = members.map((m) => {
    const v = verdicts.get(m.nodeId) ?? {passed: 0, failed: 0};
    const reason: Ineligibility | null = !reports.has(m.nodeId) ? "no-report" : v.failed > 0 ? "failed-challenge" : null;
    if (reason === null) eligible.add(m.nodeId);
    return {nodeId: m.nodeId, reason, ...v};
  });
  const fees = feeShares(reports, eligible);
  const inflationPool = epochInflation(input);
  const inflation = inflationShares(members.filter((m) => eligible.has(m.nodeId)), inflationPool);
  const nodes = nodeFacts.map((f) => ({
    ...f,
    eligible: f.reason === null,
    fees: fees.byNode.get(f.nodeId) ?? 0n,
    inflation: inflation.get(f.nodeId) ?? 0n,
  }));
  return {
    epoch: input.epoch,
    inflationPool,
    feesTotal: fees.total,
    treasury: fees.treasury,
    unpaidInflation: eligible.size === 0 ? inflationPool : 0n,
    nodes,
    addresses: toStakers(members, nodes),
  };
}

/** Pass and fail counts about each node, from every other node's report (a node cannot vouch for itself). */
function tallyVerdicts(reports: ReadonlyMap<string, EpochReport>): Map<string, {passed: number; failed: number}> {
  const out = new Map<string, {passed: number; failed: number}>();
  for (const r of reports.values()) {
    for (const v of r.verdicts) {
      if (v.target === r.nodeId) continue;
      const t = out.get(v.target) ?? {passed: 0, failed: 0};
      t.passed += v.passed;
      t.failed += v.failed;
      out.set(v.target, t);
    }
  }
  return out;
}

/**
 * PIP-0008 §6.2 per report: 20 % to the treasury, 80 % split equally among the swarm members the
 * reporting node charged for; a member's part goes to it only if it earns this epoch, otherwise to
 * the treasury.
 */
function feeShares(reports: ReadonlyMap<string, EpochReport>, eligible: ReadonlySet<string>): {
  total: bigint;
  treasury: bigint;
  byNode: Map<string, bigint>;
} {
  let total = 0n;
  let treasury = 0n;
  const byNode = new Map<string, bigint>();
  for (const r of [...reports.values()].sort((a, b) => compare(a.nodeId, b.nodeId))) {
    if (r.fees.total === 0n) continue;
    total += r.fees.total;
    const split = splitFee(r.fees.total);
    treasury += split.treasury;
    const sharers = r.fees.swarmMembers.length > 0 ? [...new Set(r.fees.swarmMembers)].sort(compare) : [r.nodeId];
    const parts = apportion(split.swarm, sharers.map((key) => ({key, weight: 1n})));
    sharers.forEach((id, i) => {
      const part = parts[i] ?? 0n;
      if (eligible.has(id)) byNode.set(id, (byNode.get(id) ?? 0n) + part);
      else treasury += part;
    });
  }
  return {total, treasury, byNode};
}

/** §2.2 block rewards for one epoch: the year's rate on the supply compounded since genesis. */
function epochInflation(input: EpochInput): bigint {
  if (input.totalSupply === 0n) return 0n;
  const year = inflationYear(input.genesisMs, input.startMs);
  let supply = input.totalSupply;
  for (let y = 1; y < year; y++) supply += annualInflation(supply, y);
  return periodInflation(supply, year, input.epochMs);
}

/** §2.2 "distributed proportionally to staked PARS", among the nodes that earn. */
function inflationShares(earning: readonly RewardMember[], pool: bigint): Map<string, bigint> {
  const out = new Map<string, bigint>();
  const stakes = earning.map((m) => ({address: m.nodeId, amount: totalStake(m)})).filter((s) => s.amount > 0n);
  if (pool === 0n || stakes.length === 0) return out;
  for (const s of distributeRewards(stakes, pool)) out.set(s.address, s.reward);
  return out;
}

/** Each node's earnings go to its operator and contributors in proportion to their stake. */
function toStakers(members: readonly RewardMember[], nodes: readonly NodeReward[]): Array<{address: string; amount: bigint}> {
  const byAddress = new Map<string, bigint>();
  members.forEach((m, i) => {
    const node = nodes[i];
    const earned = (node?.fees ?? 0n) + (node?.inflation ?? 0n);
    if (earned === 0n) return;
    const stakers = new Map<string, bigint>();
    for (const s of [m.stake.operator, ...m.stake.contributors]) {
      const address = s.address.toLowerCase();
      stakers.set(address, (stakers.get(address) ?? 0n) + s.amount);
    }
    const list = [...stakers].map(([address, amount]) => ({address, amount})).filter((s) => s.amount > 0n);
    // A record with no positive stake cannot be in a membership (PIP-0008 §2.2); keep the sum exact anyway.
    if (list.length === 0) list.push({address: m.stake.operator.address.toLowerCase(), amount: 1n});
    for (const r of distributeRewards(list, earned)) byAddress.set(r.address, (byAddress.get(r.address) ?? 0n) + r.reward);
  });
  return [...byAddress].map(([address, amount]) => ({address, amount})).sort((a, b) => compare(a.address, b.address));
}

function totalStake(m: RewardMember): bigint {
  return m.stake.contributors.reduce((sum, c) => sum + c.amount, m.stake.operator.amount);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
