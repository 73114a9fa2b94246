/** JSON forms of reward results and balances (docs/PROTOCOL.md (Rewards) §6). Amounts are decimal strings of base units. */
import type {EpochRewards} from "./compute.js";

export interface EpochRewardsJson {
  epoch: number;
  inflation_pool: string;
  fees_total: string;
  treasury: string;
  unpaid_inflation: string;
  nodes: Array<{node_id: string; eligible: boolean; reason: string | null; passed: number; failed: number; fees: string; inflation: string}>;
  addresses: Array<{address: string; amount: string}>;
}

export function epochRewardsToJson(r: EpochRewards): EpochRewardsJson {
  return {
    epoch: r.epoch,
    inflation_pool: r.inflationPool.toString(),
    fees_total: r.feesTotal.toString(),
    treasury: r.treasury.toString(),
    unpaid_inflation: r.unpaidInflation.toString(),
    nodes: r.nodes.map((n) => ({
      node_id: n.nodeId,
      eligible: n.eligible,
      reason: n.reason,
      passed: n.passed,
      failed: n.failed,
      fees: n.fees.toString(),
      inflation: n.inflation.toString(),
    })),
    addresses: r.addresses.map((a) => ({address: a.address, amount: a.amount.toString()})),
  };
}
