import {loadConfigWithSource} from "../../config/index.js";
import {StorageNode} from "../../node/index.js";
import {mallocHint} from "../allocator.js";
import type {ParsedArgs} from "../args.js";
import {EXIT_FAILURE, EXIT_OK} from "../errors.js";
import {createRootLogger} from "../logger.js";
import {installCrashHandlers, onShutdownSignal} from "../process.js";
import type {CliIo} from "../io.js";

/**
 * `pars-storage start`: load config, build the root logger, start the node, print one line when
 * listening, then close gracefully on SIGINT/SIGTERM (a second signal forces exit 1).
 */
export async function startCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const {config, configFile} = loadConfigWithSource({flags: args.flags, env: io.env, cwd: io.cwd});
  const logger = createRootLogger(config.log);
  const uninstallCrashHandlers = installCrashHandlers(logger);
  const shutdown = onShutdownSignal(logger);
  // Started by `pars-storage devnet` (with an IPC channel): stop gracefully if that parent goes away.
  const onParentGone = (): void => void process.kill(process.pid, "SIGTERM");
  if (process.send !== undefined) process.once("disconnect", onParentGone);
  try {
    const {network, networkId, dataDir} = config;
    logger.info({configFile, network, networkId, dataDir}, "Starting pars-storage");
    const hint = mallocHint(io.env);
    if (hint !== null) logger.warn(hint);
    const node = await StorageNode.init(config, {logger});
    io.stdout(`pars-storage listening on ${node.httpUrl} node ${node.nodeId}`);
    await shutdown.received;
    try {
      await node.close();
    } catch (err) {
      logger.error({err}, "Error while closing the node");
      return EXIT_FAILURE;
    }
    return EXIT_OK;
  } catch (err) {
    logger.fatal({err}, "Failed to start");
    throw err;
  } finally {
    shutdown.dispose();
    process.off("disconnect", onParentGone);
    if (process.connected) process.disconnect(); // the IPC channel would keep the process alive
    uninstallCrashHandlers();
  }
}
