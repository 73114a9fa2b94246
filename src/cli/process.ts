import type {Logger} from "pino";

/** The part of `process` the CLI's lifecycle code uses; tests pass an EventEmitter with `exit`. */
export interface ProcessLike {
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
  exit(code: number): void;
}

export const SHUTDOWN_SIGNALS = ["SIGINT", "SIGTERM"] as const;

export interface ShutdownSignal {
  /** Resolves with the first SIGINT/SIGTERM received. */
  readonly received: Promise<string>;
  /** Removes the signal listeners. */
  dispose(): void;
}

/**
 * Listens for SIGINT/SIGTERM: the first one resolves `received` (the caller then closes
 * gracefully); a second one means the operator wants out now and exits with code 1.
 */
export function onShutdownSignal(logger: Logger, proc: ProcessLike = process): ShutdownSignal {
  let first: string | null = null;
  let resolve: (signal: string) => void = () => {};
  const received = new Promise<string>((r) => (resolve = r));
  const listener = (signal: unknown): void => {
    const name = String(signal);
    if (first !== null) {
      logger.warn({signal: name}, "Second signal received, exiting without graceful shutdown");
      proc.exit(1);
      return;
    }
    first = name;
    logger.info({signal: name}, "Shutting down");
    resolve(name);
  };
  for (const signal of SHUTDOWN_SIGNALS) proc.on(signal, listener);
  const dispose = (): void => {
    for (const signal of SHUTDOWN_SIGNALS) proc.off(signal, listener);
  };
  return {received, dispose};
}

/**
 * Last line of defence: an uncaught exception or unhandled rejection is logged at `fatal` and the
 * process exits with 1 (its state is unknown, so no graceful close). Returns the uninstaller.
 */
export function installCrashHandlers(logger: Logger, proc: ProcessLike = process): () => void {
  const crash =
    (kind: string) =>
    (err: unknown): void => {
      logger.fatal({err}, kind);
      proc.exit(1);
    };
  const onException = crash("Uncaught exception");
  const onRejection = crash("Unhandled promise rejection");
  proc.on("uncaughtException", onException);
  proc.on("unhandledRejection", onRejection);
  return () => {
    proc.off("uncaughtException", onException);
    proc.off("unhandledRejection", onRejection);
  };
}
