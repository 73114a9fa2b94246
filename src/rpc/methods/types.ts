import type {Origin} from "../../protocol/index.js";
import type {RpcResponse} from "../../protocol/index.js";
import type {RpcContext} from "../context.js";
import type {Params} from "../params.js";

/** One client RPC method: a parser with Session's error texts and a runner. */
export interface MethodDef<R> {
  /** Primary name first, then aliases. */
  names: readonly string[];
  parse(params: Params): R;
  run(ctx: RpcContext, req: R, origin: Origin, raw: Params): Promise<RpcResponse>;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyMethodDef = MethodDef<any>;

export function defineMethod<R>(def: MethodDef<R>): MethodDef<R> {
  return def;
}
