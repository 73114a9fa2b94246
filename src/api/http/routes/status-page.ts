/**
 * The status page served at GET /status: one HTML document with its CSS and script inline (no CDN,
 * no build step), which polls GET /status/v1 and draws small SVG charts from the samples it has
 * seen since it was opened. Data is only ever put in the page as text nodes and SVG attributes,
 * never as markup, so a host name from a membership record cannot inject anything.
 *
 * The CSP allows exactly this script and this style by their SHA-256 (computed below from the
 * same strings), fetches only to this origin, and nothing else.
 */
import {createHash} from "node:crypto";

const STYLE = `
:root{--bg:#0f1419;--fg:#e6e6e6;--dim:#8a939c;--ok:#3fb950;--bad:#f85149;--warn:#d29922;--card:#161b22;--line:#30363d;--accent:#58a6ff}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;background:var(--bg);color:var(--fg)}
header{padding:14px 20px;border-bottom:1px solid var(--line);display:flex;flex-wrap:wrap;gap:6px 18px;align-items:baseline}
h1{font-size:18px;margin:0}
h2{font-size:13px;margin:0 0 8px;color:var(--dim);text-transform:uppercase;letter-spacing:.05em}
main{display:grid;grid-template-columns:repeat(auto-fit,minmax(320px,1fr));gap:14px;padding:14px 20px}
section{background:var(--card);border:1px solid var(--line);border-radius:6px;padding:12px 14px;min-width:0}
section.wide{grid-column:1/-1}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;word-break:break-all}
.dim{color:var(--dim)}
.ok{color:var(--ok)}.bad{color:var(--bad)}.warn{color:var(--warn)}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0}
dt{color:var(--dim)}dd{margin:0}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:3px 8px 3px 0;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--dim);font-weight:normal}
svg{display:block;width:100%}
.big{font-size:22px}
#error{color:var(--bad)}
`;

// Plain ES2017 without template literals, so it sits in this TS string unchanged.
const SCRIPT = `
"use strict";
(function () {
  var params = new URLSearchParams(location.search);
  var every = Math.min(60000, Math.max(500, Number(params.get("refresh")) || 3000));
  var SAMPLES = 120;
  var history = {messages: [], used: []};
  var refreshes = 0;
  var SVGNS = "http://www.w3.org/2000/svg";

  function $(id) { return document.getElementById(id); }
  function text(id, value) { $(id).textContent = value === null || value === undefined ? "-" : String(value); }
  function cls(id, name) { $(id).className = name; }
  function el(tag, children, className) {
    var e = document.createElement(tag);
    if (className) e.className = className;
    (children || []).forEach(function (c) { e.appendChild(typeof c === "string" ? document.createTextNode(c) : c); });
    return e;
  }
  function bytes(n) {
    if (n === null || n === undefined) return "-";
    var units = ["B", "KiB", "MiB", "GiB", "TiB"];
    var i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (i === 0 ? String(n) : n.toFixed(n < 10 ? 2 : 1)) + " " + units[i];
  }
  function ago(ms, now) {
    if (ms === null || ms === undefined) return "never";
    var s = Math.max(0, Math.round((now - ms) / 1000));
    if (s < 120) return s + " s ago";
    if (s < 7200) return Math.round(s / 60) + " min ago";
    return Math.round(s / 3600) + " h ago";
  }
  function short(id) { return id ? id.slice(0, 12) + "…" : "-"; }
  function svg(tag, attrs) {
    var e = document.createElementNS(SVGNS, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    return e;
  }
  function spark(id, values) {
    var box = $(id);
    var w = 300, h = 48;
    var s = svg("svg", {viewBox: "0 0 " + w + " " + h, height: h, preserveAspectRatio: "none", role: "img"});
    var max = Math.max.apply(null, values.concat([1]));
    var min = Math.min.apply(null, values.concat([max]));
    var span = max - min || 1;
    var pts = values.map(function (v, i) {
      var x = values.length < 2 ? w : (i * w) / (values.length - 1);
      return x.toFixed(1) + "," + (h - 4 - ((v - min) / span) * (h - 8)).toFixed(1);
    });
    s.appendChild(svg("line", {x1: 0, y1: h - 1, x2: w, y2: h - 1, stroke: "#30363d", "vector-effect": "non-scaling-stroke"}));
    if (pts.length > 0) s.appendChild(svg("polyline", {points: pts.join(" "), fill: "none", stroke: "#58a6ff", "stroke-width": 2, "vector-effect": "non-scaling-stroke"}));
    box.replaceChildren(s);
  }
  function bar(id, used, limit) {
    var w = 300, h = 14;
    var frac = limit ? Math.min(1, used / limit) : 0;
    var colour = frac > 0.9 ? "#f85149" : frac > 0.7 ? "#d29922" : "#3fb950";
    var s = svg("svg", {viewBox: "0 0 " + w + " " + h, height: h, preserveAspectRatio: "none", role: "img"});
    s.appendChild(svg("rect", {x: 0, y: 0, width: w, height: h, rx: 3, fill: "#30363d"}));
    s.appendChild(svg("rect", {x: 0, y: 0, width: Math.max(frac > 0 ? 2 : 0, frac * w).toFixed(1), height: h, rx: 3, fill: colour}));
    $(id).replaceChildren(s);
  }
  function push(list, v) {
    if (typeof v !== "number") return;
    list.push(v);
    if (list.length > SAMPLES) list.shift();
  }

  function renderNode(d) {
    var n = d.node;
    text("node-id", n.node_id);
    text("network", n.network + " (" + n.network_id + ")");
    text("version", n.version);
    text("uptime", n.uptime_s + " s");
    text("ready", n.ready ? "ready" : "not ready: " + n.not_ready.join(", "));
    cls("ready", n.ready ? "ok" : "bad");
  }
  function renderStorage(d) {
    var s = d.storage;
    push(history.messages, s.messages);
    push(history.used, s.used_bytes);
    text("messages", s.messages);
    text("accounts", s.accounts);
    text("used", bytes(s.used_bytes) + " of " + bytes(s.limit_bytes) + (s.limit_bytes ? " (" + ((100 * s.used_bytes) / s.limit_bytes).toFixed(3) + " %)" : ""));
    text("disk-free", bytes(s.disk_free_bytes));
    bar("used-bar", s.used_bytes, s.limit_bytes);
    spark("messages-chart", history.messages);
    spark("used-chart", history.used);
  }
  function renderSwarm(d) {
    var body = $("members");
    if (d.swarm === null) {
      text("swarm-id", d.membership.source === "none" ? "none (membership.source = none: this node serves every account)" : "not loaded");
      body.replaceChildren();
      return;
    }
    text("swarm-id", d.swarm.id + " (" + d.swarm.members.length + " members)");
    body.replaceChildren.apply(body, d.swarm.members.map(function (m) {
      var heard = m.passes + m.fails + m.inconclusive > 0 || m.proof_at !== null;
      var state = m.self ? "this node" : m.healthy === false ? "failing" : m.healthy && heard ? "reachable" : "unknown";
      var row = el("tr", [
        el("td", [short(m.node_id)], "mono"),
        el("td", [m.host + ":" + m.port], "mono"),
        el("td", [state], state === "failing" ? "bad" : state === "unknown" ? "dim" : "ok"),
        el("td", [m.passes + " / " + m.fails + " / " + m.inconclusive]),
        el("td", [m.proof_at === null ? "none" : ago(m.proof_at, d.t) + " (" + m.proof_messages + " msgs)"]),
      ]);
      row.setAttribute("data-node-id", m.node_id);
      return row;
    }));
  }
  function renderProofs(d) {
    var p = d.proofs;
    var list = $("results");
    if (p === null) {
      text("proof-latest", "proofs disabled");
      list.replaceChildren();
      return;
    }
    text("proof-latest", p.latest === null ? (p.ready ? "none yet" : "commitment building") : ago(p.latest.timestamp, d.t) + ", " + p.latest.message_count + " messages");
    if (p.recent.length === 0) {
      list.replaceChildren(el("tr", [el("td", ["no challenges yet"], "dim")]));
      return;
    }
    list.replaceChildren.apply(list, p.recent.map(function (r) {
      return el("tr", [
        el("td", [ago(r.at, d.t)]),
        el("td", [short(r.challenger_id) + " → " + short(r.target_id)], "mono"),
        el("td", [r.outcome + (r.reason ? " (" + r.reason + ")" : "")], r.outcome === "pass" ? "ok" : r.outcome === "fail" ? "bad" : "warn"),
      ]);
    }));
  }
  function renderNetwork(d) {
    var f = d.fees, n = d.network;
    text("multiplier", f === null ? null : f.multiplier + "×");
    text("utilization", f === null ? null : f.utilization_pct + " %");
    if (n === null) {
      text("net-health", "not loaded");
      cls("net-health", "dim");
      return;
    }
    text("net-health", n.isHealthy ? "healthy" : "unhealthy");
    cls("net-health", n.isHealthy ? "ok" : "bad");
    text("net-nodes", n.activeNodes + " active of " + n.totalNodes);
    text("net-swarms", n.swarmCount + " (min size " + n.minSwarmSize + ", avg " + n.avgNodesPerSwarm + ")");
    text("net-replication", n.replicationOk ? "ok" : "below 3 nodes somewhere");
    text("ws", d.ws.connections + " connections, " + d.ws.subscriptions + " subscriptions");
  }

  function render(d) {
    renderNode(d);
    renderStorage(d);
    renderSwarm(d);
    renderProofs(d);
    renderNetwork(d);
    refreshes++;
    document.body.setAttribute("data-refreshes", String(refreshes));
    text("updated", new Date(d.t).toISOString().replace("T", " ").slice(0, 19) + " UTC");
    text("error", "");
  }

  function poll() {
    fetch("/status/v1", {cache: "no-store", headers: {accept: "application/json"}})
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(render)
      .catch(function (e) { text("error", "refresh failed: " + e.message); })
      .then(function () { setTimeout(poll, every); });
  }
  text("every", every / 1000 + " s");
  poll();
})();
`;

const BODY = `
<header>
  <h1>pars-storage</h1>
  <span class="mono" id="node-id">-</span>
  <span id="ready" class="dim">loading</span>
  <span class="dim">updated <span id="updated">-</span>, every <span id="every">-</span></span>
  <span id="error"></span>
</header>
<main>
  <section>
    <h2>Node</h2>
    <dl>
      <dt>network</dt><dd id="network">-</dd>
      <dt>version</dt><dd id="version">-</dd>
      <dt>uptime</dt><dd id="uptime">-</dd>
      <dt>swarm</dt><dd id="swarm-id">-</dd>
      <dt>WebSocket</dt><dd id="ws">-</dd>
    </dl>
  </section>
  <section>
    <h2>Storage</h2>
    <dl>
      <dt>messages</dt><dd class="big" id="messages">-</dd>
      <dt>accounts</dt><dd id="accounts">-</dd>
      <dt>used</dt><dd id="used">-</dd>
      <dt>disk free</dt><dd id="disk-free">-</dd>
    </dl>
    <div id="used-bar"></div>
  </section>
  <section>
    <h2>Messages (since this page opened)</h2>
    <div id="messages-chart"></div>
    <h2>Bytes used</h2>
    <div id="used-chart"></div>
  </section>
  <section>
    <h2>Network</h2>
    <dl>
      <dt>health</dt><dd id="net-health">-</dd>
      <dt>nodes</dt><dd id="net-nodes">-</dd>
      <dt>swarms</dt><dd id="net-swarms">-</dd>
      <dt>replication</dt><dd id="net-replication">-</dd>
      <dt>fee multiplier</dt><dd id="multiplier">-</dd>
      <dt>utilization</dt><dd id="utilization">-</dd>
    </dl>
  </section>
  <section class="wide">
    <h2>Swarm members</h2>
    <table>
      <thead><tr><th>node</th><th>address</th><th>state</th><th>our challenges pass / fail / inconclusive</th><th>latest storage proof</th></tr></thead>
      <tbody id="members"></tbody>
    </table>
  </section>
  <section class="wide">
    <h2>Storage proofs</h2>
    <p>latest own proof: <span id="proof-latest">-</span></p>
    <table><tbody id="results"></tbody></table>
  </section>
</main>
`;

const sha256 = (s: string): string => `'sha256-${createHash("sha256").update(s, "utf8").digest("base64")}'`;

export const STATUS_PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1">
<title>pars-storage status</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>${BODY}<script>${SCRIPT}</script>
</body>
</html>
`;

/** Only this page's own script and style run; it talks only to its own origin. */
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  `script-src ${sha256(SCRIPT)}`,
  `style-src ${sha256(STYLE)}`,
  "connect-src 'self'",
  "img-src data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");
