/**
 * Reward accounting and claims (docs/PROTOCOL.md (Rewards)): the RewardService over the store's
 * reward tables, fetching peers' epoch reports through the one peer client, and the ClaimService
 * signing with the node's BLS key. Only with a membership: a lone node has no one to agree with.
 */
import type {ParsStorageConfig} from "../config/index.js";
import type {BlsKeyPair, NodeIdentity, PqBackend} from "../crypto/index.js";
import type {FeeService} from "../fees/index.js";
import type {PeerClient} from "../peer/index.js";
import {
  ClaimService,
  DEFAULT_REPORT_REQUEST_TIMEOUT_MS,
  RewardService,
  blsClaimSigner,
  signedClaimToJson,
  type RewardMemberRecord,
  type RewardServiceOptions,
} from "../rewards/index.js";
import type {ContextSigner} from "../signer/index.js";
import type {RewardTables, SqliteFeeLedger, SqliteMessageStore} from "../storage/index.js";
import type {MembershipService} from "../swarm/index.js";
import type {Clock, Logger} from "../util/index.js";

/** A reports answer holds at most one small report per member. */
const MAX_REPORTS_BYTES = 4 * 1024 * 1024;
const FIRST_EPOCH_STATE = "rewards_first_epoch";

export function rewardServiceOptions(config: ParsStorageConfig): RewardServiceOptions {
  const r = config.rewards;
  return {
    networkId: config.networkId,
    schedule: {epochMs: r.epochMs, genesisMs: r.genesisMs},
    settleMs: r.settleMs,
    totalSupply: BigInt(r.totalSupply),
    claimLimits: {threshold: BigInt(r.claimThreshold), cycleMs: r.claimCycleMs},
    requestTimeoutMs: DEFAULT_REPORT_REQUEST_TIMEOUT_MS,
  };
}

export interface RewardParts {
  readonly clock: Clock;
  readonly logger: Logger;
  readonly pq: PqBackend;
  readonly identity: NodeIdentity;
  readonly store: SqliteMessageStore;
  readonly tables: RewardTables;
  readonly feeLedger: Pick<SqliteFeeLedger, "get">;
  readonly fees: Pick<FeeService, "flush">;
  readonly membership: MembershipService;
  readonly peers: Pick<PeerClient, "request">;
  readonly signer: ContextSigner;
  /** The node's BLS key (`staking/signer.key`): claims are signed with it. */
  readonly bls: BlsKeyPair;
}

export interface AssembledRewards {
  readonly service: RewardService;
  readonly claims: ClaimService;
  /** What `GET/POST /rewards/v1/*` serve. */
  readonly api: {
    balances(): Record<string, unknown>;
    balance(address: string): Record<string, unknown> | null;
    epochs(limit: number): Record<string, unknown>;
    reportsOf(epoch: number): unknown[];
    claim(address: unknown): Promise<Record<string, unknown>>;
  };
}

/** Builds the reward services; `service.start()` after the membership has started. */
export function assembleRewards(config: ParsStorageConfig, p: RewardParts): AssembledRewards {
  const opts = rewardServiceOptions(config);
  const nodeId = p.identity.nodeId;
  const service = new RewardService(opts, {
    clock: p.clock,
    logger: p.logger,
    pq: p.pq,
    nodeId,
    tables: p.tables,
    signer: p.signer,
    members: () => members(p.membership),
    feesOf: (startMs) => {
      p.fees.flush();
      // genesisMs is a multiple of epochMs (config cross-check): the fee ledger row of this epoch.
      const row = p.feeLedger.get(startMs / opts.schedule.epochMs);
      return {total: row?.feesTotal ?? 0n, swarmMembers: row?.swarmMembers ?? [nodeId]};
    },
    fetchReports: async (peer, epoch, timeoutMs) => {
      const res = await p.peers.request(peer, {
        method: "GET",
        path: `/rewards/v1/reports/${epoch}`,
        accept: "application/json",
        timeoutMs,
        maxResponseBytes: MAX_REPORTS_BYTES,
        maxAttempts: 1,
      });
      if (!res.ok) throw new Error(res.error.message);
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      return JSON.parse(res.body.toString("utf8")) as unknown;
    },
    firstEpoch: {
      get: () => {
        const v = p.store.getState(FIRST_EPOCH_STATE);
        return v === null ? null : Number(v);
      },
      set: (epoch) => p.store.setState(FIRST_EPOCH_STATE, epoch),
    },
  });
  const claims = new ClaimService(opts, {clock: p.clock, nodeId, tables: p.tables, signer: blsClaimSigner(p.bls.secretKey)});
  const api = {
    balances: () => service.balances(),
    balance: (address: string) => service.balance(address),
    epochs: (limit: number) => service.epochs(limit),
    reportsOf: (epoch: number) => service.reportsOf(epoch),
    claim: async (address: unknown) => signedClaimToJson(await claims.claim(address)),
  };
  return {service, claims, api};
}

function members(membership: MembershipService): RewardMemberRecord[] | null {
  const snap = membership.snapshot;
  if (snap === null) return null;
  return snap.view.nodes().map((r) => ({nodeId: r.nodeId, mlDsaPublicKey: r.mlDsaPublicKey, stake: r.stake}));
}
