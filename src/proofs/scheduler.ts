/**
 * Swarm members challenging each other (docs/PROTOCOL.md (Storage proofs) §8): at exponentially
 * distributed intervals (mean `challengeIntervalMs`, so the timing cannot be predicted) a random
 * swarm peer is challenged for a random message this node holds itself, committed at least one
 * epoch ago and not about to expire. The verdict and its evidence go to the ledger.
 */
import type {ContextSigner} from "../signer/index.js";
import type {PqBackend} from "../crypto/index.js";

import type {Clock} from "../util/index.js";
import {challengeToJson, signChallenge} from "./challenge.js";
import {parseJson} from "./codec.js";
import {NONCE_BYTES} from "./constants.js";
import type {EvidenceBundle} from "./evidence.js";
import {keysToJson, type PublicKeys} from "./keys.js";
import type {PeerInfo, ProofTransport} from "./transport.js";
import {judge, type MessageCopy, type VerdictRules} from "./verdict.js";

/** A message to challenge for, and the time from which a peer's proof must contain it. */
export interface Candidate {
  readonly messageHash: string;
  readonly message: Required<MessageCopy>;
  readonly committedBy: number;
}

export interface SchedulerOptions {
  readonly challengeIntervalMs: number;
  readonly rules: VerdictRules;
}

export interface SchedulerModules {
  readonly self: {readonly nodeId: string; readonly keys: PublicKeys};
  readonly peers: () => PeerInfo[];
  readonly pickCandidate: () => Candidate | null;
  readonly signer: ContextSigner;
  readonly pq: PqBackend;
  readonly clock: Clock;
  readonly transport: ProofTransport;
  readonly onVerdict: (e: EvidenceBundle) => void;
  readonly logger: {debug(o: object, m: string): void; warn(o: object, m: string): void};
  /** Uniform in [0, 1) (Math.random by default). */
  readonly random?: () => number;
  readonly randomBytes: (n: number) => Uint8Array;
}

/** Intervals are capped at this many means so one unlucky draw cannot silence a node. */
const MAX_INTERVAL_MEANS = 5;

export class ChallengeScheduler {
  #timer: NodeJS.Timeout | null = null;
  #inFlight: Promise<unknown> | null = null;
  #closed = false;

  constructor(
    private readonly opts: SchedulerOptions,
    private readonly m: SchedulerModules,
  ) {}

  start(): void {
    if (this.opts.challengeIntervalMs > 0) this.#schedule();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    await this.#inFlight;
  }

  #schedule(): void {
    if (this.#closed) return;
    const u = (this.m.random ?? Math.random)();
    const mean = this.opts.challengeIntervalMs;
    const delay = Math.min(-Math.log(1 - u) * mean, MAX_INTERVAL_MEANS * mean);
    this.#timer = setTimeout(() => {
      this.#inFlight = this.challengeOnce()
        .catch((err: unknown) => this.m.logger.warn({err: String(err)}, "storage challenge failed to run"))
        .finally(() => this.#schedule());
    }, delay);
    this.#timer.unref();
  }

  /** One challenge to `peer` (default: a random swarm peer); null when there is nothing to do. */
  async challengeOnce(peer?: PeerInfo): Promise<EvidenceBundle | null> {
    const target = peer ?? this.#randomPeer();
    const candidate = target === null ? null : this.m.pickCandidate();
    if (target === null || candidate === null) return null;
    const {self, clock} = this.m;
    const unsigned = {challengerId: self.nodeId, targetId: target.nodeId, messageHash: candidate.messageHash, nonce: this.m.randomBytes(NONCE_BYTES)};
    const challenge = await signChallenge(unsigned, this.m.signer);
    const body = JSON.stringify({challenge: challengeToJson(challenge), challengerKeys: keysToJson(self.keys)});
    const issuedAt = clock.now();
    const answer = await this.#send(target, body);
    const observed = {issuedAt, answerReceivedAt: clock.now()};
    const {rules} = this.opts;
    const input = {challenge, challengerKeys: self.keys, targetKeys: target.keys, answer, message: candidate.message, observed, committedBy: candidate.committedBy, rules};
    const evidence: EvidenceBundle = {...input, verdict: judge(input, this.m.pq)};
    this.m.logger.debug({target: target.nodeId, verdict: evidence.verdict}, "storage challenge judged");
    this.m.onVerdict(evidence);
    return evidence;
  }

  /** The answer's JSON value, the raw text if it is not JSON, or null if none arrived. */
  async #send(peer: PeerInfo, body: string): Promise<unknown> {
    try {
      const text = await this.m.transport.sendChallenge(peer, body, this.opts.rules.deadlineMs);
      try {
        return parseJson(text, "answer");
      } catch {
        return text;
      }
    } catch (err) {
      this.m.logger.debug({peer: peer.nodeId, err: String(err)}, "no answer to storage challenge");
      return null;
    }
  }

  #randomPeer(): PeerInfo | null {
    const peers = this.m.peers();
    if (peers.length === 0) return null;
    return peers[Math.floor((this.m.random ?? Math.random)() * peers.length)] ?? null;
  }
}
