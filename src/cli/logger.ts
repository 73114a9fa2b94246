import {createRequire} from "node:module";
import {pino, type DestinationStream, type Logger} from "pino";
import type {ParsStorageConfig} from "../config/index.js";

/** Logs go to stderr so stdout stays free for command output (`id`, `keygen`, the listening line). */
const STDERR_FD = 2;
/** Log bytes held while stderr cannot be written (a full disk); newer lines are dropped past it. */
export const LOG_BUFFER_MAX_BYTES = 4 * 1024 * 1024;

function hasPinoPretty(): boolean {
  try {
    createRequire(import.meta.url).resolve("pino-pretty");
    return true;
  } catch {
    return false;
  }
}

/**
 * The one pino root logger of the process; modules take `logger.child({module})`. Writes JSON lines
 * synchronously to stderr (so a crash log is never lost), or through pino-pretty if `log.pretty`
 * is set and pino-pretty happens to be installed (it is not a dependency).
 */
export function createRootLogger(opts: ParsStorageConfig["log"], destination?: DestinationStream): Logger {
  const options = {name: "pars-storage", level: opts.level};
  if (destination !== undefined) return pino(options, destination);
  if (opts.pretty && hasPinoPretty()) {
    return pino(options, pino.transport({target: "pino-pretty", options: {destination: STDERR_FD}}));
  }
  const stderrStream = pino.destination({dest: STDERR_FD, sync: true, maxLength: LOG_BUFFER_MAX_BYTES});
  // A log write that fails (ENOSPC when stderr is a file on a full disk, EPIPE when its reader is
  // gone) must not take the node down: without a listener the stream's 'error' is an uncaught
  // exception (seen in `npm run chaos`: a node whose log shares the full disk crashed). Unwritten
  // lines wait in the stream's buffer, at most LOG_BUFFER_MAX_BYTES, and are written once a write
  // succeeds again; lines beyond that are dropped.
  stderrStream.on("error", () => undefined);
  const logger = pino(options, stderrStream);
  if (opts.pretty) logger.warn("log.pretty is set but pino-pretty is not installed; writing JSON lines");
  return logger;
}
