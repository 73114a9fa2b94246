import {describe, expect, it} from "vitest";
import {alignColumns, formatAgo, formatBytes, formatDevnetTable, formatStatus, memberState, type StatusMember, type StatusSummary} from "../../../src/cli/status-format.js";

const T = 1_800_000_000_000;
const ID = (c: string): string => c.repeat(64);

function member(over: Partial<StatusMember>): StatusMember {
  return {node_id: ID("b"), host: "127.0.0.1", port: 40001, self: false, healthy: true, passes: 0, fails: 0, inconclusive: 0, proof_at: null, proof_messages: null, ...over};
}

function summary(over: Partial<StatusSummary> = {}): StatusSummary {
  return {
    t: T,
    node: {node_id: ID("a"), version: "0.1.0", network: "devnet", network_id: 7072, ready: true, not_ready: [], uptime_s: 75},
    storage: {messages: 12, accounts: 3, used_bytes: 3 * 1024 * 1024, limit_bytes: 10 * 1024 ** 3, disk_free_bytes: 512},
    membership: {source: "static"},
    swarm: {
      id: "0",
      members: [
        member({node_id: ID("a"), self: true, port: 40000, proof_at: T - 5_000, proof_messages: 12}),
        member({node_id: ID("b"), passes: 4, proof_at: T - 200_000, proof_messages: 11}),
        member({node_id: ID("c"), port: 40002, healthy: false, fails: 3}),
      ],
    },
    proofs: {ready: true, latest: {timestamp: T - 5_000, message_count: 12}, recent: [{outcome: "pass"}, {outcome: "fail"}, {outcome: "pass"}]},
    fees: {multiplier: 1.25, utilization_pct: 7},
    network: {isHealthy: true, activeNodes: 3, totalNodes: 3, swarmCount: 1, minSwarmSize: 3, replicationOk: true},
    ws: {connections: 2, subscriptions: 5},
    ...over,
  };
}

describe("status formatting", () => {
  it("bytes and ages in operator units", () => {
    expect([formatBytes(null), formatBytes(0), formatBytes(1023), formatBytes(1536), formatBytes(3 * 1024 ** 3), formatBytes(20 * 1024 ** 4)]).toEqual([
      "-",
      "0 B",
      "1023 B",
      "1.50 KiB",
      "3.00 GiB",
      "20.0 TiB",
    ]);
    expect([formatAgo(null, T), formatAgo(T - 4_400, T), formatAgo(T - 600_000, T), formatAgo(T - 3 * 3_600_000, T), formatAgo(T + 5_000, T)]).toEqual([
      "never",
      "4 s ago",
      "10 min ago",
      "3 h ago",
      "0 s ago",
    ]);
  });

  it("a member is failing on failed challenges, reachable once heard from, unknown before", () => {
    expect(memberState(member({self: true}))).toBe("this node");
    expect(memberState(member({healthy: false, fails: 3}))).toBe("failing");
    expect(memberState(member({passes: 1}))).toBe("reachable");
    expect(memberState(member({proof_at: T}))).toBe("reachable");
    expect(memberState(member({}))).toBe("unknown");
    expect(memberState(member({healthy: null, passes: 2}))).toBe("unknown");
  });

  it("one node: every fact on its labelled line, members aligned under the swarm", () => {
    expect(formatStatus(summary())).toEqual([
      `node       ${ID("a")}`,
      "network    devnet (7072), version 0.1.0, up 75 s",
      "state      ready",
      "storage    12 messages, 3 accounts, 3.00 MiB of 10.0 GiB (0.03 %), disk free 512 B",
      "swarm      0, 3 members",
      "  aaaaaaaaaaaa  127.0.0.1:40000  this node                                               proof 5 s ago (12 messages)",
      "  bbbbbbbbbbbb  127.0.0.1:40001  reachable  challenges 4 pass / 0 fail / 0 inconclusive  proof 3 min ago (11 messages)",
      "  cccccccccccc  127.0.0.1:40002  failing    challenges 0 pass / 3 fail / 0 inconclusive  no proof seen",
      "proofs     latest 5 s ago, 12 messages; last 3 results: 2 pass, 1 fail, 0 inconclusive",
      "fees       multiplier 1.25, utilization 7 %",
      "network    healthy: 3 of 3 nodes active, 1 swarm(s) (smallest 3), replication ok",
      "websocket  2 connections, 5 subscriptions",
    ]);
  });

  it("an HTTPS node's TLS pin on a line of its own after the state; none over plain HTTP or from older nodes", () => {
    const pin = "ab".repeat(32);
    expect(formatStatus(summary({node: {...summary().node, tls_spki_sha256: pin}})).slice(2, 4)).toEqual(["state      ready", `tls pin    ${pin}`]);
    expect(formatStatus(summary({node: {...summary().node, tls_spki_sha256: null}}))[3]).toMatch(/^storage/);
  });

  it("a lone, not-ready node without proofs or fees", () => {
    const lines = formatStatus(
      summary({
        node: {node_id: ID("a"), version: "0.1.0", network: "mainnet", network_id: 7070, ready: false, not_ready: ["membership not loaded"], uptime_s: 1},
        membership: {source: "none"},
        swarm: null,
        proofs: null,
        fees: null,
        network: null,
      }),
    );
    expect(lines).toContain("state      not ready: membership not loaded");
    expect(lines).toContain("swarm      none (membership.source = none: serves every account)");
    expect(lines).toContain("proofs     disabled");
    expect(lines).toContain("fees       -");
    expect(lines).toContain("network    not loaded");
  });

  it("the devnet table: a header, one aligned row per node, an unreachable node says why", () => {
    const lines = formatDevnetTable([
      {name: "node-1", url: "http://127.0.0.1:40000", process: "running", summary: summary(), error: null},
      {name: "node-2", url: "http://127.0.0.1:40001", process: "stopped", summary: null, error: "connect ECONNREFUSED 127.0.0.1:40001"},
      {name: "node-10", url: "http://127.0.0.1:40002", process: null, summary: summary({node: {...summary().node, ready: false, not_ready: ["x"]}}), error: null},
    ]);
    expect(lines).toEqual([
      "NODE     URL                     PROCESS  NODE ID       STATE          SWARM  MSGS  USED      PEERS OK  PROOF    NETWORK",
      "node-1   http://127.0.0.1:40000  running  aaaaaaaaaaaa  ready          0      12    3.00 MiB  1/2       5 s ago  healthy 3/3",
      "node-2   http://127.0.0.1:40001  stopped  -             unreachable: connect ECONNREFUSED 127.0.0.1:40001",
      "node-10  http://127.0.0.1:40002  -        aaaaaaaaaaaa  not ready (x)  0      12    3.00 MiB  1/2       5 s ago  healthy 3/3",
    ]);
  });

  it("alignColumns pads all but the last column and trims trailing space", () => {
    expect(alignColumns([["a", "bb", ""], ["ccc", "d", "e"]])).toEqual(["a    bb", "ccc  d   e"]);
  });
});
