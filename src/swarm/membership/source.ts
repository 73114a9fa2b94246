/**
 * Where membership documents come from. A source only fetches bytes and reports them; parsing,
 * verification and the swarm view are the `MembershipService`'s job, so every source behaves the
 * same once a document arrives.
 */
import type {EventEmitter} from "node:events";

/** A membership document as fetched: JSON text, not yet parsed (docs/PROTOCOL.md Swarms §4). */
export interface MembershipDocument {
  readonly text: string;
  /** Where it came from, for logs: a file path or a URL. */
  readonly origin: string;
}

export interface MembershipSourceEvents {
  /** A document whose content differs from the last one emitted. */
  document: [MembershipDocument];
  /**
   * Fetching failed (missing file, HTTP error, timeout, oversized body, ...). Not named "error" so
   * an unhandled one never throws; the service logs it and keeps its current view.
   */
  failure: [{readonly origin: string; readonly reason: string}];
}

export interface MembershipSource extends EventEmitter<MembershipSourceEvents> {
  /** For logs: `static file /path` or `registry https://…`. */
  readonly description: string;
  /** Starts fetching: the first attempt begins at once, then on change or on an interval. */
  start(): void;
  /** Stops every timer, watcher and request in flight; no event is emitted afterwards. */
  close(): Promise<void>;
}

/** Largest membership document read (REGISTRY_MAX_NODES records of ≈ 9 KB each, plus slack). */
export const MEMBERSHIP_MAX_DOCUMENT_BYTES = 128 * 1024 * 1024;
