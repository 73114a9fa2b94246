/** Reward accounting and claim signatures (docs/PROTOCOL.md (Rewards), issue #18). */
export {computeEpochRewards, type EpochInput, type EpochRewards, type Ineligibility, type NodeReward, type RewardMember} from "./compute.js";
export {reportFromJson, reportSigningBytes, reportToJson, verifyReport, REPORT_MAX_ENTRIES, type EpochReport, type EpochReportJson, type UnsignedReport, type VerdictCount} from "./report.js";
export {RewardsError, type RewardsErrorCode, type RewardsErrorType} from "./errors.js";
export {DEFAULT_REPORT_REQUEST_TIMEOUT_MS, MAX_BACKFILL_EPOCHS, REPORT_KEEP_MS, rewardTickMs, type RewardServiceOptions} from "./options.js";
export {RewardService, type RewardMemberRecord, type RewardServiceModules, type RewardTableStore} from "./reward-service.js";
export {CLAIM_EXPIRY_STEP_MS, ClaimService, signedClaimToJson, type ClaimSigner, type SignedClaim} from "./claim-service.js";
export {blsClaimSigner} from "./bls-signer.js";
export {epochRewardsToJson, type EpochRewardsJson} from "./views.js";
