/**
 * `GET /economics/v1/fees` (the PIP-0008 fee schedule and the current scarcity multiplier) and
 * `GET /economics/v1/ledger?limit=N` (fees this node charged per epoch with their 80/20 split).
 * Amounts are decimal strings of PARS base units (18 decimals). Shares the RPC's per-IP limit.
 */
import type {FastifyInstance} from "fastify";
import {HTTP} from "../../../rpc/index.js";

export interface EconomicsApi {
  schedule(): Record<string, unknown>;
  ledger(limit: number): Record<string, unknown>;
}

export interface EconomicsRouteModules {
  readonly api: EconomicsApi;
  readonly allow: (ip: string) => boolean;
}

const LEDGER_DEFAULT_EPOCHS = 24;
const LEDGER_MAX_EPOCHS = 1000;

export function registerEconomicsRoutes(app: FastifyInstance, modules: EconomicsRouteModules): void {
  app.get("/economics/v1/fees", (req, reply) => {
    if (!modules.allow(req.ip)) return reply.code(HTTP.TOO_MANY_REQUESTS).type("text/plain; charset=utf-8").send("Too Many Requests\n");
    return reply.send(modules.api.schedule());
  });
  app.get<{Querystring: {limit?: string}}>("/economics/v1/ledger", (req, reply) => {
    if (!modules.allow(req.ip)) return reply.code(HTTP.TOO_MANY_REQUESTS).type("text/plain; charset=utf-8").send("Too Many Requests\n");
    const raw = req.query.limit;
    const limit = raw === undefined ? LEDGER_DEFAULT_EPOCHS : Number(raw);
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > LEDGER_MAX_EPOCHS) {
      return reply.code(HTTP.BAD_REQUEST).type("text/plain; charset=utf-8").send(`limit must be an integer from 1 to ${LEDGER_MAX_EPOCHS}`);
    }
    return reply.send(modules.api.ledger(limit));
  });
}
