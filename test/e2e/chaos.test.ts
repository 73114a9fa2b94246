/**
 * issue #11, seeded fault test: the short fixed-seed variant of `npm run chaos` (docs/chaos.md).
 * A 6-node devnet under 05/07 load while seed 5's schedule freezes, kills (-9), stops and
 * freezes nodes again; after healing, no acknowledged store is lost, nothing deleted or expired comes back, the swarms
 * converge, nothing crashed but the scheduled kills, and no 5xx. The disk fault is off here (it
 * needs root and the full-disk handling); `npm run chaos` runs it.
 */
import {describe, expect, it} from "vitest";
import {anyEntryLists, check, divergence} from "../../bench/chaos/checker.js";
import {DEFAULT_CHAOS, runChaos} from "../../bench/chaos/harness.js";
import {faultSchedule} from "../../bench/chaos/schedule.js";

const SEED = 5;
const WINDOW_MS = 16_000;

describe("chaos (fixed seed)", () => {
  it("the schedule is a function of the seed (a failing seed replays the same faults)", () => {
    const opts = {nodes: 6, windowMs: 45_000, diskNode: 2};
    expect(faultSchedule(SEED, opts)).toEqual(faultSchedule(SEED, opts));
    expect(faultSchedule(SEED, opts)).not.toEqual(faultSchedule(SEED + 1, opts));
    const kinds = new Set(faultSchedule(SEED, opts).map((f) => f.kind));
    expect(kinds.size).toBeGreaterThan(1);
    for (const f of faultSchedule(SEED, {...opts, diskNode: null})) expect(f.kind).not.toBe("disk");
  });

  it("a delete or expire counts as acknowledged only when a member's entry lists the hash", () => {
    const answer = (list: string[]) => ({swarm: {a: {updated: [], expiry: 1}, b: {updated: list, expiry: 1}, c: {failed: true, unreachable: true}}});
    expect(anyEntryLists(answer(["h1"]), "updated", "h1")).toBe(true);
    // 200 with empty lists: no member held the message yet (its store still queued), nothing changed.
    expect(anyEntryLists(answer([]), "updated", "h1")).toBe(false);
    expect(anyEntryLists({swarm: {a: {deleted: ["h2"]}}}, "deleted", "h2")).toBe(true);
    expect(anyEntryLists({swarm: {a: {deleted: ["h2"]}}}, "updated", "h2")).toBe(false);
    expect(anyEntryLists("Service node is not ready", "deleted", "h2")).toBe(false);
  });

  it("the checker reports a lost store, a resurrected delete, a stray crash and a 500", () => {
    const finalSets = new Map([["05aa", new Map([["node-1", new Set(["h1", "h2"])], ["node-2", new Set(["h2"])]])]]);
    const checks = check({
      stores: [{account: "05aa", hash: "h1", acked: true}],
      deletes: [{account: "05aa", hash: "h2", acked: true}],
      expires: [],
      responses: [
        {method: "store", node: "node-1", status: 500, notReady: false},
        {method: "store", node: "node-1", status: 507, notReady: false},
      ],
      finalSets,
      finalReadAtMs: Date.now(),
      nodes: [{name: "node-1", url: "", pid: 1, state: "running", restarts: 2, exits: [
        {atMs: 0, code: null, signal: "SIGKILL", unexpected: true},
        {atMs: 1, code: 1, signal: null, unexpected: true},
      ]}],
      scheduledKills: new Map([["node-1", 1]]),
    });
    expect(checks.map((c) => c.ok)).toEqual([false, false, false, false]);
    expect(checks[0]!.detail).toContain("h1 (05aa…) missing on node-2");
    expect(checks[1]!.detail).toContain("h2 (deleted) returned by node-1, node-2");
    expect(checks[2]!.detail).toBe("node-1 exited (code 1, signal null)");
    expect(checks[3]!.detail).toBe("1× 500 store on node-1");
    expect(check({stores: [], deletes: [], expires: [], finalSets, finalReadAtMs: 0, nodes: [], scheduledKills: new Map(), responses: [
      {method: "delete", node: "node-2", status: 503, notReady: true},
      {method: "delete", node: "node-2", status: 503, notReady: false, detail: '"overloaded"'},
    ]})[3]!.detail).toBe('1× 503 delete on node-2 ("overloaded")');
    expect(divergence(finalSets)).toHaveLength(1);
  });

  it("an expire counts from when the final read began, not from when the checker runs", () => {
    // An expire acknowledged as the load ends is due 2 s later, often after the members were read
    // (they converge ~1 s after healing): every member rightly returns the message. The checker used
    // to compare with the time it ran (after the reads and `devnet --status`) and called that a
    // resurrection returned by every member, as in seed 42's "returned by node-1, node-6, node-2".
    const finalSets = new Map([["05aa", new Map([["node-1", new Set(["late", "early"])], ["node-2", new Set(["late", "early"])]])]]);
    const readAt = 1_000_000;
    const expires = [
      {account: "05aa", hash: "late", acked: true, expiryMs: readAt + 1},
      {account: "05aa", hash: "early", acked: true, expiryMs: readAt - 5},
    ];
    const input = {stores: [], deletes: [], expires, responses: [], finalSets, finalReadAtMs: readAt, nodes: [], scheduledKills: new Map()};
    const resurrected = check(input)[1]!;
    expect(resurrected.ok).toBe(false);
    expect(resurrected.detail).toContain("early (expired 5 ms before the final read) returned by node-1, node-2");
    expect(resurrected.detail).not.toContain("late");
    expect(check({...input, expires: expires.slice(0, 1)})[1]!.ok).toBe(true);
  });

  it(`seed ${SEED}: 0 lost, 0 resurrected, converged, no unscheduled crash, no 5xx`, {timeout: 150_000}, async () => {
    const lines: string[] = [];
    const report = await runChaos({...DEFAULT_CHAOS, seed: SEED, windowMs: WINDOW_MS, diskFault: false, convergeTimeoutMs: 30_000, log: (l) => lines.push(l)});
    const text = [...lines, ...report.lines].join("\n");
    expect(report.schedule.length, text).toBeGreaterThan(2);
    expect(report.checks.filter((c) => !c.ok), text).toEqual([]);
    expect(report.lines.join("\n")).toMatch(/PASS no acknowledged store lost: 0 \(\d+ acknowledged/);
    expect(report.lines.join("\n")).toMatch(/PASS no deleted or expired message resurrected: 0 \(/);
  });
});
