export {ConfigError, type ConfigErrorType, type ConfigProblem, type ConfigSource, formatProblem} from "./errors.js";
export {
  CONFIG_FILE_ENV,
  CONFIG_LEAVES,
  type ConfigLeaf,
  ENV_PREFIX,
  envNameForPath,
  leafForEnv,
  leafForFlag,
} from "./leaves.js";
export {CONFIG_FLAG, type LoadConfigOptions, type LoadedConfig, loadConfig, loadConfigWithSource} from "./load.js";
export {type DataPaths, dataPaths, expandHome, resolveUserPath} from "./paths.js";
export {
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_HTTP_BODY_BUDGET_BYTES,
  DEFAULT_HTTP_BODY_IDLE_TIMEOUT_MS,
  DEFAULT_HTTP_MAX_CONNECTIONS_PER_IP,
  DEFAULT_HTTP_PORT,
  METRICS_PORT_OFFSET,
  DEFAULT_HTTP_REQUEST_TIMEOUT_MS,
  DEFAULT_STORAGE_DISK_HEADROOM_BYTES,
  DEFAULT_STORAGE_DISK_RESERVE_BYTES,
  DEFAULT_MAILBOX_MAX_MESSAGES,
  DEFAULT_STORAGE_SIZE_LIMIT_BYTES,
  CONFIG_DEFAULTS,
  type DeepReadonly,
  defaultConfig,
  NETWORK_IDS,
  NETWORK_NAMES,
  type NetworkName,
  type ParsStorageConfig,
  ParsStorageConfigSchema,
  TIMER_MAX_MS,
  type TlsConfig,
} from "./schema.js";
export {getPath, setPath} from "./merge.js";
export type {PlainObject} from "./merge.js";
