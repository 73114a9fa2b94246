import {InlineSigner, InlineVerifier, WorkerSigner, type ContextSigner} from "../signer/index.js";
import type {FastifyInstance} from "fastify";
import type {Logger} from "pino";
import {buildHttpApp, type MetricsServer} from "../api/http/index.js";
import {defaultWsOptions, registerWebSocket, type WsHandle} from "../api/ws/index.js";
import {dataPaths, type ParsStorageConfig} from "../config/index.js";
import {initHashing} from "../crypto/index.js";
import type {FeeService} from "../fees/index.js";
import {loadOrCreateNodeKeys, type BlsKeyPair, type NodeIdentity} from "../crypto/index.js";
import type {PqBackend} from "../crypto/index.js";
import {loadPqBackend} from "../crypto/index.js";
import type {NetworkHealthService} from "../health/index.js";
import {sealedProofEndpoint, type ProofService} from "../proofs/index.js";
import {DEFAULT_TTL_MS} from "../protocol/index.js";
import {RequestPipeline, RpcHandler} from "../rpc/index.js";
import type {SwarmMemberJson, SwarmRouter} from "../swarm/index.js";

import {defaultResponseSignerOptions, ResponseSigner} from "../receipts/index.js";
import type {SqliteMessageStore} from "../storage/index.js";
import type {Replicator, SealedProofApi} from "../replication/index.js";
import type {PeerClient} from "../peer/index.js";
import type {MembershipService} from "../swarm/index.js";
import {loadGc, RateLimiter, systemClock, type Clock} from "../util/index.js";
import {assembleFees} from "./assemble-fees.js";
import {assembleLoneNodeHealth, assembleNetworkHealth} from "./assemble-health.js";
import {assembleProofs} from "./assemble-proofs.js";
import {assembleRewards, type AssembledRewards} from "./assemble-rewards.js";
import {advertisedHost, buildRouting, memberAddressCheck, membershipHealth} from "./assemble-routing.js";
import {assembleStorage, type NodeTables} from "./assemble-storage.js";
import {loadNodeTls, type NodeTls} from "./tls.js";
import {buildOnion, type OnionParts} from "./assemble-onion.js";
import type {OnionCountersSnapshot} from "../onion-relay/index.js";
import type {NodeMetrics} from "../metrics/index.js";
import {countedSigner, countStoreEvents, createNodeMetrics, instrumentApp, listenMetrics, timedAnswers} from "./assemble-metrics.js";
import {metricSources} from "./metric-sources.js";
import {PARS_STORAGE_VERSION, SESSION_RPC_HF, SESSION_RPC_VERSION} from "./version.js";

export interface StorageNodeModules {
  logger: Logger;
  clock?: Clock;
}

interface Parts {
  config: ParsStorageConfig;
  logger: Logger;
  pq: PqBackend;
  identity: NodeIdentity;
  /** The BLS key of `staking/signer.key` (penalty reports, reward claims). */
  bls: BlsKeyPair;
  store: SqliteMessageStore;
  signer: ResponseSigner;
  mlDsaSigner: ContextSigner;
  router: SwarmRouter;
  membership: MembershipService | null;
  replication: Replicator | null;
  peers: PeerClient | null;
  proofs: ProofService | null;
  network: NetworkHealthService | null;
  fees: FeeService;
  rewards: AssembledRewards | null;
  app: FastifyInstance;
  ws: WsHandle;
  onion: OnionParts | null;
  httpUrl: string;
  tls: NodeTls | null;
  metricsServer: MetricsServer | null;
}

/**
 * The composition root: builds every module in dependency order in `init()` and tears them down
 * in reverse in `close()`. Nothing else wires modules together.
 */
export class StorageNode {
  private closing: Promise<void> | null = null;

  private constructor(private readonly parts: Parts) {}

  static async init(config: ParsStorageConfig, modules: StorageNodeModules): Promise<StorageNode> {
    const clock = modules.clock ?? systemClock;
    const log = modules.logger;
    const paths = dataPaths(config);
    await initHashing();
    const pq = await loadPqBackend(config.crypto.pqBackend, {
      onFallback: (reason) => log.warn({err: reason.message}, "post-quantum fallback to noble (pure JS, slower)"),
    });
    log.info({backend: pq.name}, "post-quantum backend loaded");
    const keys = await loadOrCreateNodeKeys({identityFile: paths.keyFile, signerKeyFile: paths.signerKeyFile}, pq);
    const {identity, created, upgraded, warnings} = keys;
    for (const w of warnings) log.warn({keyFile: paths.keyFile}, w);
    if (keys.migrated) {
      log.info({keyFile: paths.keyFile, signerKeyFile: paths.signerKeyFile}, "moved the node identity out of signer.key (older layout), node ID unchanged; signer.key now holds a new BLS key");
    }
    log.info({nodeId: identity.nodeId, keyFile: paths.keyFile, created}, created ? "generated node identity" : "loaded node identity");
    if (upgraded) log.info({keyFile: paths.keyFile}, "added the onion X25519 key to the key file (PQID v1 -> v2, node ID unchanged)");
    const bls = keys.bls;
    log.info({blsPublicKey: Buffer.from(bls.publicKey).toString("hex"), signerKeyFile: paths.signerKeyFile, created: keys.blsCreated}, "BLS signer key ready");
    const tls = await loadNodeTls(config);
    if (tls !== null) log.info({spkiSha256: tls.spkiSha256, createdKey: tls.createdKey}, "serving HTTPS; the node record must carry this TLS pin");

    const metrics = createNodeMetrics(config, identity.nodeId);
    const {store, tables} = await assembleStorage(config, paths.dbFile, {clock, logger: log, metrics: metrics?.metrics.store ?? null});
    try {
      return await StorageNode.start(config, {log, clock, pq, identity, bls, store, tables, tls, metrics});
    } catch (err) {
      await store.close();
      throw err;
    }
  }

  private static async start(
    config: ParsStorageConfig,
    m: {
      log: Logger;
      clock: Clock;
      pq: PqBackend;
      identity: NodeIdentity;
      bls: BlsKeyPair;
      store: SqliteMessageStore;
      tables: NodeTables;
      tls: NodeTls | null;
      metrics: NodeMetrics | null;
    },
  ): Promise<StorageNode> {
    const metrics = m.metrics?.metrics ?? null;
    const workerOrInline = await startSigner(m.pq, m.identity, m.log);
    const mlDsaSigner = countedSigner(workerOrInline, metrics?.signer ?? null);
    const signer = new ResponseSigner(
      {...defaultResponseSignerOptions, maxBatchDelayMs: config.signing.maxBatchDelayMs},
      {signer: mlDsaSigner, nodeId: m.identity.nodeId, clock: m.clock, metrics: metrics?.signer ?? null},
    );
    const self = selfEntry(config, m.identity, m.tls);
    const routingModules = {
      ...{identity: m.identity, pq: m.pq, clock: m.clock, logger: m.log, store: m.store, tables: m.tables, signer: mlDsaSigner},
      metrics: metrics?.replication ?? null,
    };
    const {router, membership, replication, peers} = buildRouting(config, routingModules, self);
    const {enabled: proofsOn, challengesPerSecond, ...proofOpts} = config.proofs;
    const proofs = proofsOn
      ? assembleProofs(proofOpts, {
          ...m,
          tables: m.tables.proofs,
          signer: mlDsaSigner,
          membership,
          peers,
          channel: replication?.transport ?? null,
          logger: m.log.child({module: "proofs"}),
          metrics: metrics?.proofs,
          penalties: {networkId: config.networkId, epochs: {epochMs: config.rewards.epochMs, genesisMs: config.rewards.genesisMs}, blsSecretKey: m.bls.secretKey, table: m.tables.penalties},
        })
      : null;
    // Answers are timed alike whether a challenge came over HTTP or the peer channel.
    const proofApi = proofs === null ? null : timedAnswers(proofs, metrics?.proofs ?? null);
    const network =
      membership === null || peers === null ? null : assembleNetworkHealth(config, {...m, membership, peers, proofs, logger: m.log.child({module: "network"})});
    const fees = assembleFees({clock: m.clock, store: m.store, ledger: m.tables.feeLedger, nodeId: m.identity.nodeId, membership, network, epochMs: config.rewards.epochMs});
    const rewards =
      membership === null || peers === null || !config.rewards.enabled
        ? null
        : assembleRewards(config, {...m, bls: m.bls, tables: m.tables.rewards, feeLedger: m.tables.feeLedger, fees, membership, peers, signer: mlDsaSigner, logger: m.log.child({module: "rewards"})});
    const rpc = new RpcHandler({
      fees,
      store: m.store,
      clock: m.clock,
      pq: m.pq,
      router,
      signer,
      nodeId: m.identity.nodeId,
      logger: m.log.child({module: "rpc"}),
      versions: {version: SESSION_RPC_VERSION, hf: SESSION_RPC_HF, parsVersion: PARS_STORAGE_VERSION},
      opts: {defaultTtlMs: DEFAULT_TTL_MS},
      // Request signatures on the signing worker (idle most of the time), not the event loop.
      ...(workerOrInline instanceof WorkerSigner ? {verifier: workerOrInline} : {}),
    });
    // One token bucket per IP for HTTP and WebSocket together, so neither door bypasses the other.
    const limiter = config.rateLimit.enabled ? new RateLimiter(config.rateLimit, () => m.clock.now()) : null;
    // Every client RPC, whatever carried it, enters here (rpc/pipeline.ts).
    const pipeline = new RequestPipeline({rpc, router, limiter, logger: m.log.child({module: "rpc"}), metrics: metrics?.rpc ?? null});
    const onion = buildOnion(config, {...m, signer: mlDsaSigner, membership, peers, pipeline, logger: m.log.child({module: "onion"}), metrics: metrics?.onion ?? null});
    const {bind: _bind, port: _port, tls: _tls, ...httpLimits} = config.http;
    const app = buildHttpApp(
      {
        ...httpLimits,
        https: m.tls,
        loopbackUncapped: true,
        rateLimit: config.rateLimit,
        serverName: `Pars Storage Server/${PARS_STORAGE_VERSION}`,
        rpcVersion: SESSION_RPC_VERSION.join("."),
      },
      {
        pipeline,
        logger: m.log.child({module: "http"}),
        now: () => m.clock.now(),
        // Peers keep pools of connections to this node; the per-IP cap is for clients.
        isMemberAddress: memberAddressCheck(membership),
        // Forced once a burst of request bodies is over (api/http/memory-release.ts).
        gc: loadGc(),
        health: () => ({
          nodeId: m.identity.nodeId,
          networkId: config.networkId,
          version: PARS_STORAGE_VERSION,
          // The pin the node's record must carry (an operator compares it with the published record).
          ...(m.tls === null ? {} : {tls: {spkiSha256: m.tls.spkiSha256}}),
          ...m.store.stats(),
          ...membershipHealth(config, membership),
          ...(proofs === null ? {} : {proofs: proofs.healthFacts()}),
          ws: ws.stats(),
          ...(onion === null ? {} : {onion: onion.relay.counters.snapshot()}),
        }),
        ...(membership === null ? {} : {network: membership}),
        // Without a membership the node is a network of one (PROTOCOL.md Swarms §9).
        networkHealth: network ?? assembleLoneNodeHealth(config, {nodeId: m.identity.nodeId, proofs, clock: m.clock}),
        economics: fees,
        ...(onion === null ? {} : {onion: onion.relay}),
        ...(replication === null ? {} : {peer: replication.endpoint(rpc, proofApi === null ? null : sealedProofs(config, proofApi, m.clock))}),
        ...(proofApi === null ? {} : {proofs: {api: proofApi, nodeId: m.identity.nodeId, challengesPerSecond}}),
        ...(rewards === null ? {} : {rewards: rewards.api}),
      },
    );
    const ws = registerWebSocket(app, {...defaultWsOptions, ...config.ws}, {
      pipeline,
      store: m.store,
      pq: m.pq,
      clock: m.clock,
      router,
      logger: m.log.child({module: "ws"}),
    });
    instrumentApp(config, m.metrics, app);
    m.metrics?.addSources(metricSources({store: m.store, ws, onion, replication, proofs, clock: m.clock}));
    countStoreEvents(m.store, m.metrics);
    const address = await app.listen({host: config.http.bind, port: config.http.port});
    const httpUrl = address.replace("[::1]", "127.0.0.1");
    // With port 0 the OS picked the port: advertise the real one.
    const port = new URL(httpUrl).port;
    self.port = port;
    self.port_https = Number(port);
    m.log.info({url: httpUrl, nodeId: m.identity.nodeId, networkId: config.networkId}, "listening");
    const metricsServer = await listenMetrics(config, m.metrics, m.log.child({module: "metrics"}));
    // After listen: until the first membership document arrives, the RPC answers 503 (not ready).
    replication?.start();
    membership?.start();
    proofs?.start();
    network?.start();
    rewards?.service.start();
    const {pq, identity, bls, store} = m;
    return new StorageNode({config, logger: m.log, pq, identity, bls, store, signer, mlDsaSigner, router, membership, replication, peers, proofs, network, fees, rewards, app, ws, onion, httpUrl, tls: m.tls, metricsServer});
  }

  get httpUrl(): string {
    return this.parts.httpUrl;
  }

  /** The TLS pin (SHA-256 of the certificate's SPKI, hex) when the node serves HTTPS; else null. */
  get tlsSpkiSha256(): string | null {
    return this.parts.tls?.spkiSha256 ?? null;
  }

  /** URL of the metrics listener's GET /metrics; null when metrics are off or it could not bind. */
  get metricsUrl(): string | null {
    return this.parts.metricsServer?.url ?? null;
  }

  get nodeId(): string {
    return this.parts.identity.nodeId;
  }

  get identity(): NodeIdentity {
    return this.parts.identity;
  }

  /** The node's BLS key pair (`staking/signer.key`, luxd's format): signs penalty reports and reward claims. */
  get bls(): BlsKeyPair {
    return this.parts.bls;
  }

  get store(): SqliteMessageStore {
    return this.parts.store;
  }

  get router(): SwarmRouter {
    return this.parts.router;
  }

  /** The membership service (its events feed replication); null with `membership.source = "none"`. */
  get membership(): MembershipService | null {
    return this.parts.membership;
  }

  /** Swarm replication (fan-out, retries, anti-entropy, relocation); null without a membership. */
  get replication(): Replicator | null {
    return this.parts.replication;
  }

  /** Storage proofs (StorageProofs, challenges, ledger); null with `proofs.enabled = false`. */
  get proofs(): ProofService | null {
    return this.parts.proofs;
  }

  /** Onion request counters (as in GET /health); null when onion requests are off. */
  onionCounters(): OnionCountersSnapshot | null {
    return this.parts.onion?.relay.counters.snapshot() ?? null;
  }

  /** Reward accounting and claims (/rewards/v1/*); null without a membership or with `rewards.enabled = false`. */
  get rewards(): AssembledRewards | null {
    return this.parts.rewards;
  }

  /** The network view (every node's newest StorageProof, /network/v1/health); null without a membership. */
  get network(): NetworkHealthService | null {
    return this.parts.network;
  }

  /**
   * Stops accepting requests, lets in-flight ones finish, signs what is pending, flushes the DB.
   * A step that fails (a write on a full disk) is logged and the rest still run, so the database
   * is always closed.
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      const {app, ws, membership, replication, peers, proofs, network, fees, rewards, signer, mlDsaSigner, store, logger, metricsServer} = this.parts;
      const steps: Array<[string, () => unknown]> = [
        ["metrics", () => metricsServer?.close()],
        ["http", () => app.close()],
        ["ws", () => ws.close()],
        ["rewards", () => rewards?.service.close()],
        ["network", () => network?.close()],
        ["replication", () => replication?.close()],
        ["proofs", () => proofs?.close()],
        ["peer client", () => peers?.close()],
        ["membership", () => membership?.close()],
        ["signer", () => signer.close()],
        ["signing worker", () => mlDsaSigner.close()],
        ["fees", () => fees.close()],
        ["store", () => store.close()],
      ];
      let failed = 0;
      for (const [name, step] of steps) {
        try {
          await step();
        } catch (err) {
          failed++;
          logger.error({step: name, err: err instanceof Error ? err.message : String(err)}, "shutdown step failed");
        }
      }
      logger.info({failedSteps: failed}, "closed");
    })();
    return this.closing;
  }
}

/** ML-DSA signing on a worker thread; on the main thread if the worker cannot run. */
async function startSigner(pq: PqBackend, identity: NodeIdentity, log: Logger): Promise<ContextSigner> {
  const fallback = new InlineSigner(pq, identity.mlDsa.secretKey);
  try {
    return await WorkerSigner.start(identity.mlDsa.secretKey, {useLiboqs: pq.name === "liboqs"}, {
      fallback,
      fallbackVerifier: new InlineVerifier(pq),
      onWorkerFailure: (err) => log.error({err: err.message}, "signing worker failed; signing on the main thread"),
    });
  } catch (err) {
    log.warn({err: err instanceof Error ? err.message : String(err)}, "signing worker unavailable; signing on the main thread");
    return fallback;
  }
}

function selfEntry(config: ParsStorageConfig, identity: NodeIdentity, tls: NodeTls | null): SwarmMemberJson {
  return {
    node_id: identity.nodeId,
    pubkey_mldsa: Buffer.from(identity.mlDsa.publicKey).toString("base64"),
    pubkey_mlkem: Buffer.from(identity.mlKem.publicKey).toString("base64"),
    ...(identity.x25519 === undefined ? {} : {pubkey_x25519: Buffer.from(identity.x25519.publicKey).toString("hex")}),
    ...(tls === null ? {} : {tls: {spki_sha256: tls.spkiSha256}}),
    ip: advertisedHost(config),
    port: String(config.http.port),
    port_https: config.http.port,
  };
}

/**
 * The storage-proof side of the peer channel, with the HTTP challenge route's rate limit
 * (`proofs.challengesPerSecond`, bursts of 10, app.ts) per member node ID instead of per IP.
 */
function sealedProofs(config: ParsStorageConfig, api: ProofService, clock: Clock): SealedProofApi {
  const {enabled, maxClients} = config.rateLimit;
  const limiter = new RateLimiter({capacity: 10, refillPerSecond: config.proofs.challengesPerSecond, maxClients}, () => clock.now());
  return sealedProofEndpoint(api, (peer) => !enabled || limiter.take(peer));
}
