import type {Origin} from "../protocol/index.js";
import type {RpcResponse} from "../protocol/index.js";
import type {RpcContext} from "./context.js";
import {BATCH_REQUEST_MAX, PARAMS_NESTING_MAX} from "../protocol/index.js";
import {HTTP, ParseError, RpcError} from "./errors.js";
import {methodTable, RECURSIVE_METHOD_NAMES} from "./methods/index.js";
import type {AnyMethodDef} from "./methods/types.js";
import {loadFields, nestedDeeperThan, type Params} from "./params.js";

/** A parsed request ready to run: a plain method or a meta request holding parsed sub-requests. */
type Parsed =
  | {kind: "method"; def: AnyMethodDef; req: unknown; raw: Params; name: string}
  | {kind: "batch" | "sequence"; subs: Parsed[]}
  | {kind: "ifelse"; cond: IfCondition; then?: Parsed; else?: Parsed};

interface IfCondition {
  hfAtLeast?: number[];
  hfBefore?: number[];
  vAtLeast?: number[];
  vBefore?: number[];
  heightAtLeast?: number;
  heightBefore?: number;
}

const META = new Set(["batch", "sequence", "ifelse"]);
/** Every method name the handler answers (the bounded values of the metrics' `method` label). */
export const RPC_METHOD_NAMES: ReadonlySet<string> = new Set([...methodTable().keys(), ...META]);
const isObject = (v: unknown): v is Params => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The client RPC dispatcher, independent of transport: requests reach it through the
 * RequestPipeline (pipeline.ts: HTTP, WebSocket frames, onion requests), from swarm peers, and as
 * sub-requests. Errors follow Session: parse errors → 400 "invalid request: …",
 * unknown method → 400 "no method X", unexpected exceptions → 500 "request failed".
 */
export class RpcHandler {
  private readonly methods = methodTable();

  constructor(private readonly ctx: RpcContext) {}

  /** Runs one method. `origin.recurse` is false for requests forwarded by a swarm peer. */
  async handle(method: string, params: Params, origin: Origin = {recurse: true}): Promise<RpcResponse> {
    if (!this.methods.has(method) && !META.has(method)) return {status: HTTP.BAD_REQUEST, body: `no method ${method}`};
    if (!origin.recurse && !RECURSIVE_METHOD_NAMES.has(method)) {
      return {status: HTTP.BAD_REQUEST, body: "invalid request: received invalid forwarded non-forwardable request"};
    }
    // Before anything walks the params recursively (parsing nested ifelse, forwarding, answering).
    if (nestedDeeperThan(params, PARAMS_NESTING_MAX)) {
      return {status: HTTP.BAD_REQUEST, body: `invalid request: params nested more than ${PARAMS_NESTING_MAX} levels deep`};
    }
    try {
      return await this.run(this.parse(method, params), origin);
    } catch (err) {
      return this.errorResponse(method, err);
    }
  }

  private errorResponse(method: string, err: unknown): RpcResponse {
    if (err instanceof ParseError) return {status: HTTP.BAD_REQUEST, body: `invalid request: ${err.message}`};
    if (err instanceof RpcError) return {status: err.status, body: err.body};
    this.ctx.logger.error({method, err: err instanceof Error ? err.stack : String(err)}, "client request raised an exception");
    return {status: HTTP.INTERNAL_SERVER_ERROR, body: "request failed"};
  }

  private parse(method: string, params: Params): Parsed {
    if (method === "batch" || method === "sequence") return {kind: method, subs: this.parseBatch(params)};
    if (method === "ifelse") return this.parseIfElse(params);
    const def = this.methods.get(method) as AnyMethodDef;
    return {kind: "method", def, req: def.parse(params) as unknown, raw: params, name: method};
  }

  private parseBatch(params: Params): Parsed[] {
    const reqs = params.requests;
    if (!Array.isArray(reqs) || reqs.length === 0) throw new ParseError('Invalid batch request: no valid "requests" field');
    if (reqs.length > BATCH_REQUEST_MAX) throw new ParseError("Invalid batch request: subrequest limit exceeded");
    return reqs.map((r: unknown) => {
      if (!isObject(r)) throw new ParseError("Invalid batch request: requests must be objects");
      if (typeof r.method !== "string" || !isObject(r.params)) {
        throw new ParseError("Invalid batch request: subrequests must have method/params keys");
      }
      if (!this.methods.has(r.method) && !META.has(r.method)) {
        throw new ParseError(`Invalid batch subrequest: invalid method "${r.method}"`);
      }
      const parsed = this.parse(r.method, r.params);
      if (parsed.kind !== "method") throw new ParseError("Invalid batch subrequest: subrequests may not contain meta-requests");
      return parsed;
    });
  }

  private parseIfElse(params: Params): Parsed {
    if (!isObject(params.if)) throw new ParseError('Invalid ifelse request: no valid "if" field');
    const cond = parseCondition(params.if);
    const branch = (key: "then" | "else"): Parsed | undefined => {
      const b = params[key];
      if (b === undefined) return undefined;
      if (!isObject(b)) throw new ParseError(`Invalid ifelse request: ${key} must be an object`);
      if (typeof b.method !== "string" || b.params === undefined) {
        throw new ParseError(`Invalid ifelse request: ${key} must have method/params keys`);
      }
      // Session names the branch, not the method, in this message; kept as is.
      if (!this.methods.has(b.method) && !META.has(b.method)) throw new ParseError(`Invalid ifelse request method "${key}"`);
      return this.parse(b.method, isObject(b.params) ? b.params : {});
    };
    const thenBranch = branch("then");
    const elseBranch = branch("else");
    if (thenBranch === undefined && elseBranch === undefined) {
      throw new ParseError('Invalid ifelse request: at least one of "then"/"else" required');
    }
    return {kind: "ifelse", cond, then: thenBranch, else: elseBranch};
  }

  private async run(p: Parsed, origin: Origin): Promise<RpcResponse> {
    switch (p.kind) {
      case "method":
        return p.def.run(this.ctx, p.req, origin, p.raw);
      case "batch": {
        const results = await Promise.all(p.subs.map((s) => this.runSub(s)));
        return {status: HTTP.OK, body: {results}};
      }
      case "sequence":
        return {status: HTTP.OK, body: {results: await this.runSequence(p.subs)}};
      case "ifelse":
        return this.runIfElse(p);
    }
  }

  private async runSub(p: Parsed): Promise<{code: number; body: unknown}> {
    let res: RpcResponse;
    try {
      res = await this.run(p, {recurse: true});
    } catch (err) {
      res = this.errorResponse(p.kind === "method" ? p.name : p.kind, err);
    }
    return {code: res.status, body: res.body};
  }

  private async runSequence(subs: Parsed[]): Promise<Array<{code: number; body: unknown}>> {
    const results: Array<{code: number; body: unknown}> = [];
    for (const s of subs) {
      const r = await this.runSub(s);
      results.push(r);
      if (r.code < 200 || r.code > 299) break;
    }
    return results;
  }

  private async runIfElse(p: Extract<Parsed, {kind: "ifelse"}>): Promise<RpcResponse> {
    const {hf, version} = this.ctx.versions;
    const height = 0; // No chain height here: the registry replaces oxend's block height.
    const condition = evaluate(p.cond, hf, version, height);
    const body: Record<string, unknown> = {hf, v: version, height, condition};
    const branch = condition ? p.then : p.else;
    if (branch !== undefined) body.result = await this.runSub(branch);
    return {status: HTTP.OK, body};
  }
}

/** Missing trailing elements count as 0; an empty array means "not given" (Session). */
function fixed(v: number[] | undefined, n: number): number[] | undefined {
  if (v === undefined || v.length === 0) return undefined;
  return Array.from({length: n}, (_, i) => v[i] ?? 0);
}

function parseCondition(params: Params): IfCondition {
  const f = loadFields(params, {
    height_at_least: "int",
    height_before: "int",
    hf_at_least: "intArray",
    hf_before: "intArray",
    v_at_least: "intArray",
    v_before: "intArray",
  });
  const cond: IfCondition = {
    heightAtLeast: f.height_at_least as number | undefined,
    heightBefore: f.height_before as number | undefined,
    hfAtLeast: fixed(f.hf_at_least as number[] | undefined, 2),
    hfBefore: fixed(f.hf_before as number[] | undefined, 2),
    vAtLeast: fixed(f.v_at_least as number[] | undefined, 3),
    vBefore: fixed(f.v_before as number[] | undefined, 3),
  };
  if (Object.values(cond).every((v) => v === undefined)) {
    throw new ParseError('Invalid ifelse request: must specify at least one "if" condition');
  }
  return cond;
}

function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

function evaluate(c: IfCondition, hf: readonly number[], v: readonly number[], height: number): boolean {
  const checks = [
    c.hfAtLeast === undefined || compare(hf, c.hfAtLeast) >= 0,
    c.hfBefore === undefined || compare(hf, c.hfBefore) < 0,
    c.vAtLeast === undefined || compare(v, c.vAtLeast) >= 0,
    c.vBefore === undefined || compare(v, c.vBefore) < 0,
    c.heightAtLeast === undefined || height >= c.heightAtLeast,
    c.heightBefore === undefined || height < c.heightBefore,
  ];
  return checks.every(Boolean);
}
