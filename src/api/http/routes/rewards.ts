/**
 * Reward accounting and claims (docs/PROTOCOL.md (Rewards) §6): balances, final epochs, the epoch
 * reports peers fetch, and `POST /rewards/v1/claim`. Amounts are decimal strings of PARS base
 * units. Errors are `{"error": CODE, "message": …}` with the status below. Shares the RPC's per-IP limit.
 */
import type {FastifyInstance, FastifyReply} from "fastify";
import type {RewardsErrorCode} from "../../../rewards/index.js";
import {HTTP} from "../../../rpc/index.js";

export interface RewardsApi {
  balances(): Record<string, unknown>;
  balance(address: string): Record<string, unknown> | null;
  epochs(limit: number): Record<string, unknown>;
  reportsOf(epoch: number): unknown[];
  /** Rejects with a RewardsError (its `code`, and `type.retryAtMs` for the threshold). */
  claim(address: unknown): Promise<Record<string, unknown>>;
}

export interface RewardsRouteModules {
  readonly api: RewardsApi;
  readonly allow: (ip: string) => boolean;
  readonly now: () => number;
}

const STATUS: Record<RewardsErrorCode, number> = {
  REWARDS_ERROR_BAD_REPORT: HTTP.BAD_REQUEST,
  REWARDS_ERROR_BAD_REQUEST: HTTP.BAD_REQUEST,
  REWARDS_ERROR_UNKNOWN_ADDRESS: HTTP.NOT_FOUND,
  // 409: the address is known, there is just nothing to sign for.
  REWARDS_ERROR_NOTHING_TO_CLAIM: 409,
  REWARDS_ERROR_CLAIM_THRESHOLD: HTTP.TOO_MANY_REQUESTS,
  REWARDS_ERROR_NOT_READY: HTTP.SERVICE_UNAVAILABLE,
};

const EPOCHS_DEFAULT = 24;
const EPOCHS_MAX = 1_000;
/** `{"address": "<128 chars>"}` with room to spare. */
const MAX_CLAIM_BODY_BYTES = 1_024;

export function registerRewardsRoutes(app: FastifyInstance, m: RewardsRouteModules): void {
  const limited = (ip: string, reply: FastifyReply): boolean => {
    if (m.allow(ip)) return false;
    void reply.code(HTTP.TOO_MANY_REQUESTS).type("text/plain; charset=utf-8").send("Too Many Requests\n");
    return true;
  };
  app.get("/rewards/v1/balances", (req, reply) => (limited(req.ip, reply) ? reply : reply.send(m.api.balances())));
  app.get<{Params: {address: string}}>("/rewards/v1/balances/:address", (req, reply) => {
    if (limited(req.ip, reply)) return reply;
    const body = m.api.balance(req.params.address);
    if (body === null) return problem(reply, "REWARDS_ERROR_UNKNOWN_ADDRESS", `no rewards were ever earned by ${req.params.address}`);
    return reply.send(body);
  });
  app.get<{Querystring: {limit?: string}}>("/rewards/v1/epochs", (req, reply) => {
    if (limited(req.ip, reply)) return reply;
    const limit = req.query.limit === undefined ? EPOCHS_DEFAULT : Number(req.query.limit);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > EPOCHS_MAX) {
      return problem(reply, "REWARDS_ERROR_BAD_REQUEST", `limit must be an integer from 1 to ${EPOCHS_MAX}`);
    }
    return reply.send(m.api.epochs(limit));
  });
  app.get<{Params: {epoch: string}}>("/rewards/v1/reports/:epoch", (req, reply) => {
    if (limited(req.ip, reply)) return reply;
    const epoch = /^(0|[1-9][0-9]{0,14})$/.test(req.params.epoch) ? Number(req.params.epoch) : -1;
    if (epoch < 0) return problem(reply, "REWARDS_ERROR_BAD_REQUEST", "epoch must be a non-negative integer");
    return reply.send({epoch, reports: m.api.reportsOf(epoch)});
  });
  app.post("/rewards/v1/claim", async (req, reply) => {
    if (limited(req.ip, reply)) return reply;
    const bytes = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (bytes.length > MAX_CLAIM_BODY_BYTES) return problem(reply, "REWARDS_ERROR_BAD_REQUEST", `body larger than ${MAX_CLAIM_BODY_BYTES} bytes`, HTTP.PAYLOAD_TOO_LARGE);
    let body: unknown;
    try {
      body = JSON.parse(bytes.toString("utf8"));
    } catch {
      return problem(reply, "REWARDS_ERROR_BAD_REQUEST", 'body must be JSON: {"address": "..."}');
    }
    const address = typeof body === "object" && body !== null ? (body as {address?: unknown}).address : undefined;
    let claim: Record<string, unknown>;
    try {
      claim = await m.api.claim(address);
    } catch (err) {
      return sendError(reply, err, m.now());
    }
    return reply.send(claim);
  });
}

function problem(reply: FastifyReply, code: RewardsErrorCode, message: string, status = STATUS[code]): FastifyReply {
  return reply.code(status).type("application/json").send(JSON.stringify({error: code, message}));
}

function sendError(reply: FastifyReply, err: unknown, now: number): FastifyReply {
  const code = (err as {code?: unknown}).code;
  if (typeof code !== "string" || !(code in STATUS)) throw err;
  const retryAtMs = (err as {type?: {retryAtMs?: unknown}}).type?.retryAtMs;
  if (typeof retryAtMs === "number") void reply.header("retry-after", String(Math.max(1, Math.ceil((retryAtMs - now) / 1000))));
  return problem(reply, code as RewardsErrorCode, (err as Error).message);
}
