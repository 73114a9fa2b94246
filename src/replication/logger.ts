/** The slice of a pino logger replication uses (pass `logger.child({module: "replication"})`). */
export interface ReplicationLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** A short description of any thrown value, for log lines. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return "code" in err && typeof err.code === "string" ? `${err.code}: ${err.message}` : err.message;
  return String(err);
}
