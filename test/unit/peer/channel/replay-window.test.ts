import {describe, expect, it} from "vitest";
import {ReplayWindow, type WindowVerdict} from "../../../../src/peer/channel/replay-window.js";

/** The obvious model: every committed sequence number in a Set. */
function modelVerdict(seen: Set<number>, highest: number, size: number, seq: number): WindowVerdict {
  if (seq > highest) return "ok";
  if (highest - seq >= size) return "too-old";
  return seen.has(seq) ? "replay" : "ok";
}

describe("ReplayWindow", () => {
  it("accepts each sequence number once, in any order within the window", () => {
    const w = new ReplayWindow(64);
    expect(w.highest).toBe(-1);
    for (const s of [3, 1, 2, 0, 10]) {
      expect(w.check(s), `seq ${s}`).toBe("ok");
      w.commit(s);
    }
    for (const s of [0, 1, 2, 3, 10]) expect(w.check(s), `seq ${s}`).toBe("replay");
    expect(w.check(4)).toBe("ok");
    expect(w.highest).toBe(10);
  });

  it("has an exact boundary: highest - size + 1 is inside, highest - size is too old", () => {
    const w = new ReplayWindow(32);
    w.commit(100);
    expect(w.check(69)).toBe("ok");
    expect(w.check(68)).toBe("too-old");
  });

  it("forgets bits that slide out, including on jumps larger than the window", () => {
    const w = new ReplayWindow(32);
    w.commit(5);
    w.commit(37); // slot of 5 reused
    expect(w.check(5)).toBe("too-old");
    expect(w.check(6)).toBe("ok");
    w.commit(1_000_000);
    expect(w.check(1_000_000 - 31)).toBe("ok");
    expect(w.check(1_000_000)).toBe("replay");
  });

  it("agrees with a Set-based model on 20,000 random operations", () => {
    const size = 128;
    const w = new ReplayWindow(size);
    const seen = new Set<number>();
    let highest = -1;
    let seed = 12345;
    const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 20_000; i++) {
      const seq = Math.max(0, highest + Math.floor(rand() * 300) - 250 + (rand() < 0.01 ? 500 : 0));
      const expected = modelVerdict(seen, highest, size, seq);
      expect(w.check(seq), `op ${i} seq ${seq}`).toBe(expected);
      if (expected === "ok") {
        w.commit(seq);
        seen.add(seq);
        highest = Math.max(highest, seq);
      }
    }
  });

  it("rejects sizes that are not positive multiples of 32", () => {
    for (const size of [0, -32, 31, 33, 1.5]) expect(() => new ReplayWindow(size), `size ${size}`).toThrow(RangeError);
  });
});
