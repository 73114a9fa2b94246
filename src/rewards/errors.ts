import {ParsError} from "../util/index.js";

/** Reward accounting and claim errors; HTTP statuses are mapped in api/http/routes/rewards.ts. */
export type RewardsErrorCode =
  | "REWARDS_ERROR_BAD_REPORT"
  | "REWARDS_ERROR_BAD_REQUEST"
  | "REWARDS_ERROR_UNKNOWN_ADDRESS"
  | "REWARDS_ERROR_NOTHING_TO_CLAIM"
  | "REWARDS_ERROR_CLAIM_THRESHOLD"
  | "REWARDS_ERROR_NOT_READY";

export type RewardsErrorType =
  | {code: Exclude<RewardsErrorCode, "REWARDS_ERROR_CLAIM_THRESHOLD">}
  | {code: "REWARDS_ERROR_CLAIM_THRESHOLD"; retryAtMs: number};

export class RewardsError extends ParsError<RewardsErrorType> {
  constructor(type: RewardsErrorType, message: string) {
    super(type, message);
    this.name = "RewardsError";
  }
}
