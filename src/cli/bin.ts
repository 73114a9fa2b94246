#!/usr/bin/env node
import {runCli} from "./run.js";

/**
 * Entry point of the `pars-storage` binary. Exit codes: 0 ok, 1 runtime failure, 2 usage or
 * configuration error. If something (a leaked socket or timer) keeps the event loop alive after
 * the command finished, an unref'd timer ends the process shortly after.
 */
const EXIT_GRACE_MS = 2_000;

const code = await runCli(process.argv.slice(2), {
  stdout: (line) => console.log(line),
  stderr: (line) => console.error(line),
  env: process.env,
  cwd: process.cwd(),
  ...(process.stderr.isTTY
    ? {
        stderrTty: {
          get columns() {
            return process.stderr.columns;
          },
          write: (text: string) => void process.stderr.write(text),
        },
      }
    : {}),
});
process.exitCode = code;
setTimeout(() => process.exit(code), EXIT_GRACE_MS).unref();
