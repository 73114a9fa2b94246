/** Plain-object helpers for the config layers (no prototype tricks, arrays are values). */

export type PlainObject = Record<string, unknown>;

/** Keys that would reach `Object.prototype` through assignment; never merged or set. */
const UNSAFE_KEYS = new Set(["__proto__", "constructor", "prototype"]);

export function isPlainObject(value: unknown): value is PlainObject {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Deep-merges `source` into `target` in place: objects merge key by key, everything else
 * (including arrays) overwrites. Returns `target`.
 */
export function mergeInto(target: PlainObject, source: PlainObject): PlainObject {
  for (const [key, value] of Object.entries(source)) {
    if (UNSAFE_KEYS.has(key) || value === undefined) continue;
    const current = target[key];
    if (isPlainObject(current) && isPlainObject(value)) mergeInto(current, value);
    else target[key] = isPlainObject(value) ? mergeInto({}, value) : value;
  }
  return target;
}

/** Sets `obj[a][b][c] = value` for segments `[a, b, c]`, creating objects on the way. */
export function setPath(obj: PlainObject, segments: readonly string[], value: unknown): void {
  let node = obj;
  for (const [i, key] of segments.entries()) {
    if (UNSAFE_KEYS.has(key)) return;
    if (i === segments.length - 1) {
      node[key] = value;
      return;
    }
    const next = node[key];
    if (isPlainObject(next)) node = next;
    else node = node[key] = {};
  }
}

export function getPath(obj: PlainObject, segments: readonly string[]): unknown {
  let node: unknown = obj;
  for (const key of segments) {
    if (!isPlainObject(node) || !Object.hasOwn(node, key)) return undefined;
    node = node[key];
  }
  return node;
}

/** Freezes `value` and everything reachable from it. */
export function deepFreeze<T>(value: T): Readonly<T> {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
