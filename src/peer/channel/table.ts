/**
 * The live channels of one node, by channel ID and by peer, with the lifetime rules of
 * docs/PROTOCOL.md (Peer channel) §5:
 * - receiving: a channel accepts frames until CHANNEL_MAX_AGE_MS after its creation, or until
 *   `retireGraceMs` after a newer channel with the same peer and role replaced it;
 * - sending: the newest confirmed channel; from `rekeyAgeMs` / `rekeyFrames` / `rekeyBytes` it is
 *   "due" (the manager starts a new handshake in the background and keeps sending on it); from
 *   rekeyAgeMs + rekeyGraceMs, 2 × rekeyFrames or 2 × rekeyBytes it is "exhausted" (not used).
 */
import type {Channel} from "./channel.js";
import {CHANNEL_MAX_AGE_MS} from "./constants.js";
import type {ChannelManagerOptions} from "./options.js";

export type SendState = "ok" | "due" | "exhausted";

export function sendState(ch: Channel, nowMs: number, o: ChannelManagerOptions): SendState {
  const age = nowMs - ch.createdAtMs;
  if (
    age >= Math.min(o.rekeyAgeMs + o.rekeyGraceMs, CHANNEL_MAX_AGE_MS) ||
    ch.framesSent >= 2 * o.rekeyFrames ||
    ch.bytesSent >= 2 * o.rekeyBytes
  ) {
    return "exhausted";
  }
  if (age >= o.rekeyAgeMs || ch.framesSent >= o.rekeyFrames || ch.bytesSent >= o.rekeyBytes) return "due";
  return "ok";
}

export class ChannelTable {
  readonly #byId = new Map<string, Channel>();
  /** Per peer, oldest first. */
  readonly #byPeer = new Map<string, Channel[]>();
  readonly #opts: ChannelManagerOptions;

  constructor(opts: ChannelManagerOptions) {
    this.#opts = opts;
  }

  get size(): number {
    return this.#byId.size;
  }

  /** Adds `ch`, retiring older channels of the same peer and role and capping their number. */
  add(ch: Channel, nowMs: number): void {
    const list = this.#byPeer.get(ch.peer) ?? [];
    for (const old of list) if (old.role === ch.role && old.retiredAtMs === null) old.retiredAtMs = nowMs;
    list.push(ch);
    this.#byPeer.set(ch.peer, list);
    this.#byId.set(ch.channelId, ch);
    const sameRole = list.filter((c) => c.role === ch.role);
    for (const extra of sameRole.slice(0, Math.max(0, sameRole.length - this.#opts.maxChannelsPerPeer))) {
      this.delete(extra);
    }
  }

  /** The channel if it still accepts frames; an expired one is deleted and null returned. */
  get(channelId: string, nowMs: number): Channel | null {
    const ch = this.#byId.get(channelId);
    if (ch === undefined) return null;
    if (this.#isLive(ch, nowMs)) return ch;
    this.delete(ch);
    return null;
  }

  /**
   * The channel to send to `peer` on, and its state: the newest confirmed, live, not exhausted
   * channel that was not replaced; else the newest replaced one still in its grace period (the
   * peer replaced it later than we did, so it still accepts it); else null.
   */
  sender(peer: string, nowMs: number): {channel: Channel; state: SendState} | null {
    const list = this.#byPeer.get(peer) ?? [];
    let fallback: {channel: Channel; state: SendState} | null = null;
    for (let i = list.length - 1; i >= 0; i--) {
      const channel = list[i]!;
      if (!channel.confirmed || !this.#isLive(channel, nowMs)) continue;
      const state = sendState(channel, nowMs, this.#opts);
      if (state === "exhausted") continue;
      if (channel.retiredAtMs === null) return {channel, state};
      fallback ??= {channel, state}; // the newest retired one, if no current channel is usable
    }
    return fallback;
  }

  channelsOf(peer: string): readonly Channel[] {
    return this.#byPeer.get(peer) ?? [];
  }

  delete(ch: Channel): void {
    this.#byId.delete(ch.channelId);
    const list = this.#byPeer.get(ch.peer);
    if (list !== undefined) {
      const rest = list.filter((c) => c !== ch);
      if (rest.length === 0) this.#byPeer.delete(ch.peer);
      else this.#byPeer.set(ch.peer, rest);
    }
    ch.destroy();
  }

  forgetPeer(peer: string): number {
    const list = [...(this.#byPeer.get(peer) ?? [])];
    for (const ch of list) this.delete(ch);
    return list.length;
  }

  /**
   * Deletes `channelId` and every older channel with its peer; newer ones stay. Returns how many
   * went (0 if `channelId` is gone already).
   */
  forgetUpTo(channelId: string): number {
    const ch = this.#byId.get(channelId);
    if (ch === undefined) return 0;
    const list = this.#byPeer.get(ch.peer) ?? [];
    const upTo = list.slice(0, list.indexOf(ch) + 1);
    for (const old of upTo) this.delete(old);
    return upTo.length;
  }

  /** Deletes every channel that no longer accepts frames. */
  sweep(nowMs: number): void {
    for (const ch of [...this.#byId.values()]) if (!this.#isLive(ch, nowMs)) this.delete(ch);
  }

  clear(): void {
    for (const ch of [...this.#byId.values()]) this.delete(ch);
  }

  #isLive(ch: Channel, nowMs: number): boolean {
    if (nowMs - ch.createdAtMs >= CHANNEL_MAX_AGE_MS) return false;
    return ch.retiredAtMs === null || nowMs - ch.retiredAtMs <= this.#opts.retireGraceMs;
  }
}
