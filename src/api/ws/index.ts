export {WS_PATH, registerWebSocket} from "./plugin.js";
export type {WsHandle, WsModules, WsStats} from "./interface.js";
export {defaultWsOptions, validateWsOptions, type WsOptions} from "./options.js";
export {MONITOR_ERRCODE, MonitorError, WS_CLOSE, type MonitorErrcode, type WsDropReason, type WsErrorCode} from "./errors.js";
export {monitorSigMessage} from "./monitor-auth.js";
