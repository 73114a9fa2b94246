/**
 * Turns membership documents from a `MembershipSource` into the node's current swarm view.
 *
 * Per document: parse and verify every record (`parseNodeRecords`: network, PIP-0008 §2.2 stake,
 * ML-DSA-65 signature, de-duplication), log each rejected record with its reason, build the
 * `SwarmView` in the configured mode, diff it against the previous one and log and emit every
 * `SwarmEvent` (for replication). A document that is broken, or has no valid record, changes
 * nothing: the previous view stays (docs/PROTOCOL.md Swarms §4.4).
 *
 * ML-DSA-65 verification costs ~4 ms per record (noble), so records verified in the previous
 * document are not verified again (cache keyed by SHA-256 of payload ‖ signature, bounded to the
 * records of the current document).
 */
import {EventEmitter} from "node:events";
import type {PqBackend} from "../crypto/index.js";
import type {Clock} from "../util/index.js";
import type {SwarmMode} from "./assignment.js";
import {diffViews, type AnySwarmEvent, type SwarmEventMap} from "./events.js";
import {swarmIdToWire} from "./mapping.js";
import type {MembershipDocument, MembershipSource} from "./membership/source.js";
import type {Logger} from "../util/index.js";
import type {NodeRecord} from "./record-types.js";
import {parseNodeRecords, type ParsedMembership, type RegistryRejection} from "./registry.js";
import {ServingMap} from "./serving.js";
import {buildSwarmView, type SwarmView} from "./view.js";

/** Most rejected records logged one by one per document (the rest are counted). */
const MAX_REJECTION_LOG_LINES = 100;

/** Emitted after every applied document, after the individual `SwarmEvent`s. */
export const MEMBERSHIP_UPDATED = "membership.updated";

export interface MembershipSnapshot {
  readonly view: SwarmView<NodeRecord>;
  readonly serving: ServingMap<NodeRecord>;
  /** Our node's swarm; null when our node is not in the (valid part of the) membership. */
  readonly ourSwarm: bigint | null;
  /** Records of the applied document that were dropped, with reasons. */
  readonly rejected: readonly RegistryRejection[];
  readonly origin: string;
  readonly loadedAtMs: number;
}

export type MembershipServiceEvents = SwarmEventMap & {[MEMBERSHIP_UPDATED]: [MembershipSnapshot]};

export interface MembershipServiceOptions {
  /** Our network: documents and records of any other are rejected. */
  readonly networkId: number;
  readonly mode: SwarmMode;
  readonly ourNodeId: string;
}

export interface MembershipServiceModules {
  readonly source: MembershipSource;
  readonly pq: PqBackend;
  readonly clock: Clock;
  readonly logger: Logger;
}

export type ApplyResult = {readonly applied: true} | {readonly applied: false; readonly reason: string};

export class MembershipService extends EventEmitter<MembershipServiceEvents> {
  readonly #opts: MembershipServiceOptions;
  readonly #m: MembershipServiceModules;
  #snapshot: MembershipSnapshot | null = null;
  #verified = new Set<string>();
  #lastFailure: string | null = null;

  constructor(opts: MembershipServiceOptions, modules: MembershipServiceModules) {
    super();
    this.#opts = opts;
    this.#m = modules;
  }

  /** The current membership, or null until the first valid document. */
  get snapshot(): MembershipSnapshot | null {
    return this.#snapshot;
  }

  get mode(): SwarmMode {
    return this.#opts.mode;
  }

  get networkId(): number {
    return this.#opts.networkId;
  }

  get ourNodeId(): string {
    return this.#opts.ourNodeId;
  }

  get sourceDescription(): string {
    return this.#m.source.description;
  }

  start(): void {
    this.#m.source.on("document", (doc) => void this.apply(doc));
    this.#m.source.on("failure", ({origin, reason}) => this.#onFailure(origin, reason));
    this.#m.logger.info({source: this.#m.source.description, mode: this.#opts.mode}, "membership source started");
    this.#m.source.start();
  }

  async close(): Promise<void> {
    await this.#m.source.close();
  }

  /** Applies one document (the source's listener; public for tests). */
  apply(doc: MembershipDocument): ApplyResult {
    const log = this.#m.logger;
    const parsed = this.#parse(doc.text);
    if (parsed.documentError !== null) {
      const {code, reason} = parsed.documentError;
      log.warn({origin: doc.origin, code, reason}, "membership document rejected; keeping the previous view");
      return {applied: false, reason};
    }
    this.#logRejections(doc.origin, parsed.rejected);
    if (parsed.records.length === 0) {
      log.error({origin: doc.origin, rejected: parsed.rejected.length}, "membership document has no valid record; keeping the previous view");
      return {applied: false, reason: "no valid record"};
    }
    const previous = this.#snapshot;
    const view = buildSwarmView(parsed.records, this.#opts.mode);
    const ourSwarm = view.swarmOfNode(this.#opts.ourNodeId);
    const next: MembershipSnapshot = {
      view,
      serving: new ServingMap(view),
      ourSwarm,
      rejected: parsed.rejected,
      origin: doc.origin,
      loadedAtMs: this.#m.clock.now(),
    };
    this.#snapshot = next;
    this.#lastFailure = null;
    this.#logApplied(next);
    for (const event of diffViews(previous?.view ?? null, view, this.#opts.ourNodeId)) this.#emitSwarmEvent(event);
    this.emit(MEMBERSHIP_UPDATED, next);
    return {applied: true};
  }

  #parse(text: string): ParsedMembership {
    const previous = this.#verified;
    const current = new Set<string>();
    const verifiedCache = {
      has: (key: string): boolean => {
        if (!previous.has(key)) return false;
        current.add(key);
        return true;
      },
      add: (key: string): void => void current.add(key),
    };
    const parsed = parseNodeRecords(text, this.#m.pq, {networkId: this.#opts.networkId, nowMs: this.#m.clock.now(), verifiedCache});
    if (parsed.documentError === null) this.#verified = current;
    return parsed;
  }

  #logRejections(origin: string, rejected: readonly RegistryRejection[]): void {
    for (const r of rejected.slice(0, MAX_REJECTION_LOG_LINES)) {
      this.#m.logger.warn({origin, index: r.index, nodeId: r.nodeId, code: r.code, reason: r.reason}, "node record rejected");
    }
    if (rejected.length > MAX_REJECTION_LOG_LINES) {
      this.#m.logger.warn({origin, notLogged: rejected.length - MAX_REJECTION_LOG_LINES}, "more node records rejected");
    }
  }

  #logApplied(s: MembershipSnapshot): void {
    const {view} = s;
    const summary = {
      origin: s.origin,
      nodes: view.nodeCount,
      swarmCount: view.swarmCount,
      emptySwarms: view.emptySwarmIds().map(swarmIdToWire),
      ourSwarm: s.ourSwarm === null ? null : swarmIdToWire(s.ourSwarm),
      rejected: s.rejected.length,
    };
    this.#m.logger.info(summary, "membership loaded");
    if (s.ourSwarm === null) {
      this.#m.logger.warn({nodeId: this.#opts.ourNodeId}, "this node is not in the membership: not serving clients (503)");
    }
  }

  #emitSwarmEvent(event: AnySwarmEvent): void {
    this.#m.logger.info({event: event.type, ...loggable(event.data)}, "swarm event");
    (this.emit as (name: string, data: unknown) => boolean)(event.type, event.data);
  }

  #onFailure(origin: string, reason: string): void {
    const state = this.#snapshot === null ? "no membership loaded yet" : "keeping the previous view";
    const level = reason === this.#lastFailure ? "debug" : "warn";
    this.#lastFailure = reason;
    this.#m.logger[level]({origin, reason}, `membership source failed; ${state}`);
  }
}

/** Event payloads with swarm IDs in wire form (pino cannot serialise bigint). */
function loggable(data: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(data).map(([k, v]) => [k, typeof v === "bigint" ? swarmIdToWire(v) : (v as unknown)]));
}
