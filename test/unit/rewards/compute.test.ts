import {describe, expect, it} from "vitest";
import {periodInflation, splitFee} from "../../../src/economics/index.js";
import {computeEpochRewards, type EpochReport, type RewardMember} from "../../../src/rewards/index.js";

const id = (c: string): string => c.repeat(64);
const [A, B, C] = [id("a"), id("b"), id("c")];
const P = 10n ** 18n;
const HOUR = 3_600_000;

function member(nodeId: string, operator: string, amount: bigint, contributors: Array<{address: string; amount: bigint}> = []): RewardMember {
  return {nodeId, stake: {operator: {address: operator, amount}, contributors}};
}

function report(nodeId: string, fees: bigint, swarm: string[], verdicts: Array<[string, number, number]> = []): EpochReport {
  return {
    networkId: 7072,
    epoch: 3,
    nodeId,
    fees: {total: fees, swarmMembers: swarm},
    verdicts: verdicts.map(([target, passed, failed]) => ({target, passed, failed})),
    signedAt: 0,
    signature: new Uint8Array(0),
  };
}

const base = {epoch: 3, startMs: 3 * HOUR, epochMs: HOUR, genesisMs: 0, totalSupply: 0n};
const members = [member(A, "0xAA", 15_000n * P), member(B, "0xbb", 15_000n * P), member(C, "0xcc", 30_000n * P)];

describe("rewards/compute", () => {
  it("splits each report's fees 80/20 and the swarm part equally among its members", () => {
    const fee = 1_000_003n;
    const r = computeEpochRewards({...base, members, reports: [report(A, fee, [A, B, C]), report(B, 0n, [A, B, C]), report(C, 0n, [A, B, C])]});
    const {swarm, treasury} = splitFee(fee);
    expect(r.feesTotal).toBe(fee);
    expect(r.treasury).toBe(treasury);
    const fees = r.nodes.map((n) => n.fees);
    expect(fees.reduce((s, f) => s + f, 0n)).toBe(swarm);
    expect(fees.every((f) => f === swarm / 3n || f === swarm / 3n + 1n)).toBe(true);
    expect(r.addresses.map((a) => a.address)).toEqual(["0xaa", "0xbb", "0xcc"]);
  });

  it("pays nothing to a node without a report and gives its fee part to the treasury", () => {
    const fee = 900n;
    const r = computeEpochRewards({...base, members, reports: [report(A, fee, [A, B, C]), report(B, 0n, [A, B, C])]});
    const c = r.nodes.find((n) => n.nodeId === C);
    expect(c).toMatchObject({eligible: false, reason: "no-report", fees: 0n, inflation: 0n});
    // 20 % = 180; the swarm's 720 → 240 each; C's 240 is forfeited to the treasury.
    expect(r.treasury).toBe(180n + 240n);
    expect(r.addresses).toEqual([{address: "0xaa", amount: 240n}, {address: "0xbb", amount: 240n}]);
  });

  it("pays nothing to a node another member saw fail a challenge; its own verdicts about itself do not count", () => {
    const reports = [report(A, 0n, [A], [[B, 2, 1]]), report(B, 0n, [B], [[B, 0, 5]]), report(C, 0n, [C], [[A, 1, 0], [B, 1, 0]])];
    const r = computeEpochRewards({...base, totalSupply: 1_000_000_000n * P, members, reports});
    expect(r.nodes.map((n) => [n.eligible, n.reason, n.passed, n.failed])).toEqual([
      [true, null, 1, 0],
      [false, "failed-challenge", 3, 1],
      [true, null, 0, 0],
    ]);
    // The inflation pool goes to A and C by stake (15k : 30k).
    const pool = periodInflation(1_000_000_000n * P, 1, HOUR);
    expect(r.inflationPool).toBe(pool);
    const [a, , c] = r.nodes;
    expect((a?.inflation ?? 0n) + (c?.inflation ?? 0n)).toBe(pool);
    const diff = (c?.inflation ?? 0n) - 2n * (a?.inflation ?? 0n);
    expect(diff >= -2n && diff <= 2n).toBe(true);
    expect(r.addresses.find((x) => x.address === "0xbb")).toBeUndefined();
  });

  it("splits a node's earnings among operator and contributors by stake, summing addresses across nodes", () => {
    const ms = [member(A, "0xop", 5_000n * P, [{address: "0xC1", amount: 10_000n * P}]), member(B, "0xOP", 15_000n * P)];
    const r = computeEpochRewards({...base, members: ms, reports: [report(A, 3_000n, [A]), report(B, 0n, [B])]});
    // A's swarm part 2,400: operator 1/3 = 800, contributor 1,600; B earns nothing from fees.
    expect(r.addresses).toEqual([{address: "0xc1", amount: 1_600n}, {address: "0xop", amount: 800n}]);
  });

  it("does not depend on the order of members or reports, and ignores reports of non-members or other epochs", () => {
    const reports = [report(A, 777n, [A, B]), report(B, 5n, [A, B]), report(id("d"), 1_000n, [A]), {...report(C, 50n, [C]), epoch: 4}];
    const one = computeEpochRewards({...base, totalSupply: 10n ** 27n, members, reports});
    const two = computeEpochRewards({...base, totalSupply: 10n ** 27n, members: [...members].reverse(), reports: [...reports].reverse()});
    expect(two).toEqual(one);
    expect(one.feesTotal).toBe(782n);
    expect(one.nodes.find((n) => n.nodeId === C)?.reason).toBe("no-report");
  });

  it("leaves the inflation pool unpaid when no node earns", () => {
    const r = computeEpochRewards({...base, totalSupply: 10n ** 27n, members, reports: []});
    expect(r.unpaidInflation).toBe(r.inflationPool);
    expect(r.inflationPool > 0n).toBe(true);
    expect(r.addresses).toEqual([]);
  });
});
