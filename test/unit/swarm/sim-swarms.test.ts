import {describe, expect, it} from "vitest";
import {formatSimTable, simulateSwarms} from "../../../bench/sim-swarms.js";
import {detBytes} from "./helpers.js";

function counterBytes(): (length: number) => Uint8Array {
  let counter = 0;
  return (length) => detBytes(`sim/${counter++}`, length);
}

describe("simulateSwarms", () => {
  const rows = simulateSwarms({sizes: [15, 50], runsFor: () => 20, randomBytes: counterBytes()});

  it("reports both modes per size with the PIP-0008 swarm count", () => {
    expect(rows.map((r) => [r.n, r.mode])).toEqual([[15, "pip0008"], [15, "balanced"], [50, "pip0008"], [50, "balanced"]]);
    for (const row of rows) {
      expect(row.swarmCount, `${row.n}/${row.mode}`).toEqual({mean: row.n / 5, p5: row.n / 5, p95: row.n / 5});
      expect(row.runs).toBe(20);
    }
  });

  it("balanced mode never has a swarm under 3; PIP-0008 mode does at n = 50", () => {
    for (const row of rows.filter((r) => r.mode === "balanced")) {
      expect(row.under3Share, String(row.n)).toBe(0);
      expect(row.setsWithUnder3Share, String(row.n)).toBe(0);
      expect(row.smallest.min).toBe(5);
      expect(row.largest.max).toBe(5);
    }
    const pip50 = rows.find((r) => r.mode === "pip0008" && r.n === 50);
    expect(pip50?.setsWithUnder3Share).toBeGreaterThan(0.3);
    expect(pip50?.churnOnLeave).toBe(0); // hash-mod: a leave moves nobody while the count is unchanged
  });

  it("is deterministic for a deterministic byte source and formats a table", () => {
    const again = simulateSwarms({sizes: [15, 50], runsFor: () => 20, randomBytes: counterBytes()});
    expect(again).toEqual(rows);
    const table = formatSimTable(rows);
    expect(table.split("\n")).toHaveLength(2 + rows.length);
    expect(table).toContain("balanced");
  });
});
