export * from "./constants.js";
export {EMPTY_ROOT, leafHash, nodeHash, rootFromPath, rootOf, treeLevels, pathFromLevels} from "../crypto/index.js";
export * from "./leaf.js";
export {leafFromJson, leafToJson} from "./leaf-json.js";
export {Bucket, BucketArena, buildBucket, copyBucket, EMPTY_BUCKET, emptyBuckets, entryOf, KEY_BYTES, KEY_OFFSET, packBucket, sortedBucket, updateBucket, type BucketInput, type LeafEntry} from "./bucket.js";
export {ChangeTracker, type StoreEventSource, type TakenChanges} from "./changes.js";
export {Commitment, type Located} from "./commitment.js";
export {TopTree} from "./top-tree.js";
export {FULL_PLAN, LOOKUP_BATCH, PAGE_ROWS, planRefresh, refreshCommitment, type CommitmentSource, type RefreshOptions, type RefreshPlan, type RefreshProgress, type RefreshStats} from "./refresh.js";
export {progressFacts, type ProgressFacts} from "./progress.js";
export * from "./storage-proof.js";
export * from "./challenge.js";
export * from "./answer.js";
export {answerFromCommitment, buildAnswer, committedLeaf, type Committed, type CommittedLeaf, type LiveLeaf, type LiveMessage} from "./answerer.js";
export {LocalEngine, summarize, type CommitmentEngine, type CommitmentSummary, type RefreshRequest} from "./engine.js";
export {WorkerEngine} from "./engine-host.js";
export * from "./verdict.js";
export * from "./evidence.js";
export {nodeIdOf, keysFromJson, keysToJson, type PublicKeys} from "./keys.js";
export {ProofError, type ProofErrorCode, type ProofErrorType} from "./errors.js";
export {defaultProofServiceOptions, type ProofServiceOptions} from "./options.js";
export {PeerHealth, type PeerHealthEntry} from "./peer-health.js";
export {ProofLedger, type LedgerStore} from "./ledger.js";
export {ChallengeScheduler, type Candidate, type SchedulerModules, type SchedulerOptions} from "./scheduler.js";
export {
  channelProofTransport,
  HTTP_FALLBACK_MS,
  noPeerTransport,
  peerProofTransport,
  sealedProofEndpoint,
  type PeerInfo,
  type ProofAnswerer,
  type ProofTransport,
  type SealedPeerRequests,
  type SealedProofRequest,
} from "./transport.js";
export {membershipContext, singleNodeContext, type SwarmContext} from "./swarm-context.js";
export {ProofService, type PenaltySource, type ProofServiceModules} from "./proof-service.js";
export * from "./penalty.js";
export {PenaltyStore, type PenaltyQuery, type PenaltyRow} from "./penalty-store.js";
export {PenaltyReporter, type PenaltyReporterModules, type PenaltyReporterOptions} from "./penalty-reporter.js";
export {resultRow, resultsBody, MAX_RESULTS_PAGE, type ResultsQuery} from "./results-view.js";
export {authenticateChallenge, parseChallengeRequest, parsePeerProof, verifyPeerProof} from "./requests.js";
export type {ProofStorage} from "./proof-service.js";
export type {ResultsSource} from "./results-view.js";
