/** The slice of a pino logger the storage module uses (pass `logger.child({module: "storage"})`). */
export interface StorageLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = (): void => {};

export const silentLogger: StorageLogger = {debug: noop, info: noop, warn: noop, error: noop};
