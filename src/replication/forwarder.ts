/**
 * Fan-out of recursive requests (docs/PROTOCOL.md (Replication) §2, reference §2.6): the
 * client's method and raw params go to every other member of our swarm in parallel, each peer
 * re-validates them (client signatures are forwarded untouched) and answers with its own signed
 * entry, which is passed through as is. The entry node waits at most `forwardTimeoutMs`; peers
 * that have not answered by then get `{failed, timeout}` while their request runs on. Failure
 * entries are Session's: `{failed, timeout}` (no answer in time), `{failed, code, reason}` (an
 * error status, the RPC's or the peer route's: a peer that answers 4xx/5xx is up, never reported
 * as a timeout), `{failed, bad_peer_response}` (an unusable answer), plus one of ours (PROTOCOL.md
 * Replication §2): `{failed, unreachable, reason}` when the connection failed (refused, reset, no
 * route) or the peer is known to be down, so that a dead peer is not reported as a slow one. A
 * forward that did not reach the peer is handed to the retry queue.
 */

import {peerLabel, type ReplicationMetrics} from "../metrics/index.js";
import type {PeerEntry} from "../protocol/index.js";
import type {Logger} from "../util/index.js";
import type {Clock} from "../util/index.js";
import {isChannelError} from "../peer/index.js";
import {describeError} from "./logger.js";
import type {MembershipView} from "./membership-view.js";
import type {ReplicationOptions} from "./options.js";
import type {PeerHealth} from "./peer-health.js";
import {PeerClientError} from "../peer/index.js";
import type {RetryQueue} from "./retry-queue.js";
import type {RpcBatcher} from "./rpc-batcher.js";
import {serializeRpcCall, type RpcResult} from "./wire.js";

export const TIMEOUT_ENTRY: PeerEntry = Object.freeze({failed: true, timeout: true});
export const BAD_RESPONSE_ENTRY: PeerEntry = Object.freeze({failed: true, bad_peer_response: true});

/** The connection to the peer failed, or it is known to be down: `reason` says how. */
export function unreachableEntry(reason: string): PeerEntry {
  return {failed: true, unreachable: true, reason};
}

export interface ForwarderModules {
  /** Forwards go through the batcher: concurrent writes share frames. */
  readonly batcher: Pick<RpcBatcher, "call">;
  readonly view: Pick<MembershipView, "peers">;
  readonly retries: Pick<RetryQueue, "enqueue">;
  readonly health: PeerHealth;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly metrics?: ReplicationMetrics | null;
}

/** How one forward ended: the entry to report, and whether it must be retried later. */
interface Outcome {
  entry: PeerEntry;
  retry: boolean;
  /**
   * Set when the peer is to be marked down (no connection, no answer in time): how it failed, kept
   * as the reason of later `unreachable` entries. Unset for a peer that answered (an HTTP status).
   */
  downReason?: string;
}

export class Forwarder {
  readonly #opts: ReplicationOptions;
  readonly #m: ForwarderModules;

  constructor(opts: ReplicationOptions, modules: ForwarderModules) {
    this.#opts = opts;
    this.#m = modules;
  }

  /** One entry per other member of our swarm, keyed by node ID; never rejects. */
  async forward(method: string, params: Record<string, unknown>): Promise<Record<string, PeerEntry>> {
    const peers = this.#m.view.peers().map((p) => p.nodeId);
    if (peers.length === 0) return {};
    const json = serializedOnce(method, params);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<PeerEntry>((resolve) => {
      timer = setTimeout(() => resolve(TIMEOUT_ENTRY), this.#opts.forwardTimeoutMs);
    });
    try {
      const entries = await Promise.all(peers.map((peer) => Promise.race([this.#forwardOne(peer, method, params, json), deadline])));
      return Object.fromEntries(peers.map((peer, i) => [peer, entries[i] as PeerEntry]));
    } finally {
      clearTimeout(timer);
    }
  }

  async #forwardOne(peer: string, method: string, params: Record<string, unknown>, json: string | undefined): Promise<PeerEntry> {
    const {health} = this.#m;
    if (health.isDown(peer)) {
      this.#m.metrics?.forwards.inc({peer: peerLabel(peer), result: "down"});
      this.#enqueue(peer, method, params);
      return unreachableEntry(`peer down (${health.downReason(peer) ?? "unreachable"}); not contacted`);
    }
    let outcome: Outcome;
    try {
      outcome = entryOf(await this.#m.batcher.call(peer, {method, params}, json));
      if (health.markUp(peer)) this.#m.logger.info({peer}, "swarm peer reachable again");
    } catch (err) {
      outcome = failureOf(err);
      // Once per outage; a peer that keeps answering an error status would otherwise log every write.
      const first = outcome.downReason !== undefined && !health.wasDown(peer);
      if (outcome.retry) this.#m.logger[first ? "warn" : "debug"]({peer, method, err: describeError(err)}, "forward failed; will retry");
      if (outcome.downReason !== undefined) health.markDown(peer, outcome.downReason);
    }
    if (outcome.retry) this.#enqueue(peer, method, params);
    const result = outcome.retry ? "retry" : outcome.entry.failed === true ? "error" : "ok";
    this.#m.metrics?.forwards.inc({peer: peerLabel(peer), result});
    return outcome.entry;
  }

  /**
   * Persists a retry. A forward that cannot be persisted (storage failure, params the queue cannot
   * serialise) is logged, never thrown: forward() must not reject, or the client request that is
   * waiting for our own entry meanwhile would leave its rejection unhandled.
   */
  #enqueue(peer: string, method: string, params: Record<string, unknown>): void {
    try {
      this.#m.retries.enqueue(peer, method, params);
    } catch (err) {
      this.#m.logger.warn({peer, method, err: describeError(err)}, "could not persist a forward for retry");
    }
  }
}

/**
 * The call serialised once for all peers (undefined if it cannot be: then each batcher call
 * serialises it and fails alone, as a forward that cannot be sent).
 */
function serializedOnce(method: string, params: Record<string, unknown>): string | undefined {
  try {
    return serializeRpcCall({method, params});
  } catch {
    return undefined;
  }
}

/** The peer's answer as a `swarm` entry. */
function entryOf({status, body}: RpcResult): Outcome {
  // A signed entry (200), or the peer's own failure entry (500 with `failed`), goes through untouched.
  if (typeof body === "object" && (status === 200 || body.failed === true)) return {entry: body, retry: false};
  const reason = typeof body === "string" ? body : JSON.stringify(body);
  return {entry: {failed: true, code: String(status), reason}, retry: false};
}

/**
 * No connection (refused, reset, unreachable) → unreachable entry and retry; no answer in time
 * (or other channel trouble that a retry can fix) → timeout entry and retry; an HTTP error status
 * from the peer route → `{failed, code, reason}` and retry (except 403); an answer we cannot use
 * → bad_peer_response, no retry (it would not get better).
 */
function failureOf(err: unknown): Outcome {
  if (err instanceof PeerClientError) return clientFailure(err);
  if (isChannelError(err)) {
    // A handshake that could not be sent carries the peer client's failure as its cause.
    if (err.action === "IGNORE" && err.cause instanceof PeerClientError) return clientFailure(err.cause);
    return err.action === "IGNORE" ? {entry: TIMEOUT_ENTRY, retry: true, downReason: "timeout"} : {entry: BAD_RESPONSE_ENTRY, retry: false};
  }
  return {entry: BAD_RESPONSE_ENTRY, retry: false};
}

/** What the peer client reported, said as it happened: `cause` is the socket error code, if any. */
function clientFailure(err: PeerClientError): Outcome {
  const {type} = err;
  if (type.code === "PEER_CLIENT_ERROR_STATUS") {
    // The peer answered, so it is neither slow nor unreachable: report its status, and do not mark
    // it down. The frame route answers 403 only for REJECT-class channel errors (docs §1.2): not worth repeating.
    const reason = `peer answered HTTP ${type.status}${type.peerCode === null ? "" : ` (${type.peerCode})`}`;
    return {entry: {failed: true, code: String(type.status), reason}, retry: type.status !== 403};
  }
  if (type.code === "PEER_CLIENT_ERROR_UNKNOWN_PEER") return {entry: BAD_RESPONSE_ENTRY, retry: false};
  const {code, cause} = type;
  const retry = code !== "PEER_CLIENT_ERROR_RESPONSE_TOO_LARGE";
  if (code === "PEER_CLIENT_ERROR_CONNECT" || code === "PEER_CLIENT_ERROR_SOCKET") {
    const reason = `${code === "PEER_CLIENT_ERROR_CONNECT" ? "connect" : "connection lost"} ${cause ?? "failed"}`;
    return {entry: unreachableEntry(reason), retry, downReason: reason};
  }
  return {entry: TIMEOUT_ENTRY, retry, downReason: code === "PEER_CLIENT_ERROR_TIMEOUT" ? "timeout" : (cause ?? code)};
}
