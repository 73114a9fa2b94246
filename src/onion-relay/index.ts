export {OnionCounters, type OnionCountersSnapshot, type OnionFailure} from "./counters.js";
export {ONION_PATH, peerForward, type Forward, type ForwardOptions, type ForwardResult, type PeerRequester} from "./forwarder.js";
export {isLayerRefusal, type LayerRefusal, type OnionLayers, type OpenedLayer} from "./layer.js";
export {ONION_MAX_HOPS, OnionRelay, type OnionRelayModules, type OnionRelayOptions, type OnionReply, type OnionRequest} from "./relay.js";
export {
  RELAY_AUTH_WINDOW_MS,
  RELAY_FROM_HEADER,
  RELAY_SIG_HEADER,
  RELAY_TIME_HEADER,
  RelayAuth,
  type RelayAuthModules,
  type RelayCheck,
  type RelayHeaders,
} from "./relay-auth.js";
