import {describe, expect, it} from "vitest";
import {
  SWARM_SHARE_BPS,
  TREASURY_SHARE_BPS,
  apportion,
  splitAmongNodes,
  splitFee,
} from "../../../src/economics/index.js";
import {INVALID, P, Prng} from "./helpers.js";

describe("economics/distribution: §6.2 80/20", () => {
  it("reproduces the split", () => {
    expect(SWARM_SHARE_BPS).toBe(8000n);
    expect(TREASURY_SHARE_BPS).toBe(2000n);
    expect(SWARM_SHARE_BPS + TREASURY_SHARE_BPS).toBe(10_000n);
    expect(splitFee(100n)).toEqual({swarm: 80n, treasury: 20n});
    expect(splitFee(P("0.001"))).toEqual({swarm: P("0.0008"), treasury: P("0.0002")});
    expect(splitFee(P("0.0001"))).toEqual({swarm: P("0.00008"), treasury: P("0.00002")});
  });

  it("gives the sub-unit remainder to the swarm", () => {
    expect(splitFee(0n)).toEqual({swarm: 0n, treasury: 0n});
    expect(splitFee(1n)).toEqual({swarm: 1n, treasury: 0n});
    expect(splitFee(4n)).toEqual({swarm: 4n, treasury: 0n});
    expect(splitFee(5n)).toEqual({swarm: 4n, treasury: 1n});
    expect(splitFee(99n)).toEqual({swarm: 80n, treasury: 19n});
    expect(() => splitFee(-1n)).toThrow(INVALID);
  });

  it("parts sum exactly and stay within one unit of 80/20 (seeded)", () => {
    const prng = new Prng(0x5eed0005);
    for (let i = 0; i < 2000; i++) {
      const fee = prng.bigint(128);
      const {swarm, treasury} = splitFee(fee);
      expect(swarm + treasury, `iteration ${i}: sum`).toBe(fee);
      expect(treasury, `iteration ${i}: treasury`).toBe((fee * 20n) / 100n);
      expect(swarm - (fee * 80n) / 100n <= 1n, `iteration ${i}: swarm bound`).toBe(true);
    }
  });
});

describe("economics/distribution: splitAmongNodes", () => {
  it("splits equally; the remainder goes to the smallest node IDs, output in input order", () => {
    expect(splitAmongNodes(80n, ["c", "a", "b"])).toEqual([
      {nodeId: "c", amount: 26n},
      {nodeId: "a", amount: 27n},
      {nodeId: "b", amount: 27n},
    ]);
    expect(splitAmongNodes(P("0.0008"), ["n1", "n2", "n3", "n4", "n5"]).map((a) => a.amount)).toEqual(
      Array<bigint>(5).fill(P("0.00016")),
    );
  });

  it("uses code-unit order, not locale order", () => {
    // "B" (0x42) < "a" (0x61) in code units; a locale compare would put "a" first.
    expect(splitAmongNodes(1n, ["a", "B"])).toEqual([
      {nodeId: "a", amount: 0n},
      {nodeId: "B", amount: 1n},
    ]);
  });

  it("sums exactly, differs by at most one unit, ignores input order (seeded)", () => {
    const prng = new Prng(0x5eed0006);
    for (let i = 0; i < 1000; i++) {
      const ids = Array.from({length: 1 + prng.int(10)}, (_, j) => `${prng.hex(6)}-${j}`);
      const share = prng.bigint(100);
      const result = splitAmongNodes(share, ids);
      const amounts = result.map((a) => a.amount);
      expect(amounts.reduce((s, a) => s + a, 0n), `iteration ${i}: sum`).toBe(share);
      const min = amounts.reduce((m, a) => (a < m ? a : m));
      const max = amounts.reduce((m, a) => (a > m ? a : m));
      expect(max - min <= 1n, `iteration ${i}: spread`).toBe(true);
      const reversed = new Map(splitAmongNodes(share, [...ids].reverse()).map((a) => [a.nodeId, a.amount]));
      expect(reversed, `iteration ${i}: order`).toEqual(new Map(result.map((a) => [a.nodeId, a.amount])));
    }
  });

  it("rejects no nodes and duplicate node IDs", () => {
    expect(() => splitAmongNodes(1n, [])).toThrow(INVALID);
    expect(() => splitAmongNodes(1n, ["a", "a"])).toThrow(INVALID);
  });
});

describe("economics/distribution: apportion", () => {
  it("is the fee pipeline end to end: fee → 80/20 → nodes, nothing lost (seeded)", () => {
    const prng = new Prng(0x5eed0007);
    for (let i = 0; i < 500; i++) {
      const fee = prng.bigint(80);
      const {swarm, treasury} = splitFee(fee);
      const nodes = splitAmongNodes(swarm, ["n0", "n1", "n2", "n3", "n4", "n5", "n6"].slice(0, 3 + prng.int(5)));
      expect(treasury + nodes.reduce((s, n) => s + n.amount, 0n), `iteration ${i}`).toBe(fee);
    }
  });

  it("rejects negative weights and amounts", () => {
    expect(() => apportion(1n, [{key: "a", weight: -1n}])).toThrow(INVALID);
    expect(() => apportion(-1n, [{key: "a", weight: 1n}])).toThrow(INVALID);
  });
});
