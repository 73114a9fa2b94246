import type {ScenarioSummary} from "../../../bench/report.js";

/** A scenario's summary with neutral figures except those given. */
export function scenarioSummary(id: ScenarioSummary["id"], over: Partial<ScenarioSummary> = {}): ScenarioSummary {
  return {
    id,
    label: id,
    reqPerSec: 0,
    reqPerSecRuns: [],
    p50Ms: 0,
    p99Ms: 0,
    serverCpu: null,
    cpuMsPerRequest: null,
    cpuMsPerRequestEach: [],
    mainThreadCpuMsPerRequest: null,
    clientCpu: 0,
    otherCpu: null,
    non2xx: 0,
    errors: 0,
    ratioToEcho: null,
    ratioToRawSqlite: null,
    signBatch: null,
    problems: [],
    ...over,
  };
}
