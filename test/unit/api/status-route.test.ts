import {createHash} from "node:crypto";
import {EventEmitter} from "node:events";
import Fastify, {type FastifyInstance} from "fastify";
import {describe, expect, it} from "vitest";
import {registerStatusRoutes, type StatusRouteModules} from "../../../src/api/http/routes/status.js";
import {STATUS_PAGE_CSP, STATUS_PAGE_HTML} from "../../../src/api/http/routes/status-page.js";
import {PeerHealth} from "../../../src/proofs/index.js";
import type {ResultsSource} from "../../../src/proofs/index.js";
import {MembershipService} from "../../../src/swarm/membership-service.js";
import {ManualClock} from "../../../src/util/clock.js";
import {silentLogger as silent} from "../../utils/logger.js";
import {nobleBackend, signedRecord} from "../swarm/helpers.js";

const records = Array.from({length: 3}, (_, i) => signedRecord(i));
const self = records[0]!.nodeId;
const peer = records[1]!.nodeId;

function membership(): MembershipService {
  const source = Object.assign(new EventEmitter(), {description: "test", start() {}, close: () => Promise.resolve()});
  const m = new MembershipService(
    {networkId: 7070, mode: "balanced", ourNodeId: self},
    {source: source as never, pq: nobleBackend, clock: new ManualClock(1_767_225_600_000), logger: silent},
  );
  m.apply({text: JSON.stringify({version: 1, network_id: 7070, nodes: records}), origin: "t"});
  return m;
}

function proofs(): ResultsSource {
  const health = new PeerHealth(3);
  health.record(peer, {outcome: "pass"} as never, 900);
  health.record(records[2]!.nodeId, {outcome: "fail", reason: "bad_path"} as never, 950);
  health.record(records[2]!.nodeId, {outcome: "fail", reason: "bad_path"} as never, 960);
  health.record(records[2]!.nodeId, {outcome: "fail", reason: "bad_path"} as never, 970);
  const row = {id: 7, at: 970, challengerId: self, targetId: records[2]!.nodeId, messageHash: "ee".repeat(32), outcome: "fail" as const, reason: "bad_path", evidence: "{}"};
  return {
    latest: {nodeId: self, swarmId: 0, merkleRoot: new Uint8Array(32).fill(0xaa), messageCount: 4, usedBytes: 4096, timestamp: 800, signature: new Uint8Array(3309)} as never,
    health,
    ledger: {list: (limit: number) => [row].slice(0, limit), get: () => null},
  };
}

const health = (): Record<string, unknown> => ({
  nodeId: self,
  networkId: 7070,
  version: "0.1.0",
  messageCount: 4,
  accountCount: 2,
  usedBytes: 139_264,
  sizeLimitBytes: 10 * 2 ** 30,
  effectiveSizeLimitBytes: 2 ** 30,
  diskFreeBytes: 5 * 2 ** 30,
  membership: {source: "static", loaded: true},
  proofs: {proofReady: true, commitmentBuild: null},
  ws: {connections: 1, subscriptions: 2, pushes: 3, drops: 0, dropsByReason: {}},
});

function app(over: Partial<StatusRouteModules> = {}): FastifyInstance {
  const a = Fastify();
  registerStatusRoutes(a, {allow: () => true, now: () => 1_000, uptimeSeconds: () => 12.7, health, notReadyReasons: () => [], ...over});
  return a;
}

describe("GET /status/v1", () => {
  it("sums up the node, its storage against the limit, its swarm members' reachability, proofs, fees and network health", async () => {
    const report = {totalNodes: 3, activeNodes: 3, swarmCount: 1, avgNodesPerSwarm: 3, minSwarmSize: 3, storageCapacity: 30, storageUsed: 0, replicationOk: true, isHealthy: true};
    const res = await app({
      membership: membership(),
      proofs: proofs(),
      networkHealth: {report: () => report},
      fees: {schedule: () => ({multiplier: 1.5, utilization_pct: 42, storage_used: 1, storage_capacity: 2, load_origin: "network", fees: {}})},
    }).inject("/status/v1");
    expect(res.statusCode).toBe(200);
    expect(res.headers["cache-control"]).toBe("no-store");
    const body = res.json();
    expect(body.node).toEqual({node_id: self, version: "0.1.0", network: "mainnet", network_id: 7070, ready: true, not_ready: [], uptime_s: 12, tls_spki_sha256: null});
    expect(body.storage).toEqual({messages: 4, accounts: 2, used_bytes: 139_264, limit_bytes: 2 ** 30, configured_limit_bytes: 10 * 2 ** 30, disk_free_bytes: 5 * 2 ** 30});
    expect(body.fees).toEqual({multiplier: 1.5, utilization_pct: 42, storage_used: 1, storage_capacity: 2, load_origin: "network"});
    expect(body.network).toEqual(report);
    expect(body.ws).toEqual({connections: 1, subscriptions: 2, pushes: 3, drops: 0});
    expect(body.swarm.id).toBe("0");
    const byId = new Map(body.swarm.members.map((m: {node_id: string}) => [m.node_id, m]));
    expect(byId.size).toBe(3);
    expect(byId.get(self)).toMatchObject({self: true, healthy: true, proof_at: 800, proof_messages: 4, port: 22021});
    expect(byId.get(peer)).toMatchObject({self: false, healthy: true, passes: 1, fails: 0, last_outcome: "pass", last_at: 900});
    expect(byId.get(records[2]!.nodeId)).toMatchObject({healthy: false, fails: 3, consecutive_failures: 3, last_outcome: "fail"});
    expect(body.proofs).toEqual({
      ready: true,
      commitment_build: null,
      latest: {timestamp: 800, message_count: 4, used_bytes: 4096, merkle_root: "aa".repeat(32)},
      recent: [{id: 7, at: 970, challenger_id: self, target_id: records[2]!.nodeId, outcome: "fail", reason: "bad_path"}],
    });
    // Nothing secret or per-account: no signatures, no message hashes, no evidence.
    expect(res.body).not.toContain("ee".repeat(32));
    expect(res.body).not.toMatch(/signature|evidence|message_hash/);
  });

  it("a lone node without proofs or fees: nulls where the part is missing, and not-ready reasons", async () => {
    const body = (await app({notReadyReasons: () => ["membership not loaded"]}).inject("/status/v1")).json();
    expect(body.node).toMatchObject({ready: false, not_ready: ["membership not loaded"]});
    expect([body.swarm, body.proofs, body.fees, body.network, body.onion]).toEqual([null, null, null, null, null]);
  });

  it("an HTTPS node shows its certificate's pin, as GET /health reports it", async () => {
    const pin = "ab".repeat(32);
    const body = (await app({health: () => ({...health(), tls: {spkiSha256: pin}})}).inject("/status/v1")).json();
    expect(body.node.tls_spki_sha256).toBe(pin);
  });

  it("shares the per-IP rate limit: 429 on every status route", async () => {
    const a = app({allow: () => false});
    for (const url of ["/", "/status", "/status/v1"]) expect((await a.inject(url)).statusCode, url).toBe(429);
  });
});

describe("GET /status and GET /", () => {
  it("GET / redirects to /status", async () => {
    const res = await app().inject("/");
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe("/status");
    expect((await app().inject("/?refresh=1000")).headers.location).toBe("/status?refresh=1000");
  });

  it("serves the page with a CSP that allows exactly its inline script and style by hash", async () => {
    const res = await app().inject("/status");
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(res.headers["content-security-policy"]).toBe(STATUS_PAGE_CSP);
    expect(res.body).toBe(STATUS_PAGE_HTML);
    const inline = (tag: string): string[] => [...res.body.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, "g"))].map((m) => m[1]!);
    const hash = (s: string): string => `'sha256-${createHash("sha256").update(s).digest("base64")}'`;
    expect(inline("script")).toHaveLength(1);
    expect(inline("style")).toHaveLength(1);
    expect(STATUS_PAGE_CSP).toContain(`script-src ${hash(inline("script")[0]!)}`);
    expect(STATUS_PAGE_CSP).toContain(`style-src ${hash(inline("style")[0]!)}`);
    expect(STATUS_PAGE_CSP).toContain("default-src 'none'");
    expect(STATUS_PAGE_CSP).toContain("connect-src 'self'");
    // Self-contained: nothing loaded from elsewhere.
    expect(res.body).not.toMatch(/(src|href)="(https?:)?\/\//);
  });
});
