/**
 * Session namespace rules (oxenss/common/namespace.h). Namespaces are signed 16-bit integers; `%`
 * follows the sign of the dividend in both C++ and JavaScript, so these match Session exactly.
 */
export const NAMESPACE_MIN = -32768;
export const NAMESPACE_MAX = 32767;
export const NAMESPACE_DEFAULT = 0;
export const NAMESPACE_LEGACY_CLOSED = -10;

/** Anyone may store without a signature (0, 10, -30, …); max TTL 14 days. */
export function isPublicInbox(ns: number): boolean {
  return ns % 10 === 0;
}

/** Owner-only store that replaces the namespace's other messages; retrieve needs no auth (-1, -21, …). */
export function isPublicOutbox(ns: number): boolean {
  return ns < 0 && -ns % 20 === 1;
}

export function isNoAuthRetrieve(ns: number): boolean {
  return ns === NAMESPACE_LEGACY_CLOSED || isPublicOutbox(ns);
}

/** Revoked subaccounts may still retrieve here (-11, -111, …). */
export function isUnrevocable(ns: number): boolean {
  return ns < 0 && -ns % 100 === 11;
}

/** How a namespace appears in signed strings and message hashes: "" for 0, else decimal ("all" allowed). */
export function namespaceSigValue(ns: number | "all"): string {
  return ns === NAMESPACE_DEFAULT ? "" : String(ns);
}
