import type {ConfigProblem} from "./errors.js";
import {getPath} from "./merge.js";
import type {ParsStorageConfig} from "./schema.js";
import {type ConfigLayer, originOf} from "./validate.js";

/**
 * Rules that tie several options together, checked on the merged configuration. Each problem
 * names the layer that set the option it depends on (or "default").
 */
export function crossFieldProblems(config: ParsStorageConfig, layers: readonly ConfigLayer[]): ConfigProblem[] {
  const {source, file, registryUrl} = config.membership;
  const problem = (dependsOn: string, path: string, message: string): ConfigProblem => ({
    ...whereSet(layers, dependsOn),
    path,
    message,
  });
  const problems: ConfigProblem[] = [];
  if (source === "static" && file === "") {
    problems.push(problem("membership.source", "membership.file", 'must be set when membership.source is "static"'));
  }
  if (source === "registry" && registryUrl === "") {
    problems.push(problem("membership.source", "membership.registryUrl", 'must be set when membership.source is "registry"'));
  }
  if (registryUrl !== "" && !isHttpUrl(registryUrl)) {
    problems.push(problem("membership.registryUrl", "membership.registryUrl", `must be an http:// or https:// URL (got ${JSON.stringify(registryUrl)})`));
  }
  const {epochMs, genesisMs} = config.rewards;
  if (genesisMs % epochMs !== 0) {
    // The fee ledger counts epochs from the Unix epoch: a multiple keeps each reward epoch one ledger row.
    problems.push(problem("rewards.epochMs", "rewards.genesisMs", `must be a multiple of rewards.epochMs (${epochMs})`));
  }
  return problems;
}

/** The highest-precedence layer that set `path`, as a problem's source and origin. */
function whereSet(layers: readonly ConfigLayer[], path: string): Pick<ConfigProblem, "source" | "origin"> {
  for (const layer of [...layers].reverse()) {
    if (getPath(layer.values, path.split(".")) !== undefined) return {source: layer.source, origin: originOf(layer, path)};
  }
  return {source: "default", origin: ""};
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === "http:" || url.protocol === "https:";
  } catch {
    return false;
  }
}
