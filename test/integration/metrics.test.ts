/**
 * GET /metrics on a 3-node devnet on loopback (issue #17 item 1): every node serves its metrics on
 * a listener of its own; a scrape before and after a short load (stores, retrieves, a WebSocket
 * subscription with a push, an onion request through all three nodes, a storage-proof refresh and
 * challenge, a client over its rate limit) shows every family, and the ones the load touched moved.
 */
import {readFileSync} from "node:fs";
import {join} from "node:path";
import {request} from "undici";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {sessionAccount, type SessionAccount} from "../utils/keys.js";
import {OnionTestClient} from "../utils/onion-client.js";
import {familyTotal, scrape, type Scrape} from "../utils/prometheus.js";
import {SwarmHarness, rpc, waitFor, type TestNode} from "../utils/swarm-harness.js";
import {seconds, sub05, TestClient} from "./ws/harness.js";

/** Each family item 1 asks for; all must be declared by every node. */
export const METRIC_FAMILIES = [
  "pars_node_info",
  "pars_http_requests_total",
  "pars_http_request_duration_seconds",
  "pars_rpc_requests_total",
  "pars_rpc_request_duration_seconds",
  "pars_rate_limit_rejections_total",
  "pars_onion_hop_duration_seconds",
  "pars_onion_requests_total",
  "pars_onion_relays_in_flight",
  "pars_store_messages",
  "pars_store_accounts",
  "pars_store_used_bytes",
  "pars_store_size_limit_bytes",
  "pars_store_messages_added_total",
  "pars_store_messages_removed_total",
  "pars_store_sweeps_total",
  "pars_store_swept_messages_total",
  "pars_store_group_commit_writes",
  "pars_store_group_commits_total",
  "pars_store_failed_writes_total",
  "pars_signer_signatures_total",
  "pars_signer_sign_duration_seconds",
  "pars_signer_receipt_batch_size",
  "pars_replication_forwards_total",
  "pars_replication_forward_frame_calls",
  "pars_replication_retries_total",
  "pars_replication_retry_queue_depth",
  "pars_replication_anti_entropy_syncs_total",
  "pars_replication_anti_entropy_repairs_total",
  "pars_peer_channel_handshakes_total",
  "pars_peer_channel_rekeys_total",
  "pars_peer_channel_rejections_total",
  "pars_peer_channels",
  "pars_proof_refresh_duration_seconds",
  "pars_proof_answer_duration_seconds",
  "pars_proof_challenge_results_total",
  "pars_proof_ready",
  "pars_proof_latest_age_seconds",
  "pars_proof_commitment_build_ratio",
  "pars_ws_connections",
  "pars_ws_subscriptions",
  "pars_ws_queued_bytes",
  "pars_ws_pushes_total",
  "pars_ws_rpc_requests_total",
  "pars_ws_drops_total",
  "pars_nodejs_eventloop_lag_seconds",
  "pars_process_resident_memory_bytes",
  "pars_nodejs_heap_size_used_bytes",
  "pars_process_cpu_seconds_total",
];

/** Families the load below must move (summed over the three nodes). */
const MOVED_BY_LOAD = [
  "pars_http_requests_total",
  "pars_http_request_duration_seconds",
  "pars_rpc_requests_total",
  "pars_rpc_request_duration_seconds",
  "pars_rate_limit_rejections_total",
  "pars_onion_hop_duration_seconds",
  "pars_onion_requests_total",
  "pars_store_messages",
  "pars_store_messages_added_total",
  "pars_store_sweeps_total",
  "pars_store_group_commit_writes",
  "pars_store_group_commits_total",
  "pars_signer_signatures_total",
  "pars_signer_sign_duration_seconds",
  "pars_signer_receipt_batch_size",
  "pars_replication_forwards_total",
  "pars_replication_forward_frame_calls",
  "pars_replication_anti_entropy_syncs_total",
  "pars_proof_refresh_duration_seconds",
  "pars_proof_answer_duration_seconds",
  "pars_proof_challenge_results_total",
  "pars_ws_pushes_total",
  "pars_ws_rpc_requests_total",
  "pars_process_cpu_seconds_total",
];

const DASHBOARD = join(import.meta.dirname, "..", "..", "docker", "grafana", "dashboards", "pars-storage.json");
const RATE_CAPACITY = 60;
const h = new SwarmHarness({
  mode: "pip0008",
  flags: {
    "rateLimit.enabled": "true",
    "rateLimit.capacity": String(RATE_CAPACITY),
    "rateLimit.refillPerSecond": "0.01",
    "storage.sweepIntervalMs": "200",
    "replication.antiEntropyIntervalMs": "300",
    "proofs.challengeIntervalMs": "0",
  },
});
let n: TestNode[] = [];
let acc: SessionAccount;

beforeAll(async () => {
  for (const label of ["metrics/a", "metrics/b", "metrics/c"]) await h.startNode(label);
  n = h.nodes;
  h.writeMembership(await h.nodeRecords());
  await waitFor("every node ready", () => n.every((t) => t.node.router.notReadyReasons().length === 0));
  await waitFor("every node's first proof", () => n.every((t) => t.node.proofs?.latest !== null));
  acc = sessionAccount();
}, 120_000);

afterAll(async () => {
  await h.close();
});

const scrapeAll = (): Promise<Scrape[]> => Promise.all(n.map((t) => scrape(t.node.metricsUrl!)));
const total = (scrapes: Scrape[], family: string): number => scrapes.reduce((sum, s) => sum + familyTotal(s, family), 0);

function storeParams(text: string): Record<string, unknown> {
  return {pubkey: acc.hex, timestamp: Date.now(), ttl: 3_600_000, data: Buffer.from(text).toString("base64")};
}

function retrieveParams(): Record<string, unknown> {
  const ts = Date.now();
  return {pubkey: acc.hex, pubkey_ed25519: acc.ed.pub.toString("hex"), timestamp: ts, signature: acc.ed.sign(`retrieve${ts}`).toString("base64")};
}

/** Stores, retrieves, a push, an onion request, a proof round and a client over its limit. */
async function load(): Promise<void> {
  const node0 = n[0]!;
  const ws = await TestClient.connect(`${node0.url.replace("http://", "ws://")}/ws`);
  try {
    expect((await ws.subscribe(sub05(acc, [0], true, seconds(Date.now())))).success).toBe(true);
    for (let i = 0; i < 5; i++) expect((await rpc(node0.pool, "store", storeParams(`metrics load ${i}`))).status).toBe(200);
    expect((await ws.rpc("info", {})).code).toBe(200);
    for (let i = 0; i < 3; i++) expect((await rpc(node0.pool, "retrieve", retrieveParams())).status).toBe(200);
    await waitFor("the push", async () => {
      await ws.sync();
      return ws.pushes().length > 0;
    });
  } finally {
    ws.close();
  }
  const onion = await OnionTestClient.fromNetwork(n[1]!.url);
  try {
    const res = await onion.send([n[1]!.node.nodeId, n[2]!.node.nodeId, node0.node.nodeId], {method: "retrieve", params: retrieveParams()});
    expect(res.inner?.status).toBe(200);
  } finally {
    await onion.close();
  }
  await challengeRound();
  await overTheLimit(n[2]!.url);
}

/** Node 0 refreshes twice (the scheduler picks from the previous commitment) and challenges node 1. */
async function challengeRound(): Promise<void> {
  const proofs = n[0]!.node.proofs!;
  await waitFor("the stores replicated to node 1", () => n[1]!.node.store.stats().messageCount >= 5);
  await n[1]!.node.proofs!.runEpoch();
  await proofs.runEpoch();
  await proofs.runEpoch();
  const target = n[1]!.node;
  const evidence = await proofs.scheduler.challengeOnce({
    nodeId: target.nodeId,
    keys: {mlDsa: target.identity.mlDsa.publicKey, mlKem: target.identity.mlKem.publicKey},
  });
  expect(evidence?.verdict.outcome).toBe("pass");
}

/** A client at 127.0.0.3 sends more `info` requests than its bucket holds: the rest get 429. */
async function overTheLimit(url: string): Promise<void> {
  const {Agent} = await import("undici");
  const agent = new Agent({localAddress: "127.0.0.3", keepAliveTimeout: 10});
  try {
    const statuses: number[] = [];
    for (let i = 0; i < RATE_CAPACITY + 5; i++) {
      const res = await request(`${url}/storage_rpc/v1`, {method: "POST", body: JSON.stringify({method: "info", params: {}}), dispatcher: agent});
      await res.body.text();
      statuses.push(res.statusCode);
    }
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
  } finally {
    await agent.close();
  }
}

describe("GET /metrics on a 3-node devnet", () => {
  it("every node serves every family on its own listener; the load moves the ones it touches", async () => {
    for (const t of n) expect(new URL(t.node.metricsUrl!).port, "a listener of its own").not.toBe(String(t.port));
    const before = await scrapeAll();
    for (const [i, s] of before.entries()) {
      const missing = METRIC_FAMILIES.filter((f) => !s.types.has(f));
      expect(missing, `families missing on node ${i}`).toEqual([]);
    }
    await load();
    // Let at least one TTL sweep and one anti-entropy round run after the load.
    const sweeps = total(before, "pars_store_sweeps_total");
    await waitFor("a sweep and an anti-entropy round", async () => {
      const s = await scrapeAll();
      return total(s, "pars_store_sweeps_total") > sweeps && total(s, "pars_replication_anti_entropy_syncs_total") > total(before, "pars_replication_anti_entropy_syncs_total");
    });
    const after = await scrapeAll();
    const unchanged = MOVED_BY_LOAD.filter((f) => !(total(after, f) > total(before, f)));
    expect(unchanged, "families the load should have moved").toEqual([]);
    expect(total(after, "pars_peer_channel_handshakes_total"), "channels were opened").toBeGreaterThan(0);
    expect(total(after, "pars_ws_subscriptions")).toBe(0); // the client closed
  }, 120_000);

  it("labels stay bounded: no account ID, no client IP, peers by node-ID prefix", async () => {
    // pars_node_info names the node itself (one series); every other label is bounded.
    const keys = (await scrapeAll()).flatMap((s) => [...s.samples.keys()]);
    const text = keys.filter((k) => !k.startsWith("pars_node_info{")).join("\n");
    expect(text).not.toContain(acc.hex);
    expect(text).not.toContain(acc.hex.slice(2));
    expect(text).not.toMatch(/127\.0\.0\.[23]/);
    for (const t of n) expect(text).not.toContain(t.node.nodeId.slice(0, 20));
    expect(text).toMatch(/pars_replication_forwards_total\{peer="[0-9a-f]{8}",result="ok"\}/);
  });

  it("the metrics listener answers 404 to other paths and is not on the public port by default", async () => {
    const other = await request(n[0]!.node.metricsUrl!.replace("/metrics", "/health"));
    await other.body.text();
    expect(other.statusCode).toBe(404);
    const pub = await request(`${n[0]!.url}/metrics`);
    await pub.body.text();
    expect(pub.statusCode).toBe(404);
  });

  it("every metric the Grafana dashboard queries is served by a node, and it has a panel for every family", async () => {
    const dashboard = JSON.parse(readFileSync(DASHBOARD, "utf8")) as {
      panels: Array<{targets?: Array<{expr: string}>}>;
      templating: {list: Array<{definition?: string}>};
    };
    const queries = [...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)), ...dashboard.templating.list.map((v) => v.definition ?? "")];
    const names = new Set(queries.flatMap((q) => [...q.matchAll(/\bpars_[a-z0-9_]+/g)].map((m) => m[0])));
    const s = await scrape(n[0]!.node.metricsUrl!);
    const served = (name: string): boolean =>
      s.types.has(name) || ["_bucket", "_sum", "_count"].some((suffix) => name.endsWith(suffix) && s.types.get(name.slice(0, -suffix.length)) === "histogram");
    expect([...names].filter((name) => !served(name)), "queried but not served").toEqual([]);
    const shown = (family: string): boolean => ["", "_bucket", "_sum", "_count"].some((suffix) => names.has(family + suffix));
    expect(METRIC_FAMILIES.filter((f) => !shown(f)), "families without a panel").toEqual([]);
  });

  it("logs no warning about metrics", () => {
    for (const t of n) expect(t.warnings.filter((w) => w.module === "metrics")).toEqual([]);
  });
});
