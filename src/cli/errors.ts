import {ParsError} from "../util/index.js";

/** Bad command line: unknown command or flag, missing value. Exit code 2; all problems at once. */
export class UsageError extends ParsError<{code: "CLI_ERROR_USAGE"; problems: readonly string[]}> {
  constructor(problems: readonly string[]) {
    const message =
      problems.length === 1
        ? (problems[0] ?? "")
        : [`${problems.length} usage problems:`, ...problems.map((p) => `  - ${p}`)].join("\n");
    super({code: "CLI_ERROR_USAGE", problems}, message);
    this.name = "UsageError";
  }
}

/** An expected failure of a command (e.g. no key file for `id`). Exit code 1, no stack trace. */
export class CommandError extends ParsError<{code: "CLI_ERROR_COMMAND"}> {
  constructor(message: string) {
    super({code: "CLI_ERROR_COMMAND"}, message);
    this.name = "CommandError";
  }
}

/** Process exit codes of the CLI. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
