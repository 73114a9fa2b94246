export {RateLimiter} from "./rate-limiter.js";
export type {RateLimiterOptions} from "./rate-limiter.js";
export {buildHttpApp} from "./app.js";
export {loadGc} from "./memory-release.js";
