import {createHash} from "node:crypto";
import {describe, expect, it} from "vitest";
import {assignSwarms} from "../../../src/swarm/assignment.js";
import {balancedAssignment, balancedGroupStarts} from "../../../src/swarm/balanced.js";
import {nodeSwarm, swarmCount} from "../../../src/swarm/mapping.js";
import {detBytes, fakeMember} from "./helpers.js";

function sizesOf(assignment: ReadonlyMap<string, bigint>, count: number): number[] {
  const sizes = new Array<number>(count).fill(0);
  for (const swarm of assignment.values()) sizes[Number(swarm)] = (sizes[Number(swarm)] ?? 0) + 1;
  return sizes;
}

/** Deterministic Fisher-Yates shuffle driven by SHA-256 bytes. */
function shuffled<T>(items: readonly T[], seed: string): T[] {
  const out = [...items];
  const rnd = detBytes(seed, 4 * out.length);
  const view = new DataView(rnd.buffer, rnd.byteOffset, rnd.byteLength);
  for (let i = out.length - 1; i > 0; i--) {
    const j = view.getUint32(4 * i) % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

describe("balanced assignment", () => {
  // 2000 distinct digests; node set n is the first n of them.
  const inputs = Array.from({length: 2000}, (_, i) => ({
    nodeId: createHash("sha256").update(`node/${i}`).digest("hex"),
    keyDigestHex: createHash("sha256").update(`key/${i}`).digest("hex"),
  }));

  it("keeps every swarm between 3 and 10 nodes (in fact 3..5, sizes within 1) for n in 3..2000", () => {
    for (let n = 3; n <= 2000; n++) {
      const count = swarmCount(n);
      const sizes = sizesOf(balancedAssignment(inputs.slice(0, n), count), count);
      const min = Math.min(...sizes);
      const max = Math.max(...sizes);
      expect(sizes.reduce((a, b) => a + b, 0), `n=${n}`).toBe(n);
      if (min < 3 || max > 5 || max - min > 1) expect.fail(`n=${n}: sizes ${min}..${max}`);
    }
  });

  it("group starts tile 0..n with sizes floor(n/c) or ceil(n/c)", () => {
    for (let n = 3; n <= 2000; n++) {
      const count = swarmCount(n);
      const starts = balancedGroupStarts(n, count);
      expect(starts[0], `n=${n}`).toBe(0);
      expect(starts[count], `n=${n}`).toBe(n);
      for (let i = 0; i < count; i++) {
        const size = (starts[i + 1] ?? 0) - (starts[i] ?? 0);
        if (size < Math.floor(n / count) || size > Math.ceil(n / count)) expect.fail(`n=${n} swarm ${i}: ${size}`);
      }
    }
  });

  it("puts nodes with adjacent key digests together, in digest order", () => {
    const nodes = inputs.slice(0, 12);
    const result = balancedAssignment(nodes, swarmCount(12)); // 3 swarms of 4
    const order = [...nodes].sort((a, b) => (a.keyDigestHex < b.keyDigestHex ? -1 : 1));
    expect(order.map((n) => result.get(n.nodeId))).toEqual([0n, 0n, 0n, 0n, 1n, 1n, 1n, 1n, 2n, 2n, 2n, 2n]);
  });

  it("puts n < 3 nodes (and none) into swarm 0", () => {
    expect(sizesOf(balancedAssignment(inputs.slice(0, 2), 1), 1)).toEqual([2]);
    expect(balancedAssignment([], 1).size).toBe(0);
  });
});

describe("assignSwarms", () => {
  const members = Array.from({length: 137}, (_, i) => fakeMember(`m${i}`));

  it("pip0008 mode is nodeSwarm(pk, swarmCount(n)) for every node", () => {
    const {count, swarmOf} = assignSwarms(members, "pip0008");
    expect(count).toBe(28);
    for (const m of members) expect(swarmOf.get(m.nodeId), m.nodeId).toBe(nodeSwarm(m.mlDsaPublicKey, count));
  });

  it("does not depend on input order, in either mode", () => {
    for (const mode of ["pip0008", "balanced"] as const) {
      const reference = assignSwarms(members, mode).swarmOf;
      for (const seed of ["a", "b", "c"]) {
        const other = assignSwarms(shuffled(members, seed), mode).swarmOf;
        expect(new Map([...other].sort()), `${mode}/${seed}`).toEqual(new Map([...reference].sort()));
      }
    }
  });

  it("balanced mode uses the PIP count and real key digests", () => {
    const {count, swarmOf} = assignSwarms(members, "balanced");
    expect(count).toBe(swarmCount(members.length));
    const sizes = sizesOf(swarmOf, count);
    expect(Math.min(...sizes)).toBeGreaterThanOrEqual(3);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(5);
  });

  it("rejects duplicated node IDs and duplicated ML-DSA keys", () => {
    const [a, b] = members as [(typeof members)[0], (typeof members)[0]];
    expect(() => assignSwarms([a, {...b, nodeId: a.nodeId}], "pip0008")).toThrow(/duplicate node ID/);
    expect(() => assignSwarms([a, {...b, mlDsaPublicKey: a.mlDsaPublicKey}], "balanced")).toThrow(/duplicate ML-DSA key/);
  });

  it("rejects an unknown mode", () => {
    expect(() => assignSwarms(members, "ring" as never)).toThrow(expect.objectContaining({code: "INVALID_ARGUMENT"}));
  });
});
