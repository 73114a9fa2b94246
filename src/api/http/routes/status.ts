/**
 * The operator's status page (docs/configuration.md "Status page"):
 *   GET /           302 to /status
 *   GET /status     one self-contained HTML page (status-page.ts) under a strict CSP
 *   GET /status/v1  the JSON summary the page polls and `pars-storage status` prints
 *
 * The summary gathers in one request what /health, /network/v1/*, /proof/v1/results and
 * /economics/v1/fees answer separately, trimmed to what an operator looks at: no signatures, no
 * account IDs, no message hashes (only counts, node IDs and public addresses from the signed
 * membership). Shares the RPC's per-IP rate limit.
 */
import type {FastifyInstance, FastifyReply} from "fastify";
import {NETWORK_IDS} from "../../../config/index.js";
import type {ResultsSource} from "../../../proofs/index.js";
import {toHex} from "../../../protocol/index.js";
import {HTTP} from "../../../rpc/index.js";
import {swarmIdToWire} from "../../../swarm/index.js";
import type {NetworkHealthApi, NetworkMembership} from "./network.js";
import {STATUS_PAGE_CSP, STATUS_PAGE_HTML} from "./status-page.js";

/** Newest proof results in the summary: enough for the page's list, small enough to poll every few seconds. */
export const STATUS_RECENT_RESULTS = 10;

/** What the summary reads; every part but `health` is absent when the node runs without it. */
export interface StatusSources {
  /** GET /health's facts (node ID, store figures, membership, proofs, ws, onion). */
  readonly health: () => Record<string, unknown>;
  readonly notReadyReasons: () => readonly string[];
  readonly membership?: NetworkMembership;
  readonly networkHealth?: NetworkHealthApi;
  readonly proofs?: ResultsSource;
  readonly fees?: {schedule(): Record<string, unknown>};
  readonly now: () => number;
  /** Process uptime in seconds (injected so tests can fix it). */
  readonly uptimeSeconds: () => number;
}

export interface StatusRouteModules extends StatusSources {
  readonly allow: (ip: string) => boolean;
}

const tooMany = (reply: FastifyReply): FastifyReply =>
  reply.code(HTTP.TOO_MANY_REQUESTS).type("text/plain; charset=utf-8").send("Too Many Requests\n");

export function registerStatusRoutes(app: FastifyInstance, modules: StatusRouteModules): void {
  app.get("/", (req, reply) => {
    if (!modules.allow(req.ip)) return tooMany(reply);
    // The query (the page's ?refresh=) goes along; the target is always this node's own path.
    const query = req.url.indexOf("?");
    return reply.redirect(query === -1 ? "/status" : `/status${req.url.slice(query)}`, 302);
  });
  app.get("/status", (req, reply) => {
    if (!modules.allow(req.ip)) return tooMany(reply);
    return reply
      .header("content-security-policy", STATUS_PAGE_CSP)
      .header("x-content-type-options", "nosniff")
      .header("referrer-policy", "no-referrer")
      .header("cache-control", "no-store")
      .type("text/html; charset=utf-8")
      .send(STATUS_PAGE_HTML);
  });
  app.get("/status/v1", (req, reply) => {
    if (!modules.allow(req.ip)) return tooMany(reply);
    return reply.header("cache-control", "no-store").type("application/json").send(JSON.stringify(statusBody(modules)));
  });
}

type Json = Record<string, unknown>;

const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const obj = (v: unknown): Json => (typeof v === "object" && v !== null ? (v as Json) : {});

function networkName(id: number | null): string {
  const entry = Object.entries(NETWORK_IDS).find(([, v]) => v === id);
  return entry === undefined ? "unknown" : entry[0];
}

/** The body of GET /status/v1 (docs/configuration.md "Status page" lists its fields). */
export function statusBody(s: StatusSources): Json {
  const h = s.health();
  const networkId = num(h.networkId);
  const reasons = s.notReadyReasons();
  return {
    t: s.now(),
    node: {
      node_id: typeof h.nodeId === "string" ? h.nodeId : null,
      version: typeof h.version === "string" ? h.version : null,
      network: networkName(networkId),
      network_id: networkId,
      ready: reasons.length === 0,
      not_ready: [...reasons],
      uptime_s: Math.floor(s.uptimeSeconds()),
      tls_spki_sha256: typeof obj(h.tls).spkiSha256 === "string" ? obj(h.tls).spkiSha256 : null,
    },
    storage: {
      messages: num(h.messageCount),
      accounts: num(h.accountCount),
      used_bytes: num(h.usedBytes),
      limit_bytes: num(h.effectiveSizeLimitBytes) ?? num(h.sizeLimitBytes),
      configured_limit_bytes: num(h.sizeLimitBytes),
      disk_free_bytes: num(h.diskFreeBytes),
    },
    membership: obj(h.membership),
    swarm: swarmPart(s),
    proofs: proofsPart(s, obj(h.proofs)),
    fees: feesPart(s),
    network: s.networkHealth?.report() ?? null,
    ws: pick(obj(h.ws), ["connections", "subscriptions", "pushes", "drops"]),
    onion: h.onion === undefined ? null : pick(obj(h.onion), ["entered", "relayed", "final", "inFlightRelays"]),
  };
}

function pick(o: Json, keys: readonly string[]): Json {
  return Object.fromEntries(keys.map((k) => [k, num(o[k])]));
}

/**
 * Our swarm's members with what this node knows of each: its address (from the signed membership),
 * its newest StorageProof's time and figures, and our challenges' record against it (reachability:
 * a member that answers our challenges is reachable; one that fails in a row is not).
 */
function swarmPart(s: StatusSources): Json | null {
  const snapshot = s.membership?.snapshot ?? null;
  if (snapshot === null || snapshot.ourSwarm === null) return null;
  const ours = snapshot.ourSwarm;
  const self = s.membership?.ourNodeId ?? null;
  const health = s.proofs?.health ?? null;
  const members = snapshot.view
    .nodes()
    .filter((r) => snapshot.view.swarmOfNode(r.nodeId) === ours)
    .map((r) => {
      const e = health?.entries().find(([id]) => id === r.nodeId)?.[1] ?? null;
      const proof = r.nodeId === self ? (s.proofs?.latest ?? null) : (e?.latestProof ?? null);
      return {
        node_id: r.nodeId,
        host: r.host,
        port: r.port,
        self: r.nodeId === self,
        healthy: r.nodeId === self ? true : (health?.isHealthy(r.nodeId) ?? null),
        passes: e?.passes ?? 0,
        fails: e?.fails ?? 0,
        inconclusive: e?.inconclusive ?? 0,
        consecutive_failures: e?.consecutiveFailures ?? 0,
        last_outcome: e?.lastOutcome ?? null,
        last_at: e?.lastAt ?? null,
        proof_at: proof?.timestamp ?? null,
        proof_messages: proof?.messageCount ?? null,
      };
    });
  return {id: swarmIdToWire(ours), members};
}

function proofsPart(s: StatusSources, facts: Json): Json | null {
  const src = s.proofs;
  if (src === undefined) return null;
  const latest = src.latest;
  const recent = src.ledger.list(STATUS_RECENT_RESULTS, undefined, null);
  return {
    ready: facts.proofReady === true,
    commitment_build: facts.commitmentBuild ?? null,
    latest: latest === null ? null : {timestamp: latest.timestamp, message_count: latest.messageCount, used_bytes: latest.usedBytes, merkle_root: toHex(latest.merkleRoot)},
    recent: recent.map((r) => ({id: r.id, at: r.at, challenger_id: r.challengerId, target_id: r.targetId, outcome: r.outcome, reason: r.reason})),
  };
}

function feesPart(s: StatusSources): Json | null {
  if (s.fees === undefined) return null;
  const f = s.fees.schedule();
  return {multiplier: num(f.multiplier), utilization_pct: num(f.utilization_pct), storage_used: num(f.storage_used), storage_capacity: num(f.storage_capacity), load_origin: f.load_origin ?? null};
}
