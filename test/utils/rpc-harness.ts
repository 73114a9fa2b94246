import type {RpcResponse} from "../../src/protocol/response.js";
import {initHashing} from "../../src/crypto/hash.js";
import type {PqBackend} from "../../src/crypto/interface.js";
import {generateIdentity, type NodeIdentity} from "../../src/crypto/identity.js";
import {loadPqBackend} from "../../src/crypto/pq/index.js";
import type {RpcContext} from "../../src/rpc/context.js";
import {RpcHandler} from "../../src/rpc/handler.js";
import {RequestPipeline, type RequestPipelineModules} from "../../src/rpc/pipeline.js";
import {SingleNodeRouter, type SwarmRouter} from "../../src/swarm/swarm-router.js";
import {InlineSigner} from "../../src/signer/context-signer.js";
import {ResponseSigner} from "../../src/receipts/response-signer.js";
import {SqliteMessageStore} from "../../src/storage/index.js";
import {defaultStorageOptions} from "../../src/storage/options.js";
import {ManualClock} from "../../src/util/clock.js";
import {silentLogger} from "./logger.js";
import {openTestStore} from "./store.js";

export {silentLogger as silent} from "./logger.js";

let pqPromise: Promise<PqBackend> | null = null;
let identityCache: NodeIdentity | null = null;

/** One PQ backend and node identity per test file (keygen is not free). */
export async function testPq(): Promise<PqBackend> {
  pqPromise ??= initHashing().then(() => loadPqBackend("noble"));
  return pqPromise;
}

export async function testIdentity(): Promise<NodeIdentity> {
  identityCache ??= generateIdentity(await testPq(), {mlDsa: new Uint8Array(32).fill(7), mlKem: new Uint8Array(64).fill(9)});
  return identityCache;
}

export interface RpcHarness {
  handler: RpcHandler;
  ctx: RpcContext;
  store: SqliteMessageStore;
  clock: ManualClock;
  identity: NodeIdentity;
  call(method: string, params: Record<string, unknown>): Promise<RpcResponse>;
  /** Calls and asserts a JSON body, returning it typed loosely. */
  json(method: string, params: Record<string, unknown>): Promise<{status: number; body: any}>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  router?: SwarmRouter;
  sizeLimitBytes?: number;
  mailboxMaxMessages?: number;
  nowMs?: number;
  /** storage.commitDelayMs (default 0: a turn's writes commit at its end). */
  commitDelayMs?: number;
  /** signing.maxBatchDelayMs (default 0: the receipts of one commit are signed together at once). */
  signingDelayMs?: number;
}

export async function rpcHarness(opts: HarnessOptions = {}): Promise<RpcHarness> {
  const pq = await testPq();
  const identity = await testIdentity();
  const clock = new ManualClock(opts.nowMs ?? Date.now());
  // The node's own TTL sweeper stays on here (on the manual clock), as in a running node.
  const store = await openTestStore(
    {
      sizeLimitBytes: opts.sizeLimitBytes,
      mailboxMaxMessages: opts.mailboxMaxMessages,
      sweepIntervalMs: defaultStorageOptions.sweepIntervalMs,
      commitDelayMs: opts.commitDelayMs,
    },
    {clock},
  );
  const signer = new ResponseSigner(
    {maxBatchDelayMs: opts.signingDelayMs ?? 0, maxBatchSize: 1024},
    {signer: new InlineSigner(pq, identity.mlDsa.secretKey), nodeId: identity.nodeId, clock},
  );
  const router =
    opts.router ??
    new SingleNodeRouter({node_id: identity.nodeId, pubkey_mldsa: "", pubkey_mlkem: "", ip: "127.0.0.1", port: "22025", port_https: 22025});
  const ctx: RpcContext = {
    store,
    clock,
    pq,
    router,
    signer,
    nodeId: identity.nodeId,
    logger: silentLogger,
    versions: {version: [2, 8, 0], hf: [19, 4], parsVersion: "test"},
    opts: {defaultTtlMs: 86_400_000},
  };
  const handler = new RpcHandler(ctx);
  const call = (method: string, params: Record<string, unknown>): Promise<RpcResponse> => handler.handle(method, params);
  return {
    handler,
    ctx,
    store,
    clock,
    identity,
    call,
    json: async (method, params) => call(method, params),
    close: async () => {
      await signer.close();
      await store.close();
    },
  };
}

/**
 * The node's request pipeline over the harness's handler and router, without a rate limit unless
 * `m.limiter` is given; `m` replaces any of its modules.
 */
export function harnessPipeline(h: RpcHarness, m: Partial<RequestPipelineModules> = {}): RequestPipeline {
  return new RequestPipeline({rpc: h.handler, router: h.ctx.router, limiter: null, logger: silentLogger, ...m});
}
