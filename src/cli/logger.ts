import {createRequire} from "node:module";
import {pino, type DestinationStream, type Logger} from "pino";
import type {ParsStorageConfig} from "../config/index.js";

/** Logs go to stderr so stdout stays free for command output (`id`, `keygen`, the listening line). */
const STDERR_FD = 2;

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
  const logger = pino(options, pino.destination({dest: STDERR_FD, sync: true}));
  if (opts.pretty) logger.warn("log.pretty is set but pino-pretty is not installed; writing JSON lines");
  return logger;
}
