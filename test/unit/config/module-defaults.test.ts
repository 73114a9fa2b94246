/**
 * One source of defaults: a module option that is also a config setting must default to the
 * schema's value. Each row pairs a module's default-option object with its config section and
 * names the options they share; every shared option must be equal, and the shared set must be
 * exactly the listed one (an option renamed on one side only shows up here too).
 */
import {describe, expect, it} from "vitest";
import {defaultWsOptions} from "../../../src/api/ws/index.js";
import {
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_HTTP_BODY_BUDGET_BYTES,
  DEFAULT_HTTP_BODY_IDLE_TIMEOUT_MS,
  DEFAULT_HTTP_MAX_CONNECTIONS_PER_IP,
  DEFAULT_HTTP_REQUEST_TIMEOUT_MS,
  defaultConfig,
} from "../../../src/config/index.js";
import {networkHealthOptions} from "../../../src/node/assemble-health.js";
import {defaultProofServiceOptions} from "../../../src/proofs/index.js";
import {defaultReplicationOptions} from "../../../src/replication/index.js";
import {defaultResponseSignerOptions} from "../../../src/receipts/index.js";
import {defaultStorageOptions} from "../../../src/storage/index.js";
import {DEFAULT_SWARM_MODE} from "../../../src/swarm/index.js";

const config = defaultConfig();

interface Row {
  readonly module: string;
  readonly defaults: object;
  readonly section: object;
  readonly shared: readonly string[];
}

const ROWS: readonly Row[] = [
  {
    module: "replication (defaultReplicationOptions)",
    defaults: defaultReplicationOptions,
    section: config.replication,
    shared: ["forwardTimeoutMs", "retryInitialMs", "retryFactor", "retryMaxMs", "antiEntropyIntervalMs", "maxBatchMessages", "maxBatchBytes", "forwardBatchesInFlight", "forwardBatchHoldMs"],
  },
  {
    module: "proofs (defaultProofServiceOptions)",
    defaults: defaultProofServiceOptions,
    section: config.proofs,
    shared: ["epochMs", "keepProofs", "answerDeadlineMs", "maxProofAgeMs", "challengeIntervalMs", "replicationDelayMs", "allowAuditors"],
  },
  {
    module: "storage (defaultStorageOptions)",
    defaults: defaultStorageOptions,
    section: config.storage,
    shared: ["sizeLimitBytes", "diskReserveBytes", "diskHeadroomBytes", "mailboxMaxMessages", "synchronous", "sweepIntervalMs", "sweepBatchSize", "writerThread", "commitDelayMs"],
  },
  {module: "api/ws (defaultWsOptions)", defaults: defaultWsOptions, section: config.ws, shared: ["queueBudgetBytes"]},
  {module: "signing (defaultResponseSignerOptions)", defaults: defaultResponseSignerOptions, section: config.signing, shared: ["maxBatchDelayMs"]},
  {module: "swarm (DEFAULT_SWARM_MODE)", defaults: {mode: DEFAULT_SWARM_MODE}, section: config.swarm, shared: ["mode"]},
  {
    module: "api/http (buildHttpApp's fallbacks)",
    defaults: {
      bodyLimitBytes: DEFAULT_BODY_LIMIT_BYTES,
      requestTimeoutMs: DEFAULT_HTTP_REQUEST_TIMEOUT_MS,
      bodyIdleTimeoutMs: DEFAULT_HTTP_BODY_IDLE_TIMEOUT_MS,
      maxConnectionsPerIp: DEFAULT_HTTP_MAX_CONNECTIONS_PER_IP,
      bodyBudgetBytes: DEFAULT_HTTP_BODY_BUDGET_BYTES,
    },
    section: config.http,
    shared: ["bodyLimitBytes", "requestTimeoutMs", "bodyIdleTimeoutMs", "maxConnectionsPerIp", "bodyBudgetBytes"],
  },
  {
    module: "network view (networkHealthOptions of the default config)",
    defaults: networkHealthOptions(config),
    section: {...config.networkView, activeWindowMs: config.networkView.activeEpochs * config.proofs.epochMs, maxClockSkewMs: defaultProofServiceOptions.maxClockSkewMs},
    shared: ["pollIntervalMs", "requestTimeoutMs", "concurrency", "activeWindowMs", "maxClockSkewMs"],
  },
];

describe("module defaults and the config schema", () => {
  it.each(ROWS)("$module: every option that is a config setting defaults to the schema's value", (row) => {
    const defaults = row.defaults as Record<string, unknown>;
    const section = row.section as Record<string, unknown>;
    const shared = Object.keys(defaults).filter((k) => k in section);
    expect(shared.sort()).toEqual([...row.shared].sort());
    for (const key of shared) expect({key, value: defaults[key]}).toEqual({key, value: section[key]});
  });
});
