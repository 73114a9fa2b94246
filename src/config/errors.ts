import {ParsError} from "../util/index.js";

/** Which layer a config value came from. */
export type ConfigSource = "default" | "file" | "env" | "flag";

export interface ConfigProblem {
  readonly source: ConfigSource;
  /** Where exactly: the file path, the env var name or the flag as typed (`--http-port`). */
  readonly origin: string;
  /** Dotted config path the problem is about (`http.port`); empty for the whole layer (bad JSON). */
  readonly path: string;
  readonly message: string;
}

export type ConfigErrorType = {code: "CONFIG_ERROR_INVALID"; problems: readonly ConfigProblem[]};

/** `file /etc/pars.json: http.port: must be …` */
export function formatProblem(problem: ConfigProblem): string {
  const where = problem.source === "default" ? "default" : `${problem.source} ${problem.origin}`;
  return problem.path === "" ? `${where}: ${problem.message}` : `${where}: ${problem.path}: ${problem.message}`;
}

/**
 * Every problem found while loading the configuration, reported together so that one run shows
 * the operator everything to fix.
 */
export class ConfigError extends ParsError<ConfigErrorType> {
  constructor(problems: readonly ConfigProblem[]) {
    const count = problems.length === 1 ? "1 problem" : `${problems.length} problems`;
    const lines = problems.map((p) => `  - ${formatProblem(p)}`);
    super({code: "CONFIG_ERROR_INVALID", problems}, [`invalid configuration (${count}):`, ...lines].join("\n"));
    this.name = "ConfigError";
  }

  get problems(): readonly ConfigProblem[] {
    return this.type.problems;
  }
}
