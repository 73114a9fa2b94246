export {StorageNode, type StorageNodeModules} from "./storage-node.js";
export {PARS_STORAGE_VERSION, SESSION_RPC_HF, SESSION_RPC_VERSION} from "./version.js";
export {advertisedHost} from "./assemble-routing.js";
export {certificateHosts, loadNodeTls, TlsError, type NodeTls, type TlsErrorType} from "./tls.js";
