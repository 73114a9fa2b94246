import {type ParsedArgs, parseCliArgs} from "./args.js";
import {EXIT_FAILURE, EXIT_OK, EXIT_USAGE} from "./errors.js";
import {helpText} from "./help.js";
import type {CliIo} from "./io.js";

export type {CliIo} from "./io.js";

export type CommandHandler = (args: ParsedArgs, io: CliIo) => Promise<number>;
export type RunnableCommand = Exclude<ParsedArgs["command"], "help">;
/** Commands are loaded lazily, so `help` never loads crypto or the node, and tests can stub them. */
export type CommandTable = Readonly<Record<RunnableCommand, () => Promise<CommandHandler>>>;

export const DEFAULT_COMMANDS: CommandTable = {
  start: async () => (await import("./commands/start.js")).startCommand,
  keygen: async () => (await import("./commands/keygen.js")).keygenCommand,
  id: async () => (await import("./commands/id.js")).idCommand,
  record: async () => (await import("./commands/record.js")).recordCommand,
  devnet: async () => (await import("./commands/devnet.js")).devnetCommand,
  audit: async () => (await import("./commands/audit.js")).auditCommand,
  status: async () => (await import("./commands/status.js")).statusCommand,
  client: async () => (await import("./commands/client.js")).clientCommand,
};

/** Parses `argv` (without `node` and the script), runs the command and returns the exit code. */
export async function runCli(
  argv: readonly string[],
  io: CliIo,
  commands: CommandTable = DEFAULT_COMMANDS,
): Promise<number> {
  try {
    const args = parseCliArgs(argv);
    if (args.command === "help") {
      io.stdout(helpText(args.helpTopic));
      return EXIT_OK;
    }
    const handler = await commands[args.command]();
    return await handler(args, io);
  } catch (e) {
    return reportError(e, io);
  }
}

function errorCode(e: unknown): unknown {
  return typeof e === "object" && e !== null && "code" in e ? e.code : undefined;
}

/** Expected errors get their message only; anything else is a bug and gets its stack. */
export function reportError(e: unknown, io: CliIo): number {
  const code = errorCode(e);
  const message = e instanceof Error ? e.message : String(e);
  if (code === "CLI_ERROR_USAGE" || code === "CONFIG_ERROR_INVALID") {
    io.stderr(`pars-storage: ${message}\nRun "pars-storage help" for usage.`);
    return EXIT_USAGE;
  }
  const isSystemError = e instanceof Error && "syscall" in e;
  if (typeof code === "string" && (code.includes("_ERROR_") || isSystemError)) {
    io.stderr(`pars-storage: ${message}`);
    return EXIT_FAILURE;
  }
  io.stderr(`pars-storage: unexpected error: ${e instanceof Error ? (e.stack ?? message) : message}`);
  return EXIT_FAILURE;
}
