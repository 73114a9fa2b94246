export {Channel, type ChannelInfo, type ChannelRole} from "./channel.js";
export {
  AEAD_ALGORITHM,
  CHANNEL_MAX_AGE_MS,
  CHANNEL_MAX_FRAMES,
  CHANNEL_VERSION,
  FRAME,
  FRAME_MAX_PLAINTEXT_BYTES,
  INIT,
  KDF_LABEL,
  MessageType,
  REPLAY_WINDOW_FRAMES,
  RESP,
} from "./constants.js";
export {
  CHANNEL_ERROR_ACTIONS,
  ChannelError,
  isChannelError,
  type ChannelAction,
  type ChannelErrorCode,
  type ChannelErrorType,
} from "./errors.js";
export {
  finishInitiator,
  initMessage,
  respond,
  startInitiator,
  verifyInitSignature,
  type HandshakeKeys,
  type InitiatorStartInput,
  type InitiatorState,
  type RespondInput,
  type RespondResult,
} from "./handshake.js";
export {openFrame, sealFrame} from "./frame.js";
export {confirmTag, deriveChannelKeys, type ChannelKeys} from "./key-schedule.js";
export {ChannelManager, REKEY_RETRY_MS, type ChannelManagerModules, type OpenedFrame} from "./manager.js";
export {parseFrame, parseInit, parseResp, type FrameHeader, type InitMessage, type RespMessage} from "./messages.js";
export {defaultChannelManagerOptions, resolveChannelOptions, type ChannelManagerOptions} from "./options.js";
export {type PeerKeys, type PeerLookup} from "./peers.js";
export {ReplayWindow} from "./replay-window.js";
export {inlineHandshakeSigner, type HandshakeSigner} from "./signer.js";
export {type ChannelStats} from "./stats.js";
