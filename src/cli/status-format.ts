/**
 * Terminal forms of a node's `GET /status/v1` summary (api/http/routes/status.ts): the facts of one
 * node as labelled lines, and one table row per node of a devnet. Pure: the command fetches.
 */

/** The parts of GET /status/v1 printed here (every field may be null on an older or lone node). */
export interface StatusSummary {
  t: number;
  node: {
    node_id: string | null;
    version: string | null;
    network: string;
    network_id: number | null;
    ready: boolean;
    not_ready: string[];
    uptime_s: number;
    /** Absent from nodes before it was added. */
    tls_spki_sha256?: string | null;
  };
  storage: {messages: number | null; accounts: number | null; used_bytes: number | null; limit_bytes: number | null; disk_free_bytes: number | null};
  membership: {source?: string};
  swarm: {id: string; members: StatusMember[]} | null;
  proofs: {
    ready: boolean;
    latest: {timestamp: number; message_count: number} | null;
    recent: Array<{outcome: string}>;
  } | null;
  fees: {multiplier: number | null; utilization_pct: number | null} | null;
  network: {isHealthy: boolean; activeNodes: number; totalNodes: number; swarmCount: number; minSwarmSize: number; replicationOk: boolean} | null;
  ws: {connections: number | null; subscriptions: number | null};
}

export interface StatusMember {
  node_id: string;
  host: string;
  port: number;
  self: boolean;
  healthy: boolean | null;
  passes: number;
  fails: number;
  inconclusive: number;
  proof_at: number | null;
  proof_messages: number | null;
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

export function formatBytes(n: number | null): string {
  if (n === null) return "-";
  let v = n;
  let i = 0;
  while (v >= 1024 && i < UNITS.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(v < 10 ? 2 : 1)} ${UNITS[i]}`;
}

/** `12 s ago`, `3 min ago`, `2 h ago`; `never` for null. */
export function formatAgo(atMs: number | null, nowMs: number): string {
  if (atMs === null) return "never";
  const s = Math.max(0, Math.round((nowMs - atMs) / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

const short = (id: string | null): string => (id === null ? "-" : id.slice(0, 12));
const orDash = (v: number | string | null | undefined): string => (v === null || v === undefined ? "-" : String(v));

function percent(used: number | null, limit: number | null): string {
  if (used === null || limit === null || limit <= 0) return "";
  return ` (${((100 * used) / limit).toFixed(2)} %)`;
}

/**
 * A member's state as this node sees it: failing once our challenges to it fail in a row (proofs'
 * peer health), reachable once it answered a challenge or its StorageProof reached us, else unknown.
 */
export function memberState(m: StatusMember): string {
  if (m.self) return "this node";
  if (m.healthy === false) return "failing";
  const heard = m.passes + m.fails + m.inconclusive > 0 || m.proof_at !== null;
  return m.healthy === true && heard ? "reachable" : "unknown";
}

/** The facts of one node, one labelled line each (members indented under `swarm`). */
export function formatStatus(s: StatusSummary): string[] {
  const n = s.node;
  const st = s.storage;
  const lines = [
    `node       ${orDash(n.node_id)}`,
    `network    ${n.network} (${orDash(n.network_id)}), version ${orDash(n.version)}, up ${n.uptime_s} s`,
    `state      ${n.ready ? "ready" : `not ready: ${n.not_ready.join(", ")}`}`,
    ...(typeof n.tls_spki_sha256 === "string" ? [`tls pin    ${n.tls_spki_sha256}`] : []),
    `storage    ${orDash(st.messages)} messages, ${orDash(st.accounts)} accounts, ${formatBytes(st.used_bytes)} of ${formatBytes(st.limit_bytes)}${percent(st.used_bytes, st.limit_bytes)}, disk free ${formatBytes(st.disk_free_bytes)}`,
    ...swarmLines(s),
    `proofs     ${proofLine(s)}`,
    `fees       ${s.fees === null ? "-" : `multiplier ${orDash(s.fees.multiplier)}, utilization ${orDash(s.fees.utilization_pct)} %`}`,
    `network    ${networkLine(s)}`,
    `websocket  ${orDash(s.ws.connections)} connections, ${orDash(s.ws.subscriptions)} subscriptions`,
  ];
  return lines;
}

function swarmLines(s: StatusSummary): string[] {
  if (s.swarm === null) return [`swarm      ${s.membership.source === "none" ? "none (membership.source = none: serves every account)" : "not loaded"}`];
  const rows = s.swarm.members.map((m) => [
    `  ${short(m.node_id)}`,
    `${m.host}:${m.port}`,
    memberState(m),
    m.self ? "" : `challenges ${m.passes} pass / ${m.fails} fail / ${m.inconclusive} inconclusive`,
    m.proof_at === null ? "no proof seen" : `proof ${formatAgo(m.proof_at, s.t)} (${orDash(m.proof_messages)} messages)`,
  ]);
  return [`swarm      ${s.swarm.id}, ${s.swarm.members.length} members`, ...alignColumns(rows)];
}

function proofLine(s: StatusSummary): string {
  const p = s.proofs;
  if (p === null) return "disabled";
  const latest = p.latest === null ? (p.ready ? "no proof yet" : "commitment building") : `latest ${formatAgo(p.latest.timestamp, s.t)}, ${p.latest.message_count} messages`;
  const count = (o: string): number => p.recent.filter((r) => r.outcome === o).length;
  return `${latest}; last ${p.recent.length} results: ${count("pass")} pass, ${count("fail")} fail, ${count("inconclusive")} inconclusive`;
}

function networkLine(s: StatusSummary): string {
  const h = s.network;
  if (h === null) return "not loaded";
  return `${h.isHealthy ? "healthy" : "unhealthy"}: ${h.activeNodes} of ${h.totalNodes} nodes active, ${h.swarmCount} swarm(s) (smallest ${h.minSwarmSize}), replication ${h.replicationOk ? "ok" : "below 3 nodes somewhere"}`;
}

/** One node of a devnet: its name and URL, the devnet's view of its process, and its summary or why there is none. */
export interface DevnetStatusRow {
  name: string;
  url: string;
  /** The devnet supervisor's state (`running`, `stopped`, …), or null when no devnet process runs. */
  process: string | null;
  summary: StatusSummary | null;
  error: string | null;
}

export const DEVNET_TABLE_HEADER = ["NODE", "URL", "PROCESS", "NODE ID", "STATE", "SWARM", "MSGS", "USED", "PEERS OK", "PROOF", "NETWORK"];

/** The devnet table: a header and one aligned row per node. */
export function formatDevnetTable(rows: readonly DevnetStatusRow[]): string[] {
  return alignColumns([DEVNET_TABLE_HEADER, ...rows.map(devnetRow)]);
}

function devnetRow(r: DevnetStatusRow): string[] {
  const head = [r.name, r.url, r.process ?? "-"];
  const s = r.summary;
  if (s === null) return [...head, "-", `unreachable: ${r.error ?? "no answer"}`];
  const peers = s.swarm?.members.filter((m) => !m.self) ?? [];
  const ok = peers.filter((m) => memberState(m) === "reachable").length;
  return [
    ...head,
    short(s.node.node_id),
    s.node.ready ? "ready" : `not ready (${s.node.not_ready.join(", ")})`,
    s.swarm?.id ?? "-",
    orDash(s.storage.messages),
    formatBytes(s.storage.used_bytes),
    s.swarm === null ? "-" : `${ok}/${peers.length}`,
    s.proofs?.latest ? formatAgo(s.proofs.latest.timestamp, s.t) : "-",
    s.network === null ? "-" : `${s.network.isHealthy ? "healthy" : "unhealthy"} ${s.network.activeNodes}/${s.network.totalNodes}`,
  ];
}

/**
 * Pads each cell but a row's last to its column's widest, two spaces apart. A row's last cell
 * counts for no width, so a short row's long last cell (an unreachable node's error) runs on.
 */
export function alignColumns(rows: readonly (readonly string[])[]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.slice(0, -1).forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) =>
    row
      .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd(),
  );
}
