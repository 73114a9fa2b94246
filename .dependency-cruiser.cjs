/**
 * Import rules checked by `npm run lint` (docs/ARCHITECTURE.md "Layers"). Units are the folders of
 * src/ (src/api/<transport>/ each count as one); a unit may import only units below it in LAYERS,
 * which keeps the folder graph acyclic, and only through the target's index.ts.
 */
const LAYERS = [
  "util", "metrics", "protocol", "config", "crypto", "onion", "client", "economics",
  "storage", "signer", "receipts", "swarm", "peer",
  "fees", "proofs", "replication", "health", "rewards",
  "rpc", "onion-relay", "api/http", "api/ws", "node", "cli", "index.ts",
];
const esc = (s) => s.replace(/[.]/g, "\\.");
const unitPath = (u) => (u.endsWith(".ts") ? `^src/${esc(u)}$` : `^src/${esc(u)}/`);

const layerRules = LAYERS.slice(0, -1).map((unit, i) => ({
  name: `layer-${unit.replace(/[/.]/g, "-")}`,
  comment: `${unit} may only import units below it: ${LAYERS.slice(0, i).join(", ") || "none"}`,
  severity: "error",
  from: {path: unitPath(unit)},
  to: {path: LAYERS.slice(i + 1).map(unitPath)},
}));

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: "client-stays-small",
      comment: "the client library (pars-storage/client) loads no server code: only util, protocol, crypto, onion",
      severity: "error",
      from: {path: "^src/client/"},
      to: {path: "^src/", pathNot: ["^src/(client|util|protocol|crypto|onion)/"]},
    },
    {
      name: "client-no-server-packages",
      comment: "the client library never imports the node's server packages",
      severity: "error",
      from: {path: "^src/client/"},
      to: {path: "node_modules/(fastify|@fastify|better-sqlite3|pino)/"},
    },
    {
      name: "enter-through-index",
      comment: "import another unit through its index.ts, not its internals",
      severity: "error",
      from: {path: "^src/(api/[^/]+|[^/]+)/", pathNot: "^src/proofs/"},
      to: {path: "^src/(api/[^/]+|[^/]+)/", pathNot: ["^src/$1/", "^src/(api/[^/]+|[^/]+)/index\\.ts$"]},
    },
    {
      name: "enter-through-index-proofs",
      comment:
        "as enter-through-index; but the modules the commitment worker loads may take these leaf modules directly: " +
        "through the barrels its isolate loaded ~400 modules (~8 MB of heap; docs/benchmarks.md, Session 10: memory at 1 M)",
      severity: "error",
      from: {path: "^src/(proofs)/"},
      to: {
        path: "^src/(api/[^/]+|[^/]+)/",
        pathNot: [
          "^src/$1/",
          "^src/(api/[^/]+|[^/]+)/index\\.ts$",
          "^src/(crypto/(merkle|hash|contexts|interface|identity)|protocol/(identity|encoding)|swarm/encoding|storage/commitment-(reader|store)|util/(gc|errors))\\.ts$",
        ],
      },
    },
    {name: "no-circular", severity: "error", from: {path: "^src/"}, to: {circular: true, dependencyTypesNot: ["type-only"]}},
    {name: "not-to-unresolvable", severity: "error", from: {}, to: {couldNotResolve: true}},
  ],
  options: {
    tsConfig: {fileName: "tsconfig.json"},
    doNotFollow: {path: "node_modules"},
    tsPreCompilationDeps: true,
    exclude: {path: "^(test|bench|dist)/"},
  },
};
