/**
 * The responder's checks on an Init, cheapest first (docs/PROTOCOL.md (Peer channel) §2.3). Each
 * failure is one ChannelError; on success the nonce and the accept time are recorded before the
 * caller's first `await`, so two copies of one Init racing each other cannot both pass.
 */
import type {PqBackend} from "../../crypto/index.js";
import {ChannelError} from "./errors.js";
import {verifyInitSignature} from "./handshake.js";
import {type InitMessage, parseInit} from "./messages.js";
import type {NonceCache} from "./nonce-cache.js";
import type {ChannelManagerOptions} from "./options.js";
import {type PeerKeys, type PeerLookup, nodeIdHex, resolvePeer} from "./peers.js";

export interface AdmissionContext {
  readonly ownNodeId: string;
  readonly pq: PqBackend;
  readonly lookupPeer: PeerLookup;
  readonly nonces: NonceCache;
  /** Peer → time of its last accepted handshake. */
  readonly lastAccepted: Map<string, number>;
  readonly opts: ChannelManagerOptions;
}

export interface AdmittedInit {
  readonly init: InitMessage;
  readonly peer: string;
  readonly keys: PeerKeys;
}

function checkAddressing(init: InitMessage, ownNodeId: string): string {
  const responder = nodeIdHex(init.responderId);
  const peer = nodeIdHex(init.initiatorId);
  if (responder !== ownNodeId || peer === ownNodeId) {
    throw new ChannelError(
      {code: "CHANNEL_ERROR_WRONG_RESPONDER", responderId: responder},
      peer === ownNodeId ? "Init from this node's own ID" : `Init addressed to ${responder}, not to this node`,
    );
  }
  return peer;
}

function checkFreshness(init: InitMessage, nowMs: number, windowMs: number): void {
  if (Math.abs(nowMs - init.timestampMs) > windowMs) {
    throw new ChannelError(
      {code: "CHANNEL_ERROR_STALE", timestampMs: init.timestampMs, nowMs},
      `Init timestamp ${init.timestampMs} is more than ${windowMs} ms from our clock ${nowMs}`,
    );
  }
}

function checkRate(ctx: AdmissionContext, peer: string, nowMs: number): void {
  const last = ctx.lastAccepted.get(peer);
  const retryAfterMs = last === undefined ? 0 : last + ctx.opts.minHandshakeIntervalMs - nowMs;
  if (retryAfterMs > 0) {
    throw new ChannelError({code: "CHANNEL_ERROR_RATE_LIMITED", peer, retryAfterMs}, `handshake from ${peer} too soon`);
  }
}

function checkNonce(ctx: AdmissionContext, init: InitMessage, peer: string, nowMs: number): void {
  if (ctx.nonces.has(init.nonce, nowMs)) {
    throw new ChannelError({code: "CHANNEL_ERROR_HANDSHAKE_REPLAY", peer}, `replayed Init (nonce seen) from ${peer}`);
  }
  if (ctx.nonces.isFull(nowMs)) {
    throw new ChannelError({code: "CHANNEL_ERROR_BUSY", peer}, "seen-nonce cache full; handshake refused");
  }
}

/** Runs every check of §2.3 in order and records the accepted nonce; throws ChannelError. */
export function admitInit(bytes: unknown, ctx: AdmissionContext, nowMs: number): AdmittedInit {
  const init = parseInit(bytes);
  const peer = checkAddressing(init, ctx.ownNodeId);
  checkFreshness(init, nowMs, ctx.opts.handshakeWindowMs);
  const keys = resolvePeer(ctx.lookupPeer, peer);
  checkRate(ctx, peer, nowMs);
  checkNonce(ctx, init, peer, nowMs);
  if (!verifyInitSignature(ctx.pq, init, keys.mlDsaPublicKey)) {
    throw new ChannelError(
      {code: "CHANNEL_ERROR_BAD_SIGNATURE", peer, role: "initiator"},
      `Init signature does not verify under ${peer}'s registered ML-DSA-65 key`,
    );
  }
  ctx.nonces.add(init.nonce, init.timestampMs + ctx.opts.handshakeWindowMs, nowMs);
  ctx.lastAccepted.set(peer, nowMs);
  return {init, peer, keys};
}
