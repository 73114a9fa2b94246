/**
 * `GET /network/v1/nodes`: the membership as this node sees it (docs/PROTOCOL.md Swarms §8): every
 * accepted node record with its swarm, the records that were dropped and why, and our own swarm.
 * Nodes of one network answer identically apart from `our_*` and `t`, which makes this the place to
 * check that they agree. The body is serialised once per membership update (it can be large:
 * ≈ 4.5 KB per node) and the route shares the RPC's per-IP rate limit.
 *
 * `GET /network/v1/health` (Swarms §9): PIP-0008 §4.1 NetworkHealth plus `isHealthy`, from the
 * network view (src/health/), which caches it; same rate limit, same 503 before the membership.
 * A node without a membership serves only the health route, as a network of one (lone-node.ts).
 *
 * `GET /network/v1/nodes/compact` (Swarms §8.1) is what a client needs to build paths and verify
 * receipts, nothing per-node-local: nodes of one network with the same document serve the same
 * bytes, so its ETag (a SHA-256 of them) revalidates against any node with If-None-Match → 304.
 */
import {createHash} from "node:crypto";
import {toBase64, toHex} from "../../../protocol/index.js";
import type {FastifyInstance, FastifyReply} from "fastify";
import {HTTP} from "../../../rpc/index.js";
import {NOT_READY_MEMBERSHIP_NOT_LOADED} from "../../../swarm/index.js";
import type {MembershipSnapshot} from "../../../swarm/index.js";
import {swarmIdToWire, tlsEntry} from "../../../swarm/index.js";
import type {NodeRecord} from "../../../swarm/index.js";
import type {NetworkHealthReport} from "../../../health/index.js";

/** The facts the route reads (MembershipService satisfies it). */
export interface NetworkMembership {
  readonly snapshot: MembershipSnapshot | null;
  readonly mode: string;
  readonly networkId: number;
  readonly ourNodeId: string;
}

/** What the health route reads (NetworkHealthService satisfies it). */
export interface NetworkHealthApi {
  /** Null until the membership is loaded. */
  report(): NetworkHealthReport | null;
}

export interface NetworkRouteModules {
  /** Serves GET /network/v1/nodes when given (nodes with a membership source). */
  readonly membership?: NetworkMembership;
  /** Serves GET /network/v1/health when given. */
  readonly health?: NetworkHealthApi;
  readonly now: () => number;
  /** Rate limit: false = answer 429. */
  readonly allow: (ip: string) => boolean;
}

const tooMany = (reply: FastifyReply): FastifyReply =>
  reply.code(HTTP.TOO_MANY_REQUESTS).type("text/plain; charset=utf-8").send("Too Many Requests\n");
const notLoaded = (reply: FastifyReply): FastifyReply =>
  reply.code(HTTP.SERVICE_UNAVAILABLE).type("text/plain; charset=utf-8").send(`Service node is not ready: ${NOT_READY_MEMBERSHIP_NOT_LOADED}\n`);

export function registerNetworkRoutes(app: FastifyInstance, modules: NetworkRouteModules): void {
  const {membership, health} = modules;
  if (membership !== undefined) registerNodes(app, membership, modules);
  if (health === undefined) return;
  app.get("/network/v1/health", (req, reply) => {
    if (!modules.allow(req.ip)) return tooMany(reply);
    const report = health.report();
    if (report === null) return notLoaded(reply);
    return reply.type("application/json").send(JSON.stringify(report));
  });
}

function registerNodes(app: FastifyInstance, membership: NetworkMembership, modules: NetworkRouteModules): void {
  registerCompactNodes(app, membership, modules);
  const cache = new WeakMap<MembershipSnapshot, string>();
  app.get("/network/v1/nodes", (req, reply) => {
    if (!modules.allow(req.ip)) return tooMany(reply);
    const snapshot = membership.snapshot;
    if (snapshot === null) return notLoaded(reply);
    let rest = cache.get(snapshot);
    if (rest === undefined) {
      rest = JSON.stringify(nodesBody(snapshot, membership)).slice(1);
      cache.set(snapshot, rest);
    }
    return reply.type("application/json").send(`{"t":${modules.now()},${rest}`);
  });
}

/** HTTP 304 (not in rpc's status table: no RPC answers it). */
const NOT_MODIFIED = 304;

interface CompactList {
  body: string;
  etag: string;
}

/** Whether an If-None-Match header value names `etag` (a list, weak forms and `*` included). */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(",").some((t) => {
    const tag = t.trim();
    return tag === "*" || tag === etag || tag === `W/${etag}`;
  });
}

function registerCompactNodes(app: FastifyInstance, membership: NetworkMembership, modules: NetworkRouteModules): void {
  const cache = new WeakMap<MembershipSnapshot, CompactList>();
  app.get("/network/v1/nodes/compact", (req, reply) => {
    if (!modules.allow(req.ip)) return tooMany(reply);
    const snapshot = membership.snapshot;
    if (snapshot === null) return notLoaded(reply);
    let list = cache.get(snapshot);
    if (list === undefined) {
      const body = JSON.stringify(compactNodesBody(snapshot, membership));
      list = {body, etag: `"${createHash("sha256").update(body).digest("base64url")}"`};
      cache.set(snapshot, list);
    }
    reply.header("etag", list.etag).header("cache-control", "no-cache");
    if (etagMatches(req.headers["if-none-match"], list.etag)) return reply.code(NOT_MODIFIED).send();
    return reply.type("application/json").send(list.body);
  });
}

/** The compact list: per node only what paths and receipt checks use (Swarms §8.1). */
export function compactNodesBody(snapshot: MembershipSnapshot, meta: Pick<NetworkMembership, "networkId" | "mode">): Record<string, unknown> {
  const {view} = snapshot;
  return {
    network_id: meta.networkId,
    mode: meta.mode,
    swarm_count: view.swarmCount,
    nodes: view.nodes().map((record) => nodeReachFields(record, view.swarmOfNode(record.nodeId))),
  };
}

/** The response body without `t`. */
export function nodesBody(snapshot: MembershipSnapshot, meta: NetworkMembership): Record<string, unknown> {
  const {view} = snapshot;
  return {
    network_id: meta.networkId,
    mode: meta.mode,
    swarm_count: view.swarmCount,
    empty_swarms: view.emptySwarmIds().map(swarmIdToWire),
    our_node_id: meta.ourNodeId,
    our_swarm: snapshot.ourSwarm === null ? null : swarmIdToWire(snapshot.ourSwarm),
    loaded_at: snapshot.loadedAtMs,
    nodes: view.nodes().map((record) => nodeEntry(record, view.swarmOfNode(record.nodeId))),
    rejected: snapshot.rejected.map((r) => ({index: r.index, node_id: r.nodeId, code: r.code, reason: r.reason})),
  };
}

/**
 * What a client needs to reach a node and check it, shared by the full and the compact list: its
 * address, swarm and keys, and (a TLS node) the pin without which it must not be reached.
 */
function nodeReachFields(record: NodeRecord, swarmId: bigint | null): Record<string, unknown> {
  return {
    node_id: record.nodeId,
    swarm: swarmId === null ? null : swarmIdToWire(swarmId),
    host: record.host,
    port: record.port,
    pubkey_mldsa: toBase64(record.mlDsaPublicKey),
    pubkey_mlkem: toBase64(record.mlKemPublicKey),
    ...(record.x25519PublicKey === undefined ? {} : {pubkey_x25519: toHex(record.x25519PublicKey)}),
    ...tlsEntry(record),
  };
}

function nodeEntry(record: NodeRecord, swarmId: bigint | null): Record<string, unknown> {
  const share = (s: {address: string; amount: bigint}): {address: string; amount: string} => ({
    address: s.address,
    amount: s.amount.toString(10),
  });
  return {
    ...nodeReachFields(record, swarmId),
    stake: {operator: share(record.stake.operator), contributors: record.stake.contributors.map(share)},
    total_stake: record.totalStake.toString(10),
    // The BLS key its claim signatures and penalty reports verify against (checked by its proof of possession).
    ...(record.blsPublicKey === undefined || record.blsProofOfPossession === undefined
      ? {}
      : {bls: {public_key: toHex(record.blsPublicKey), proof_of_possession: toHex(record.blsProofOfPossession)}}),
    version: [...record.version],
    timestamp: record.timestamp,
  };
}
