import {describe, expect, it} from "vitest";
import {epochAt, epochBounds, epochIndex, lastClosedEpoch} from "../../../src/economics/index.js";
import {INVALID} from "./helpers.js";

const HOUR = 3_600_000;
// 2026-01-23T00:00:00Z, the PIP's date, as a genesis.
const G = Date.UTC(2026, 0, 23);

describe("economics/epochs", () => {
  it("counts epochs from genesis, start inclusive and end exclusive", () => {
    const s = {epochMs: HOUR, genesisMs: G};
    expect(epochIndex(s, G)).toBe(0);
    expect(epochIndex(s, G + HOUR - 1)).toBe(0);
    expect(epochIndex(s, G + HOUR)).toBe(1);
    expect(epochBounds(s, 5)).toEqual({epoch: 5, startMs: G + 5 * HOUR, endMs: G + 6 * HOUR});
    expect(epochAt(s, G + 5 * HOUR + 17)).toEqual(epochBounds(s, 5));
  });

  it("works with devnet epochs of seconds and a Unix-epoch genesis", () => {
    const s = {epochMs: 2_000, genesisMs: 0};
    expect(epochIndex(s, 1_765_000_001_999)).toBe(882_500_000);
    expect(epochBounds(s, 882_500_000)).toEqual({epoch: 882_500_000, startMs: 1_765_000_000_000, endMs: 1_765_000_002_000});
  });

  it("names the last closed epoch, none before the first one ends", () => {
    const s = {epochMs: HOUR, genesisMs: G};
    expect(lastClosedEpoch(s, G)).toBeNull();
    expect(lastClosedEpoch(s, G + HOUR - 1)).toBeNull();
    expect(lastClosedEpoch(s, G + HOUR)).toBe(0);
    expect(lastClosedEpoch(s, G + 3 * HOUR + 5)).toBe(2);
    expect(lastClosedEpoch(s, G - 1)).toBeNull();
  });

  it("refuses times before genesis and unusable schedules", () => {
    expect(() => epochIndex({epochMs: HOUR, genesisMs: G}, G - 1)).toThrow(INVALID);
    expect(() => epochIndex({epochMs: 0, genesisMs: 0}, 5)).toThrow(INVALID);
    expect(() => epochIndex({epochMs: 1.5, genesisMs: 0}, 5)).toThrow(INVALID);
    expect(() => epochBounds({epochMs: HOUR, genesisMs: 0}, -1)).toThrow(INVALID);
    expect(() => epochBounds({epochMs: HOUR, genesisMs: 0}, Number.MAX_SAFE_INTEGER)).toThrow(INVALID);
  });
});
