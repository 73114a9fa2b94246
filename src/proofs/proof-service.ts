/**
 * The storage-proof service (docs/PROTOCOL.md (Storage proofs) §4–8): every epoch it refreshes the
 * Merkle commitment, signs a StorageProof, keeps the recent ones and sends the newest to its swarm
 * peers; it answers challenges against its latest proof, challenges its peers on a random
 * schedule, and keeps the ledger and the peer-health view.
 */
import type {ContextSigner} from "../signer/index.js";
import type {Logger} from "../util/index.js";
import {randomBytes} from "node:crypto";
import type {PqBackend} from "../crypto/index.js";

import type {ProofTables} from "../storage/index.js";
import type {Clock} from "../util/index.js";
import {signAnswer, type ChallengeAnswer} from "./answer.js";
import {buildAnswer} from "./answerer.js";
import {pickCandidate} from "./candidates.js";
import type {CommitmentEngine, CommitmentSummary} from "./engine.js";
import {ProofError} from "./errors.js";
import {ProofLedger, type LedgerStore} from "./ledger.js";
import type {PublicKeys} from "./keys.js";
import {defaultProofServiceOptions, type ProofServiceOptions} from "./options.js";
import {PeerHealth} from "./peer-health.js";
import {dataDigest} from "./leaf.js";
import {progressFacts, type ProgressFacts} from "./progress.js";
import type {RefreshStats} from "./refresh.js";
import {ChangeTracker, type StoreEventSource} from "./changes.js";
import {authenticateChallenge, parseChallengeRequest, verifyPeerProof} from "./requests.js";
import {ChallengeScheduler, type Candidate} from "./scheduler.js";
import {proofFromJson, proofToJson, signProof, type StorageProof} from "./storage-proof.js";
import type {SwarmContext} from "./swarm-context.js";
import type {ProofTransport} from "./transport.js";
import type {VerdictRules} from "./verdict.js";
import type {EvidenceBundle} from "./evidence.js";
import type {PenaltyQuery, PenaltyRow} from "./penalty-store.js";

/** What GET /proof/v1/penalties reads (PenaltyStore). */
export interface PenaltySource {
  list(q: PenaltyQuery): PenaltyRow[];
}

/** What the service reads and writes in the database (ProofTables). */
export type ProofStorage = LedgerStore &
  Pick<ProofTables, "takeUpdatedHashes" | "changeLog" | "trimChangeLog" | "messageByHash" | "liveHashesInRange" | "saveProof" | "recentProofs">;

export interface ProofServiceModules {
  readonly tables: ProofStorage;
  /** Holds the commitment (on a worker thread in a node, see node/assemble-proofs.ts); closed with the service. */
  readonly engine: CommitmentEngine;
  /** The message store's added/removed events (which messages changed). */
  readonly events: StoreEventSource;
  readonly signer: ContextSigner;
  /**
   * Signs challenge answers (default: `signer`). A node passes a signer on its own thread when
   * ML-DSA with a context is fast there (liboqs, ~0.5 ms of CPU): an answer then waits neither for a
   * worker round trip nor behind the response batches queued on the signing worker.
   */
  readonly answerSigner?: ContextSigner;
  readonly pq: PqBackend;
  readonly self: {readonly nodeId: string; readonly keys: PublicKeys};
  readonly swarm: SwarmContext;
  readonly transport: ProofTransport;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly random?: () => number;
  /**
   * Penalty reports (penalty-reporter.ts): signs one for each failing verdict of this node's
   * challenges and keeps them for GET /proof/v1/penalties. Absent: no reports.
   */
  readonly penalties?: {readonly reporter: {onVerdict(e: EvidenceBundle): unknown}; readonly store: PenaltySource} | null;
}

/** Retry delay when an epoch could not sign (not in a swarm yet, or the refresh failed). */
const RETRY_MS = 5_000;
/** Beyond this many changed messages per epoch a full rebuild is cheaper than tracking them. */
const MAX_TRACKED_CHANGES = 1_000_000;
/** Between two progress records of a refresh still running (a full build of a large store). */
const PROGRESS_LOG_MS = 10_000;

/** The service's part of GET /health. */
export interface ProofHealthFacts {
  /** A proof is signed: challenges are answered (503 NOT_READY until then). */
  readonly proofReady: boolean;
  /** The running refresh (the startup build included); null when none runs. */
  readonly commitmentBuild: ProgressFacts | null;
}

/** The published commitment: its summary, signed proof, and when its refresh took its changes. */
interface Published {
  readonly summary: CommitmentSummary;
  readonly proof: StorageProof;
  /** Id of the change set its refresh took (see `#takes`). */
  readonly takeId: number;
  /** Clock time when the refresh finished: every message in it was held by then. */
  readonly completedAt: number;
}

/** The changes one refresh took (null: unknown, a full build), in order of taking. */
interface Take {
  readonly id: number;
  readonly changed: ReadonlySet<string> | null;
}

export class ProofService {
  readonly opts: ProofServiceOptions;
  readonly health: PeerHealth;
  readonly ledger: ProofLedger;
  readonly scheduler: ChallengeScheduler;
  readonly #m: ProofServiceModules;
  #current: Published | null = null;
  #previous: Published | null = null;
  /** Change sets taken since the previous published commitment's (candidates.ts). */
  #takes: Take[] = [];
  #nextTakeId = 0;
  /**
   * The engine has no base to refresh from and none persisted (a refresh failed on an engine that
   * does not persist): rebuild in full. A persisting engine loads its last written commitment.
   */
  #needFull = false;
  /**
   * The change-log watermark of the last refresh that returned a commitment. A persisting engine
   * trims the log only once its write lands, after the refresh returned, so the next take may
   * still find those rows: they are not changes since that commitment for choosing challenge
   * candidates, and the engine is not sent them again (RefreshRequest.logFrom: it has them, or
   * reads them from the log if it must start from its last write).
   */
  #logTaken = 0;
  #proofs: StorageProof[] = [];
  readonly #changes: ChangeTracker;
  #epoch: Promise<StorageProof | null> | null = null;
  #timer: NodeJS.Timeout | null = null;
  #answering = 0;
  #closed = false;
  lastRefresh: (RefreshStats & {changed: number}) | null = null;

  constructor(opts: Partial<ProofServiceOptions>, modules: ProofServiceModules) {
    this.opts = {...defaultProofServiceOptions, ...opts};
    this.#m = modules;
    this.health = new PeerHealth(this.opts.unhealthyAfterFailures);
    this.#changes = new ChangeTracker(MAX_TRACKED_CHANGES);
    this.ledger = new ProofLedger(this.opts, {store: modules.tables, health: this.health, clock: modules.clock});
    this.scheduler = new ChallengeScheduler(
      {challengeIntervalMs: this.opts.challengeIntervalMs, rules: this.rules},
      {
        ...modules,
        peers: () => modules.swarm.peers(),
        pickCandidate: () => this.candidate(),
        onVerdict: (e) => this.recordVerdict(e),
        randomBytes: (n) => randomBytes(n),
      },
    );
  }

  /** The stored penalty reports; null when the node makes none. */
  get penalties(): PenaltySource | null {
    return this.#m.penalties?.store ?? null;
  }

  /** What happens to each verdict of this node's challenges: the ledger, then a penalty report if it failed. */
  recordVerdict(e: EvidenceBundle): void {
    this.ledger.record(e);
    this.#report(e);
  }

  /** A failure to sign or store a report is logged; the verdict is in the ledger regardless. */
  #report(e: EvidenceBundle): void {
    try {
      this.#m.penalties?.reporter.onVerdict(e);
    } catch (err) {
      this.#m.logger.warn({err: String(err), target: e.challenge.targetId}, "could not record a penalty report");
    }
  }

  get rules(): VerdictRules {
    const {answerDeadlineMs: deadlineMs, maxProofAgeMs, maxClockSkewMs} = this.opts;
    return {deadlineMs, maxProofAgeMs, maxClockSkewMs};
  }

  /** Loads the proof history and peer health, signs a first proof now, then one per epoch. */
  start(): void {
    this.#changes.attach(this.#m.events);
    this.#proofs = this.#loadHistory();
    this.ledger.loadHealth();
    this.#loop(0);
    this.scheduler.start();
  }

  /** Our kept proofs from `proof_history` (a row that does not decode is skipped with a warning). */
  #loadHistory(): StorageProof[] {
    const out: StorageProof[] = [];
    for (const json of this.#m.tables.recentProofs(this.opts.keepProofs)) {
      try {
        out.push(proofFromJson(JSON.parse(json)));
      } catch (err) {
        this.#m.logger.warn({err: String(err)}, "skipping an unreadable stored StorageProof");
      }
    }
    return out;
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#changes.detach();
    if (this.#timer !== null) clearTimeout(this.#timer);
    await this.scheduler.close();
    await this.#epoch;
    await this.#m.engine.close();
  }

  /** Newest first (the latest may predate a restart: the node answers only for its own commitment). */
  get proofs(): readonly StorageProof[] {
    return this.#proofs;
  }

  get latest(): StorageProof | null {
    return this.#current?.proof ?? null;
  }

  /** For GET /health: whether challenges are answered yet, and how far the running refresh got. */
  healthFacts(): ProofHealthFacts {
    const p = this.#m.engine.progress();
    return {proofReady: this.#current !== null, commitmentBuild: p === null ? null : progressFacts(p)};
  }

  /** The published commitment's summary. */
  get commitment(): CommitmentSummary | null {
    return this.#current?.summary ?? null;
  }

  #loop(delayMs: number): void {
    if (this.#closed) return;
    this.#timer = setTimeout(() => {
      void this.runEpoch().then((proof) => {
        const now = this.#m.clock.now();
        const epoch = this.opts.epochMs;
        this.#loop(proof === null ? Math.min(RETRY_MS, epoch) : epoch - (now % epoch));
      });
    }, delayMs);
    this.#timer.unref();
  }

  /** Refreshes and signs now (one at a time: a second call joins the running one). */
  runEpoch(): Promise<StorageProof | null> {
    this.#epoch ??= this.#runEpoch()
      .catch((err: unknown) => {
        this.#m.logger.error({err: String(err)}, "storage proof epoch failed");
        return null;
      })
      .finally(() => (this.#epoch = null));
    return this.#epoch;
  }

  async #runEpoch(): Promise<StorageProof | null> {
    const swarmId = this.#m.swarm.ourSwarm();
    if (swarmId === null) {
      this.#m.logger.debug({}, "not in a swarm: no storage proof this epoch");
      return null;
    }
    const refreshed = await this.#refresh(this.#m.clock.now());
    if (refreshed === null) return null;
    const {root: merkleRoot, messageCount, usedBytes, timestamp} = refreshed.summary;
    const proof = await signProof({nodeId: this.#m.self.nodeId, swarmId, merkleRoot, messageCount, usedBytes, timestamp}, this.#m.signer);
    await this.#m.engine.publish(timestamp);
    this.#publish({...refreshed, proof});
    return proof;
  }

  /**
   * The engine's next commitment from its newest one. The changes it consumes are gone if it
   * fails or is abandoned, so then the next refresh starts over from a full build.
   */
  async #refresh(timestamp: number): Promise<Omit<Published, "proof"> | null> {
    const {engine, tables} = this.#m;
    const {hashes, overflow} = this.#changes.take();
    const updated = tables.takeUpdatedHashes();
    // The durable log (migration 0008) holds every change since the persisted commitment, those
    // a crash took from the in-memory tracker included.
    const log = tables.changeLog(MAX_TRACKED_CHANGES, this.#logTaken);
    const logged = overflow || this.#needFull ? null : log.hashes;
    const changed = logged === null ? null : new Set([...hashes, ...updated, ...logged]);
    const takeId = this.#nextTakeId++;
    this.#takes.push({id: takeId, changed});
    this.#needFull = !engine.persistent;
    // Rows up to #logTaken went to the engine with an earlier refresh: it has them unless it must
    // load its persisted commitment, and then reads them from the log itself (`logFrom`).
    const taken = changed === null ? null : [...changed];
    const summary = await this.#withProgressLog(engine.refresh({timestamp, changed: taken, logWatermark: log.watermark, logFrom: this.#logTaken}));
    if (summary === null) return null;
    this.#needFull = false;
    this.#logTaken = log.watermark;
    // A persisting engine trimmed the log with its write (or kept it, its write having failed).
    if (!engine.persistent) tables.trimChangeLog(log.watermark);
    this.lastRefresh = {...summary.stats, changed: hashes.size + updated.length};
    return {summary, takeId, completedAt: this.#m.clock.now()};
  }

  /** Logs the engine's progress every PROGRESS_LOG_MS until `refresh` settles. */
  async #withProgressLog<T>(refresh: Promise<T>): Promise<T> {
    const timer = setInterval(() => {
      const p = this.#m.engine.progress();
      if (p !== null) this.#m.logger.info(progressFacts(p), "building the storage-proof commitment");
    }, PROGRESS_LOG_MS);
    timer.unref();
    try {
      return await refresh;
    } finally {
      clearInterval(timer);
    }
  }

  #publish(published: Published): void {
    const {proof} = published;
    this.#previous = this.#current;
    this.#current = published;
    const since = this.#previous?.takeId ?? Number.POSITIVE_INFINITY;
    this.#takes = this.#takes.filter((t) => t.id > since);
    this.#proofs = [proof, ...this.#proofs].slice(0, this.opts.keepProofs);
    const json = JSON.stringify(proofToJson(proof));
    this.#m.tables.saveProof(proof.timestamp, json, this.opts.keepProofs);
    const {messageCount, usedBytes, timestamp} = proof;
    this.#m.logger.info({timestamp, messageCount, usedBytes, root: Buffer.from(proof.merkleRoot).toString("hex"), ...this.lastRefresh}, "storage proof signed");
    for (const peer of this.#m.swarm.peers()) {
      this.#m.transport.sendProof(peer, json, this.opts.answerDeadlineMs).catch((err: unknown) => {
        this.#m.logger.debug({peer: peer.nodeId, err: String(err)}, "could not send storage proof to peer");
      });
    }
  }

  /**
   * Answers a posted challenge request `{challenge, challengerKeys?}` against the latest proof.
   * Throws ProofError: MALFORMED, WRONG_TARGET, UNKNOWN_CHALLENGER, BAD_SIGNATURE, NOT_READY, BUSY.
   */
  async answer(body: unknown): Promise<ChallengeAnswer> {
    const receivedAt = this.#m.clock.now();
    const request = parseChallengeRequest(body, this.#m.self.nodeId);
    const committed = this.#current;
    if (committed === null) throw new ProofError({code: "PROOF_ERROR_NOT_READY"}, "no storage proof signed yet");
    if (this.#answering >= this.opts.maxConcurrentAnswers) throw new ProofError({code: "PROOF_ERROR_BUSY"}, "too many challenges in flight");
    this.#answering++;
    try {
      const swarm = this.#m.swarm;
      authenticateChallenge(request, {memberKeys: (id) => swarm.memberKeys(id), allowAuditors: this.opts.allowAuditors, pq: this.#m.pq});
      const {challenge} = request;
      const live = this.#m.tables.messageByHash(challenge.messageHash, receivedAt);
      let used = committed;
      let found = null;
      if (live !== null) {
        const liveLeaf = {account: live.account, namespace: live.namespace, dataDigest: dataDigest(live.data)};
        found = await this.#m.engine.find(used.proof.timestamp, challenge.messageHash, liveLeaf);
        // A proof published meanwhile replaced the commitment asked: answer from the new one.
        if (found === null && this.#current !== null && this.#current !== used) {
          used = this.#current;
          found = await this.#m.engine.find(used.proof.timestamp, challenge.messageHash, liveLeaf);
        }
      }
      const unsigned = buildAnswer(used.proof, challenge, live, found, {receivedAt, answeredAt: this.#m.clock.now()});
      return await signAnswer(unsigned, this.#m.answerSigner ?? this.#m.signer);
    } finally {
      this.#answering--;
    }
  }

  /**
   * Accepts a pushed StorageProof (POST /proof/v1/peer-proof) only if it is what a node receives by
   * protocol: the own proof of one of our swarm peers, for our swarm, newer than the one held for
   * that node (an older or equal one never replaces it) and not dated beyond the clock-skew
   * allowance (it would block that node's real proofs until then); its signature must verify under
   * the membership's key. The cheap checks come first: a refused push costs no verification.
   * Throws ProofError: MALFORMED, NOT_SWARM_PEER, STALE, BAD_SIGNATURE.
   */
  acceptPeerProof(body: unknown): StorageProof {
    const proof = proofFromJson(body);
    const {swarm} = this.#m;
    if (!swarm.peers().some((p) => p.nodeId === proof.nodeId)) {
      throw new ProofError({code: "PROOF_ERROR_NOT_SWARM_PEER"}, `node ${proof.nodeId} is not a peer in our swarm (as the membership sees it)`);
    }
    const ours = swarm.ourSwarm();
    if (proof.swarmId !== ours) {
      throw new ProofError({code: "PROOF_ERROR_NOT_SWARM_PEER"}, `the proof is for swarm ${proof.swarmId}, ours is ${ours ?? "none"}`);
    }
    const now = this.#m.clock.now();
    if (proof.timestamp > now + this.opts.maxClockSkewMs) {
      throw new ProofError({code: "PROOF_ERROR_STALE"}, `timestamp ${proof.timestamp} is more than ${this.opts.maxClockSkewMs} ms ahead of ours (${now})`);
    }
    const held = this.health.get(proof.nodeId)?.latestProof ?? null;
    if (held !== null && proof.timestamp <= held.timestamp) {
      throw new ProofError({code: "PROOF_ERROR_STALE"}, `not newer than the proof held for that node (timestamp ${held.timestamp})`);
    }
    verifyPeerProof(proof, {memberKeys: (id) => swarm.memberKeys(id), pq: this.#m.pq});
    this.health.noteProof(proof);
    return proof;
  }

  /** A message to challenge a peer for (see candidates.ts), or null. */
  candidate(): Candidate | null {
    const current = this.#current;
    const previous = this.#previous;
    if (current === null || previous === null) return null;
    const takes = this.#takes.filter((t) => t.id > previous.takeId);
    const sets = takes.map((t) => t.changed);
    if (sets.some((s) => s === null)) return null;
    const changedSince = (hash: string): boolean => this.#changes.has(hash) || sets.some((s) => s?.has(hash) === true);
    return pickCandidate(this.#m.tables, {
      bucketCounts: current.summary.bucketCounts,
      changedSince,
      committedBy: previous.completedAt + this.opts.replicationDelayMs,
      nowMs: this.#m.clock.now(),
      expiryMarginMs: this.opts.expiryMarginMs,
      random: this.#m.random ?? Math.random,
    });
  }
}
