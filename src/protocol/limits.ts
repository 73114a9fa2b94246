/** Session storage-server limits and tolerances (oxenss/rpc/request_handler.h, common/ttl.h). */
const SECOND_MS = 1000;
const DAY_MS = 86_400 * SECOND_MS;

export const TTL_MINIMUM_MS = 10 * SECOND_MS;
/** Max TTL for public-inbox namespaces. */
export const TTL_MAXIMUM_PUBLIC_MS = 14 * DAY_MS;
/** Max TTL for every other namespace; also the cap of `expire` (PIP-0008 retentionDays 30). */
export const TTL_MAXIMUM_PRIVATE_MS = 30 * DAY_MS;
/** PIP-0008 sessionTTL: the TTL of a store that gives neither `ttl` nor `expiry`. */
export const DEFAULT_TTL_MS = DAY_MS;

export const STORE_TOLERANCE_MS = 10 * SECOND_MS;
export const SIGNATURE_TOLERANCE_MS = 60 * SECOND_MS;
export const SIGNATURE_TOLERANCE_FORWARDED_MS = 70 * SECOND_MS;

/** Max message body: 76,800 bytes, divisible by 3 so its base64 (102,400 chars) has no padding. */
export const MAX_MESSAGE_BODY_BYTES = 76_800;
export const RETRIEVE_MAX_SIZE_BYTES = 7_800_000;
export const BATCH_REQUEST_MAX = 20;
export const MAX_SUBACCOUNT_TOKENS = 50;
/**
 * Most levels of JSON nesting in a request's params (Pars limit; Session has none). Session's own
 * fields nest two or three levels and a meta request adds three per level (ifelse → then → params),
 * so this still allows ~20 nested ifelse; deeper input could only exhaust the stack of the parser,
 * the fan-out's serialiser or the response writer.
 */
export const PARAMS_NESTING_MAX = 64;
