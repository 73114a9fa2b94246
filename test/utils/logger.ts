import pino, {type Logger} from "pino";

/**
 * The one logger tests hand to code under test when its output does not matter. A real pino
 * logger at level silent, so it fits pino/fastify's `Logger` (with `child()`) as well as the small
 * debug/info/warn/error interfaces modules declare.
 */
export const silentLogger: Logger = pino({level: "silent"});
