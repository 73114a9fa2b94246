/**
 * The slice of a pino logger every module uses: pass `logger.child({module: "…"})`. One type for
 * all, so a module never needs its own logger interface.
 */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = (): void => {};

/** Logs nothing: the default where a logger is optional. */
export const silentLogger: Logger = {debug: noop, info: noop, warn: noop, error: noop};
