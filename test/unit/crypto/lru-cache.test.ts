import {describe, expect, it} from "vitest";
import {LruCache} from "../../../src/crypto/lru-cache.js";

describe("LruCache", () => {
  it("evicts the least recently used entry beyond its bound", () => {
    const cache = new LruCache<string, number>(2);
    cache.set("a", 1);
    cache.set("b", 2);
    expect(cache.get("a")).toBe(1); // a is now the most recent
    cache.set("c", 3);
    expect(cache.size).toBe(2);
    expect(cache.get("b")).toBeUndefined();
    expect(cache.get("a")).toBe(1);
    expect(cache.get("c")).toBe(3);
  });

  it("caches null as a value, distinct from a miss", () => {
    const cache = new LruCache<string, number | null>(3);
    cache.set("bad", null);
    expect(cache.get("bad")).toBeNull();
    expect(cache.get("missing")).toBeUndefined();
  });

  it("re-setting a key refreshes it instead of growing", () => {
    const cache = new LruCache<string, number>(2);
    cache.set("a", 1);
    cache.set("b", 2);
    cache.set("a", 10);
    cache.set("c", 3);
    expect(cache.get("a")).toBe(10);
    expect(cache.get("b")).toBeUndefined();
    cache.clear();
    expect(cache.size).toBe(0);
  });

  it("rejects a non-positive bound", () => {
    expect(() => new LruCache(0)).toThrow(expect.objectContaining({code: "INVALID_ARGUMENT"}));
    expect(() => new LruCache(1.5)).toThrow(expect.objectContaining({code: "INVALID_ARGUMENT"}));
  });
});
