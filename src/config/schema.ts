import {type Static, type TSchema, Type} from "@sinclair/typebox";
import {Value} from "@sinclair/typebox/value";

/**
 * The single source of truth for the node's configuration: one TypeBox schema with
 * `additionalProperties: false` and a `default` on every field. Defaults, the example config,
 * `--help`, env var names and `docs/configuration.md` are all derived from (or tested against) it.
 */

/** PIP-0007 network IDs (parsd `--network-id`): mainnet 7070, testnet 7071, devnet 7072. */
export const NETWORK_IDS = {mainnet: 7070, testnet: 7071, devnet: 7072} as const;
export type NetworkName = keyof typeof NETWORK_IDS;
export const NETWORK_NAMES = Object.keys(NETWORK_IDS) as NetworkName[];

/** Default HTTP port of the Pars storage RPC. */
export const DEFAULT_HTTP_PORT = 22025;
/** With `metrics.port` null the metrics listener takes the RPC port + this (22025 → 23025). */
export const METRICS_PORT_OFFSET = 1000;
/** Session's storage server rejects request bodies above 10 MiB. */
export const DEFAULT_BODY_LIMIT_BYTES = 10 * 1024 * 1024;
/** PIP-0008 SIZE_LIMIT: 10 GiB of message data per node. */
export const DEFAULT_STORAGE_SIZE_LIMIT_BYTES = 10 * 1024 ** 3;
/** 10 MiB over a 1 Mbit/s phone link takes ~90 s: the whole body must arrive within 120 s. */
export const DEFAULT_HTTP_REQUEST_TIMEOUT_MS = 120_000;
/** A phone on a bad link can pause for seconds, not for half a minute without sending one byte. */
export const DEFAULT_HTTP_BODY_IDLE_TIMEOUT_MS = 30_000;
/** Like the WebSocket endpoint's per-IP cap: several devices behind one NAT fit. */
export const DEFAULT_HTTP_MAX_CONNECTIONS_PER_IP = 32;
/** Twelve maximal (10 MiB) bodies arriving at once; many clients together cannot make the node hold more. */
export const DEFAULT_HTTP_BODY_BUDGET_BYTES = 128 * 1024 ** 2;
/**
 * The disk reserve: a file of this size next to the database, released on SQLITE_FULL so deletes
 * and expiry (whose WAL frames need room too) work on a full disk. ~2,000 deleted rows' frames.
 */
export const DEFAULT_STORAGE_DISK_RESERVE_BYTES = 8 * 1024 ** 2;
/** Space kept free on the filesystem beyond the reserve: the WAL's growth between checkpoints. */
export const DEFAULT_STORAGE_DISK_HEADROOM_BYTES = 8 * 1024 ** 2;
/** PIP-0008 / PIP-0900: 10,000-message rolling buffer per mailbox. */
export const DEFAULT_MAILBOX_MAX_MESSAGES = 10_000;
/** `setTimeout`/`setInterval` treat delays above 2^31-1 ms as 1 ms, so no interval may exceed it. */
export const TIMER_MAX_MS = 2_147_483_647;

/** Largest integer that survives a JSON/number round trip exactly. */
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** A certificate chain and its private key, PEM files (`~` expanded, relative to the cwd). */
const TlsFilesSchema = Type.Object(
  {
    cert: Type.String({minLength: 1, description: "PEM certificate (chain) file"}),
    key: Type.String({minLength: 1, description: "PEM private key file"}),
  },
  {additionalProperties: false},
);

/** `http.tls`: null (plain HTTP), "auto" (self-signed, kept in the data dir) or the operator's files. */
export const TlsSchema = Type.Union([Type.Null(), Type.Literal("auto"), TlsFilesSchema], {
  default: null,
  description:
    'HTTPS: null = plain HTTP; "auto" = a self-signed EC P-256 certificate made on first start and kept in ' +
    '<dataDir>/tls/; {"cert": FILE, "key": FILE} = PEM files. Clients pin the key via the node record',
});
export type TlsConfig = Static<typeof TlsSchema>;

const HttpSchema = Type.Object(
  {
    bind: Type.String({minLength: 1, default: "127.0.0.1", description: "Address the HTTP server binds to"}),
    port: Type.Integer({
      minimum: 0,
      maximum: 65535,
      default: DEFAULT_HTTP_PORT,
      description: "HTTP port of the storage RPC (0 = pick a free port)",
    }),
    bodyLimitBytes: Type.Integer({
      minimum: 1,
      maximum: MAX_SAFE,
      default: DEFAULT_BODY_LIMIT_BYTES,
      description: "Largest accepted request body in bytes (Session: 10 MiB)",
    }),
    requestTimeoutMs: Type.Integer({
      minimum: 1,
      maximum: TIMER_MAX_MS,
      default: DEFAULT_HTTP_REQUEST_TIMEOUT_MS,
      description: "Time a client has to send a whole request, body included (408 and close after it)",
    }),
    bodyIdleTimeoutMs: Type.Integer({
      minimum: 1,
      maximum: TIMER_MAX_MS,
      default: DEFAULT_HTTP_BODY_IDLE_TIMEOUT_MS,
      description: "Longest pause between two chunks of a request body (408 and close after it)",
    }),
    maxConnectionsPerIp: Type.Integer({
      minimum: 1,
      maximum: MAX_SAFE,
      default: DEFAULT_HTTP_MAX_CONNECTIONS_PER_IP,
      description: "Open HTTP connections (WebSocket ones included) per client IP; more are closed unanswered",
    }),
    bodyBudgetBytes: Type.Integer({
      minimum: 1,
      maximum: MAX_SAFE,
      default: DEFAULT_HTTP_BODY_BUDGET_BYTES,
      description: "Request-body bytes the node holds at once over all requests; past it requests get 503",
    }),
    tls: TlsSchema,
  },
  {additionalProperties: false, default: {}},
);

const StorageSchema = Type.Object(
  {
    sizeLimitBytes: Type.Integer({
      minimum: 1,
      maximum: MAX_SAFE,
      default: DEFAULT_STORAGE_SIZE_LIMIT_BYTES,
      description: "Total bytes of stored message data; beyond it new stores are refused",
    }),
    diskReserveBytes: Type.Integer({
      minimum: 0,
      maximum: MAX_SAFE,
      default: DEFAULT_STORAGE_DISK_RESERVE_BYTES,
      description: "Size of the disk reserve file, released on a full disk so deletes and expiry still work (0 = none)",
    }),
    diskHeadroomBytes: Type.Integer({
      minimum: 0,
      maximum: MAX_SAFE,
      default: DEFAULT_STORAGE_DISK_HEADROOM_BYTES,
      description: "Free disk space kept beyond the reserve; the size limit in force is at most what the disk can hold minus both",
    }),
    mailboxMaxMessages: Type.Integer({
      minimum: 1,
      maximum: MAX_SAFE,
      default: DEFAULT_MAILBOX_MAX_MESSAGES,
      description: "Most messages stored per mailbox (PIP-0008 rolling buffer)",
    }),
    synchronous: Type.Union([Type.Literal("normal"), Type.Literal("full")], {
      default: "normal",
      description: "SQLite `PRAGMA synchronous` in WAL mode (full = fsync on every commit)",
    }),
    sweepIntervalMs: Type.Integer({
      minimum: 1,
      maximum: TIMER_MAX_MS,
      // Session's CLEANUP_PERIOD.
      default: 10_000,
      description: "How often expired messages are swept, in milliseconds",
    }),
    sweepBatchSize: Type.Integer({
      minimum: 1,
      maximum: MAX_SAFE,
      // ~0.1 s of work at the measured ~18k deletes/s.
      default: 2000,
      description: "Most expired messages deleted per sweep transaction",
    }),
    commitDelayMs: Type.Number({
      minimum: 0,
      maximum: TIMER_MAX_MS,
      default: 0,
      description:
        "Longest the first write of a group commit waits for others before its transaction runs, in milliseconds (0: until the end of the event-loop turn)",
    }),
    writerThread: Type.Boolean({
      // Off by default: the quiet-machine A/B (docs/benchmarks.md) showed no throughput gain, and the
      // other tables' writes then wait on the writer's lock on the event loop.
      default: false,
      description:
        "Run the message store's writes (the group commit) on a worker thread with its own SQLite connection, off the event loop",
    }),
  },
  {additionalProperties: false, default: {}},
);

const CryptoSchema = Type.Object(
  {
    pqBackend: Type.Union([Type.Literal("auto"), Type.Literal("noble"), Type.Literal("liboqs")], {
      default: "auto",
      description:
        "Post-quantum backend: liboqs (WebAssembly, fast), noble (pure JS), " +
        "or auto (prefer liboqs, fall back to noble)",
    }),
  },
  {additionalProperties: false, default: {}},
);

const SigningSchema = Type.Object(
  {
    maxBatchDelayMs: Type.Number({
      minimum: 0,
      maximum: TIMER_MAX_MS,
      default: 2,
      description: "Longest a signing request waits to be batched with others, in milliseconds",
    }),
  },
  {additionalProperties: false, default: {}},
);

const RateLimitSchema = Type.Object(
  {
    enabled: Type.Boolean({default: true, description: "Per-client token-bucket rate limiting"}),
    capacity: Type.Integer({
      minimum: 1,
      maximum: MAX_SAFE,
      default: 600,
      description: "Token-bucket size: requests a client may burst",
    }),
    refillPerSecond: Type.Number({
      exclusiveMinimum: 0,
      maximum: MAX_SAFE,
      default: 300,
      description: "Tokens added to each client's bucket per second",
    }),
    maxClients: Type.Integer({
      minimum: 1,
      maximum: MAX_SAFE,
      default: 10_000,
      description: "Most clients whose token buckets are tracked at once",
    }),
  },
  {additionalProperties: false, default: {}},
);

const LogSchema = Type.Object(
  {
    level: Type.Union(
      [
        Type.Literal("trace"),
        Type.Literal("debug"),
        Type.Literal("info"),
        Type.Literal("warn"),
        Type.Literal("error"),
        Type.Literal("fatal"),
        Type.Literal("silent"),
      ],
      {default: "info", description: "Lowest log level written"},
    ),
    pretty: Type.Boolean({
      default: false,
      description: "Human-readable logs (needs pino-pretty installed; otherwise JSON lines)",
    }),
  },
  {additionalProperties: false, default: {}},
);

/** Registry poll interval (and membership-file stat interval) by default: 30 s. */
export const DEFAULT_MEMBERSHIP_POLL_INTERVAL_MS = 30_000;
/** Registry request deadline by default (connect, headers and body together): 10 s. */
export const DEFAULT_MEMBERSHIP_REQUEST_TIMEOUT_MS = 10_000;
/** Stake amounts: base units (10^-18 PARS) as a decimal string, no sign, no leading zeros, < 2^256. */
const AMOUNT_PATTERN = "^(0|[1-9][0-9]{0,77})$";

const SwarmSchema = Type.Object(
  {
    mode: Type.Union([Type.Literal("pip0008"), Type.Literal("balanced")], {
      default: "pip0008",
      description:
        "Node-to-swarm assignment: pip0008 (SHA-256 of the ML-DSA key mod the swarm count, as PIP-0008) " +
        "or balanced (same count, 3-5 nodes per swarm); every node of a network must use the same mode",
    }),
  },
  {additionalProperties: false, default: {}},
);

const MembershipSchema = Type.Object(
  {
    source: Type.Union([Type.Literal("none"), Type.Literal("static"), Type.Literal("registry")], {
      default: "none",
      description:
        "Where the list of nodes comes from: none (this node alone serves every account), " +
        "static (membership.file) or registry (membership.registryUrl)",
    }),
    file: Type.String({
      default: "",
      description:
        "Membership document for source static; watched and reloaded when it changes " +
        "(`~` is expanded, relative paths are resolved against the cwd)",
    }),
    registryUrl: Type.String({
      default: "",
      description: "http(s) URL serving the membership document, for source registry",
    }),
    pollIntervalMs: Type.Integer({
      minimum: 100,
      maximum: TIMER_MAX_MS,
      default: DEFAULT_MEMBERSHIP_POLL_INTERVAL_MS,
      description:
        "How often the registry is polled, and how often the membership file is checked " +
        "in addition to change notifications, in milliseconds",
    }),
    requestTimeoutMs: Type.Integer({
      minimum: 1,
      maximum: TIMER_MAX_MS,
      default: DEFAULT_MEMBERSHIP_REQUEST_TIMEOUT_MS,
      description: "Deadline of one registry request (connect, headers and body), in milliseconds",
    }),
  },
  {additionalProperties: false, default: {}},
);

const StakeShareSchema = Type.Object(
  {
    address: Type.String({minLength: 1, maxLength: 128}),
    amount: Type.String({pattern: AMOUNT_PATTERN}),
  },
  {additionalProperties: false},
);

const NodeSchema = Type.Object(
  {
    publicHost: Type.String({
      default: "",
      description: "IPv4 address or host name advertised in this node's record (empty = http.bind)",
    }),
    stake: Type.Object(
      {
        operator: Type.Object(
          {
            address: Type.String({
              maxLength: 128,
              default: "",
              description: "Operator's staking address, written into this node's record",
            }),
            amount: Type.String({
              pattern: AMOUNT_PATTERN,
              default: "0",
              description: "Operator's stake in base units (10^-18 PARS) as a decimal string",
            }),
          },
          {additionalProperties: false, default: {}},
        ),
        contributors: Type.Array(StakeShareSchema, {
          maxItems: 255,
          default: [],
          description: 'Other stakers as JSON: [{"address": "...", "amount": "<base units>"}, ...]',
        }),
      },
      {additionalProperties: false, default: {}},
    ),
  },
  {additionalProperties: false, default: {}},
);

/** Storage proofs (docs/PROTOCOL.md (Storage proofs)): one signed StorageProof every 10 minutes by default. */
export const DEFAULT_PROOF_EPOCH_MS = 600_000;

const ProofsSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: true,
      description: "Sign StorageProofs, answer storage challenges and challenge swarm peers",
    }),
    epochMs: Type.Integer({
      minimum: 1_000,
      maximum: TIMER_MAX_MS,
      default: DEFAULT_PROOF_EPOCH_MS,
      description: "Time between two StorageProofs (Merkle root refresh and signature), in milliseconds",
    }),
    keepProofs: Type.Integer({
      minimum: 1,
      maximum: 100_000,
      default: 144,
      description: "Signed StorageProofs kept (newest first)",
    }),
    answerDeadlineMs: Type.Integer({
      minimum: 100,
      maximum: TIMER_MAX_MS,
      default: 10_000,
      description: "A challenge answer arriving later than this counts as a failure, in milliseconds",
    }),
    maxProofAgeMs: Type.Integer({
      minimum: 1_000,
      maximum: MAX_SAFE,
      default: 2 * DEFAULT_PROOF_EPOCH_MS + 300_000,
      description: "Oldest StorageProof an answer may refer to, relative to the challenge, in milliseconds",
    }),
    challengeIntervalMs: Type.Integer({
      minimum: 0,
      maximum: TIMER_MAX_MS,
      default: 120_000,
      description: "Mean time between two challenges this node sends to random swarm peers (0 = none), in milliseconds",
    }),
    replicationDelayMs: Type.Integer({
      minimum: 0,
      maximum: TIMER_MAX_MS,
      default: 120_000,
      description: "Time peers get to replicate a message before a challenge for it may count as failed, in milliseconds",
    }),
    allowAuditors: Type.Boolean({
      default: true,
      description: "Answer challenges from keys outside the membership (pars-storage audit)",
    }),
    challengesPerSecond: Type.Number({
      exclusiveMinimum: 0,
      maximum: MAX_SAFE,
      default: 1,
      description: "Challenges answered per second per client IP, and per member node over the peer channel (bursts of 10)",
    }),
  },
  {additionalProperties: false, default: {}},
);

/**
 * The network view behind `GET /network/v1/health` and the network-wide scarcity multiplier
 * (docs/economics.md "Network view"): every node's newest StorageProof, polled.
 */
const NetworkViewSchema = Type.Object(
  {
    pollIntervalMs: Type.Integer({
      minimum: 100,
      maximum: TIMER_MAX_MS,
      default: 60_000,
      description: "How often (±10 %) the newest StorageProof of every membership node is fetched, in milliseconds",
    }),
    requestTimeoutMs: Type.Integer({
      minimum: 1,
      maximum: TIMER_MAX_MS,
      default: 5_000,
      description: "Deadline of one proof fetch (connect, headers and body), in milliseconds",
    }),
    concurrency: Type.Integer({
      minimum: 1,
      maximum: 64,
      default: 8,
      description: "Most proof fetches in flight at once",
    }),
    activeEpochs: Type.Integer({
      minimum: 1,
      maximum: 1_000,
      default: 3,
      description: "A node counts as active while its newest valid StorageProof is at most this many proof epochs (proofs.epochMs) old",
    }),
  },
  {additionalProperties: false, default: {}},
);

/** Replication (docs/PROTOCOL.md (Replication)): Session's 5 s fan-out and 2.11's retry back-off. */
const ReplicationSchema = Type.Object(
  {
    forwardTimeoutMs: Type.Integer({
      minimum: 1,
      maximum: TIMER_MAX_MS,
      default: 5_000,
      description: "How long the entry node waits for its swarm peers' entries before answering, in milliseconds",
    }),
    retryInitialMs: Type.Integer({
      minimum: 1,
      maximum: TIMER_MAX_MS,
      default: 1_000,
      description: "First delay of a persisted retry of a forward that did not reach a peer, in milliseconds",
    }),
    retryFactor: Type.Number({
      minimum: 1,
      maximum: 100,
      default: 1.75,
      description: "Each further retry of a forward waits this many times longer",
    }),
    retryMaxMs: Type.Integer({
      minimum: 1,
      maximum: TIMER_MAX_MS,
      default: 60_000,
      description: "Longest delay between two retries of a forward, in milliseconds",
    }),
    antiEntropyIntervalMs: Type.Integer({
      minimum: 100,
      maximum: TIMER_MAX_MS,
      default: 60_000,
      description: "Period (±10 %) of anti-entropy rounds with each swarm peer, in milliseconds",
    }),
    maxBatchMessages: Type.Integer({
      minimum: 1,
      maximum: 1_000,
      default: 500,
      description: "Most messages per replication push or fetch",
    }),
    maxBatchBytes: Type.Integer({
      minimum: 1_024,
      maximum: 4 * 1024 * 1024,
      default: 2 * 1024 * 1024,
      description: "Most message bytes per replication push or fetch",
    }),
    forwardBatchesInFlight: Type.Integer({
      minimum: 1,
      maximum: 16,
      // One: fewer, larger frames at a moderate rate (src/replication/rpc-batcher.ts).
      default: 1,
      description: "Most unanswered rpc_batch frames of forwarded requests per peer; forwards made meanwhile leave together in the next frame",
    }),
    forwardBatchHoldMs: Type.Integer({
      minimum: 0,
      maximum: 100,
      // 10: swarm CPU a store -15 to -25 % under load, +6-9 ms p99 at 500/s, +0.5 ms p50 at 100/s (docs/benchmarks.md, "Session 11: the replicated store").
      default: 10,
      description:
        "When forwarded requests wait for the next frame to a peer as it answers one, how long that frame's place is held so that more join them: larger, fewer frames for up to this much more latency; 0: none",
    }),
  },
  {additionalProperties: false, default: {}},
);

/**
 * The WebSocket endpoint (docs/PROTOCOL.md (WebSocket) §6). Only the node-wide outbound budget is
 * an operator setting; the per-connection limits are protocol constants (`defaultWsOptions`).
 */
const WsSchema = Type.Object(
  {
    queueBudgetBytes: Type.Integer({
      minimum: 1,
      maximum: MAX_SAFE,
      // Four connections at the per-connection queue cap (16 MiB): a few slow readers of large RPC
      // answers fit, while thousands of stalled subscribers cannot make the node hold more than this.
      default: 64 * 1024 * 1024,
      description:
        "Outbound WebSocket bytes the node holds for all connections together; at the limit the " +
        "connection with the largest queue is closed (1013)",
    }),
  },
  {additionalProperties: false, default: {}},
);

/**
 * Prometheus metrics (docs/operations-metrics.md). On by default on a loopback-only listener of
 * their own: scraping costs little, and nothing about the node is shown to the public port.
 */
const MetricsSchema = Type.Object(
  {
    enabled: Type.Boolean({default: true, description: "Serve Prometheus metrics (GET /metrics)"}),
    bind: Type.String({
      minLength: 1,
      default: "127.0.0.1",
      description: "Address of the metrics listener (0.0.0.0 for a Prometheus on another host or container)",
    }),
    port: Type.Union([Type.Null(), Type.Integer({minimum: 0, maximum: 65535})], {
      default: null,
      description:
        "Port of the metrics listener, separate from the public one (0 = pick a free port); null = http.port + 1000, " +
        "or a free port when http.port is 0",
    }),
    onPublicPort: Type.Boolean({
      default: false,
      description: "Also answer GET /metrics on the public HTTP port (anyone who reaches the node can read it)",
    }),
  },
  {additionalProperties: false, default: {}},
);

/** Onion requests (docs/PROTOCOL.md "Onion requests"): what a hop waits for and holds. */
const OnionSchema = Type.Object(
  {
    enabled: Type.Boolean({default: true, description: "Serve POST /onion_req/v2 (relay and final hop)"}),
    relayTimeoutMs: Type.Integer({
      minimum: 1,
      maximum: TIMER_MAX_MS,
      default: 30_000,
      description: "Longest a hop waits for the next hop's answer, or the final hop for its RPC (504 after; Session's 30 s)",
    }),
    maxConcurrentRelays: Type.Integer({
      minimum: 1,
      maximum: MAX_SAFE,
      default: 512,
      description: "Onion requests this node relays at once (waiting for the next hop); past it 503",
    }),
    maxResponseBytes: Type.Integer({
      minimum: 1024,
      // The peer client's own cap (src/peer/, 17 MiB) bounds every node-to-node answer.
      maximum: 17 * 1024 * 1024,
      default: 16 * 1024 * 1024,
      description: "Largest answer a relay reads back from the next hop; a larger one is cut and answered 502",
    }),
  },
  {additionalProperties: false, default: {}},
);

/** Reward epochs (docs/economics.md "Epochs"): 1 h, the fee ledger's default epoch. */
export const DEFAULT_REWARD_EPOCH_MS = 3_600_000;
/** PIP-0008 §2.3 `claimThreshold`: 1,000,000 PARS in base units. */
export const DEFAULT_CLAIM_THRESHOLD = "1000000000000000000000000";
/** PIP-0008 §2.3 `claimCycle`: 12 h. */
export const DEFAULT_CLAIM_CYCLE_MS = 43_200_000;

/** Reward accounting and claims (docs/PROTOCOL.md (Rewards)); every node of a network must agree on the epoch settings. */
const RewardsSchema = Type.Object(
  {
    enabled: Type.Boolean({
      default: true,
      description: "Publish epoch reports, compute reward balances and sign claims (only with a membership source)",
    }),
    epochMs: Type.Integer({
      minimum: 1_000,
      maximum: TIMER_MAX_MS,
      default: DEFAULT_REWARD_EPOCH_MS,
      description: "Length of a reward epoch, in milliseconds; the same on every node of the network",
    }),
    genesisMs: Type.Integer({
      minimum: 0,
      maximum: MAX_SAFE,
      default: 0,
      description: "Unix time (ms) at which reward epoch 0 starts; a multiple of epochMs, the same on every node",
    }),
    settleMs: Type.Integer({
      minimum: 0,
      maximum: TIMER_MAX_MS,
      default: 300_000,
      description: "Time after an epoch ends during which nodes collect each other's epoch reports before its rewards are final, in milliseconds",
    }),
    totalSupply: Type.String({
      pattern: AMOUNT_PATTERN,
      default: "0",
      description: "PARS supply at genesis in base units (10^-18 PARS); the inflation pool of an epoch is derived from it (0 = fees only)",
    }),
    claimThreshold: Type.String({
      pattern: AMOUNT_PATTERN,
      default: DEFAULT_CLAIM_THRESHOLD,
      description: "Most base units this node signs claims for per claim cycle, all addresses together (PIP-0008 §2.3)",
    }),
    claimCycleMs: Type.Integer({
      minimum: 1_000,
      maximum: MAX_SAFE,
      default: DEFAULT_CLAIM_CYCLE_MS,
      description: "Length of a claim cycle, aligned to the Unix epoch, in milliseconds (PIP-0008 §2.3)",
    }),
  },
  {additionalProperties: false, default: {}},
);

export const ParsStorageConfigSchema = Type.Object(
  {
    network: Type.Union([Type.Literal("mainnet"), Type.Literal("testnet"), Type.Literal("devnet")], {
      default: "mainnet",
      description: "Pars network to join; sets networkId",
    }),
    networkId: Type.Integer({
      default: NETWORK_IDS.mainnet,
      description: "PIP-0007 network ID (7070 mainnet, 7071 testnet, 7072 devnet); must agree with network",
    }),
    dataDir: Type.String({
      minLength: 1,
      default: "~/.pars",
      description: "Data directory (PIP-0007 layout); `~` is expanded, relative paths are resolved against the cwd",
    }),
    http: HttpSchema,
    storage: StorageSchema,
    crypto: CryptoSchema,
    signing: SigningSchema,
    rateLimit: RateLimitSchema,
    log: LogSchema,
    swarm: SwarmSchema,
    membership: MembershipSchema,
    node: NodeSchema,
    proofs: ProofsSchema,
    networkView: NetworkViewSchema,
    replication: ReplicationSchema,
    ws: WsSchema,
    onion: OnionSchema,
    rewards: RewardsSchema,
    metrics: MetricsSchema,
  },
  {additionalProperties: false},
);

export type ParsStorageConfig = Static<typeof ParsStorageConfigSchema>;

/** A fresh, mutable copy of the defaults, built from the schema's `default` annotations. */
export function defaultConfig(): ParsStorageConfig {
  return Value.Default(ParsStorageConfigSchema, {}) as ParsStorageConfig;
}

/**
 * The defaults, deeply frozen. A module whose options are also config settings takes its defaults
 * from here (`defaultReplicationOptions` is `CONFIG_DEFAULTS.replication`, …), so each default is
 * written once, in this schema; test/unit/config/module-defaults.test.ts ties every module default
 * to its setting.
 */
export const CONFIG_DEFAULTS: DeepReadonly<ParsStorageConfig> = deepFreeze(defaultConfig());

export type DeepReadonly<T> = T extends object ? {readonly [K in keyof T]: DeepReadonly<T[K]>} : T;

function deepFreeze<T>(value: T): DeepReadonly<T> {
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value as DeepReadonly<T>;
}

/** Type-erased view of the schema for code that walks it generically. */
export const CONFIG_SCHEMA: TSchema = ParsStorageConfigSchema;
