import {CHANNEL_ERROR_ACTIONS, type ChannelErrorCode} from "./errors.js";

/** Counters of one ChannelManager (a snapshot; `ChannelManager.stats()` returns a copy). */
export interface ChannelStats {
  /** Handshakes this node started as initiator (including background rekeys). */
  handshakesInitiated: number;
  /** … of which completed. */
  handshakesCompleted: number;
  /** Handshakes accepted as responder. */
  handshakesAccepted: number;
  /** Background rekeys started because a channel reached its age or volume limit. */
  rekeys: number;
  framesSealed: number;
  framesOpened: number;
  /** Live channels (both roles). */
  channels: number;
  /** Every refusal and failure, by error code. */
  rejected: Record<ChannelErrorCode, number>;
}

export function emptyChannelStats(): ChannelStats {
  const rejected = Object.fromEntries(Object.keys(CHANNEL_ERROR_ACTIONS).map((code) => [code, 0]));
  return {
    handshakesInitiated: 0,
    handshakesCompleted: 0,
    handshakesAccepted: 0,
    rekeys: 0,
    framesSealed: 0,
    framesOpened: 0,
    channels: 0,
    rejected: rejected as Record<ChannelErrorCode, number>,
  };
}

export function copyChannelStats(stats: ChannelStats): ChannelStats {
  return {...stats, rejected: {...stats.rejected}};
}
