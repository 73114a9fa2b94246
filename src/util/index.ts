export {clockTimers, systemClock} from "./clock.js";
export type {Clock, ClockTimers, TimerHandle} from "./clock.js";
export {CoalescedTask, backoffDelayMs} from "./coalesced-task.js";
export {InvalidArgumentError, ParsError} from "./errors.js";
export {loadGc} from "./gc.js";
export {RateLimiter} from "./rate-limiter.js";
export type {RateLimiterOptions} from "./rate-limiter.js";
export {silentLogger, type Logger} from "./logger.js";
export {valueJson, withJson, type JsonOf} from "./raw-json.js";
