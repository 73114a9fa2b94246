/**
 * The RPC of one node in process, without HTTP (store-cpu, store-open, retrieve-cpu): a one-node
 * router and the node's request pipeline over the store and signer a bench hands in.
 */
import {RequestPipeline, RpcHandler} from "../src/rpc/index.js";
import type {RpcContext} from "../src/rpc/context.js";
import {SingleNodeRouter} from "../src/swarm/index.js";
import {systemClock} from "../src/util/index.js";

export interface SingleNodeRpc {
  readonly ctx: RpcContext;
  readonly router: SingleNodeRouter;
  /** A pipeline over `ctx` with `over` in place of its parts (another signer, a verifier on a worker). */
  pipeline(over?: Partial<RpcContext>): RequestPipeline;
}

export function singleNodeRpc(parts: Pick<RpcContext, "store" | "pq" | "signer" | "nodeId" | "logger">): SingleNodeRpc {
  const router = new SingleNodeRouter({node_id: parts.nodeId, pubkey_mldsa: "", pubkey_mlkem: "", ip: "127.0.0.1", port: "1", port_https: 1});
  const ctx: RpcContext = {
    ...parts,
    clock: systemClock,
    router,
    versions: {version: [2, 8, 0], hf: [19, 4], parsVersion: "bench"},
    opts: {defaultTtlMs: 86_400_000},
  };
  return {ctx, router, pipeline: (over = {}) => new RequestPipeline({rpc: new RpcHandler({...ctx, ...over}), router, limiter: null, logger: parts.logger})};
}
