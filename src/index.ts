/**
 * The package's public API (`import {StorageNode} from "pars-storage"`): start a node in-process
 * from a configuration, and the pieces an embedder needs around it. Everything else is internal
 * and may change between releases.
 */
export {
  ConfigError,
  defaultConfig,
  loadConfig,
  loadConfigWithSource,
  NETWORK_IDS,
  type LoadConfigOptions,
  type LoadedConfig,
  type NetworkName,
  type ParsStorageConfig,
} from "./config/index.js";
export {deriveNodeId, loadOrCreateIdentity, type LoadedIdentity, type NodeIdentity} from "./crypto/index.js";
export {ParsError} from "./util/index.js";
export {PARS_STORAGE_VERSION, SESSION_RPC_HF, SESSION_RPC_VERSION, StorageNode, type StorageNodeModules} from "./node/index.js";
