/**
 * Storage-proof routes (docs/PROTOCOL.md (Storage proofs) §9):
 *   GET  /proof/v1/latest        this node's newest signed StorageProof
 *   GET  /proof/v1/results       the challenge ledger (newest first) and the peer-health view
 *   GET  /proof/v1/results/:id   one ledger entry with its evidence bundle
 *   POST /proof/v1/challenge     answer a signed StorageChallenge (auditors; members use the peer channel, §9.2, unless older)
 *   POST /proof/v1/peer-proof    a swarm peer's own, newer StorageProof (204; 403 from anyone else's node, 409 if not newer)
 *   GET  /proof/v1/penalties     the penalty reports this node signed (BLS), newest first, optionally with evidence
 * Proof errors map to HTTP here; bodies are JSON `{"error": code, "message": text}`, every code a
 * `PROOF_ERROR_…` one.
 */
import type {FastifyInstance, FastifyReply} from "fastify";
import {HTTP} from "../../../rpc/index.js";
import {answerToJson, type ChallengeAnswer} from "../../../proofs/index.js";
import type {ProofErrorCode} from "../../../proofs/index.js";
import {resultRow, resultsBody, type ResultsSource} from "../../../proofs/index.js";
import {proofToJson, type StorageProof} from "../../../proofs/index.js";
import {penaltyReportToJson, type PenaltySource} from "../../../proofs/index.js";

/** What the routes use of the ProofService. */
export interface ProofApi extends ResultsSource {
  answer(body: unknown): Promise<ChallengeAnswer>;
  acceptPeerProof(body: unknown): StorageProof;
  /** Null or absent: the node signs no penalty reports (GET /proof/v1/penalties lists none). */
  readonly penalties?: PenaltySource | null;
}

export interface ProofRouteModules {
  readonly proofs: ProofApi;
  readonly nodeId: string;
  readonly now: () => number;
  /** Shared per-IP rate limit for reads (false = 429). */
  readonly allow: (ip: string) => boolean;
  /** Stricter per-IP limit for challenges, which cost a verification and a signature. */
  readonly allowChallenge: (ip: string) => boolean;
}

/** Challenge requests are ~10 KB; larger bodies are refused before parsing. */
const MAX_PROOF_BODY_BYTES = 64 * 1024;
const DEFAULT_PAGE = 50;

/** Not in rpc/errors.ts's HTTP table (the RPC never answers it). */
const CONFLICT = 409;

/** A code only the routes answer (no ProofError carries it): a result id the ledger does not hold. */
type RouteErrorCode = ProofErrorCode | "PROOF_ERROR_NOT_FOUND";

const STATUS: Record<RouteErrorCode, number> = {
  PROOF_ERROR_MALFORMED: HTTP.BAD_REQUEST,
  PROOF_ERROR_BAD_SIGNATURE: HTTP.FORBIDDEN,
  PROOF_ERROR_WRONG_TARGET: HTTP.FORBIDDEN,
  PROOF_ERROR_UNKNOWN_CHALLENGER: HTTP.FORBIDDEN,
  PROOF_ERROR_NOT_SWARM_PEER: HTTP.FORBIDDEN,
  PROOF_ERROR_STALE: CONFLICT,
  PROOF_ERROR_NOT_READY: HTTP.SERVICE_UNAVAILABLE,
  PROOF_ERROR_BUSY: HTTP.SERVICE_UNAVAILABLE,
  PROOF_ERROR_RATE_LIMITED: HTTP.TOO_MANY_REQUESTS,
  PROOF_ERROR_TRANSPORT: HTTP.SERVICE_UNAVAILABLE,
  PROOF_ERROR_CLOSED: HTTP.SERVICE_UNAVAILABLE,
  PROOF_ERROR_NOT_FOUND: HTTP.NOT_FOUND,
};

function problem(reply: FastifyReply, code: RouteErrorCode, message: string, status = STATUS[code]): FastifyReply {
  return reply.code(status).type("application/json").send(JSON.stringify({error: code, message}));
}

/** Maps a thrown ProofError to its status; anything else is rethrown to the app's error handler. */
function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  const code = (err as {code?: unknown}).code;
  if (typeof code === "string" && code in STATUS) return problem(reply, code as ProofErrorCode, (err as Error).message);
  throw err;
}

/** The body as a JSON value, or a 400/413 already sent (null). */
function jsonBody(raw: unknown, reply: FastifyReply): {value: unknown} | null {
  // The app's body reader (app.ts) hands every route a Buffer.
  const bytes = Buffer.isBuffer(raw) ? raw : Buffer.alloc(0);
  if (bytes.length > MAX_PROOF_BODY_BYTES) {
    void problem(reply, "PROOF_ERROR_MALFORMED", `body larger than ${MAX_PROOF_BODY_BYTES} bytes`, HTTP.PAYLOAD_TOO_LARGE);
    return null;
  }
  try {
    return {value: JSON.parse(bytes.toString("utf8")) as unknown};
  } catch {
    void problem(reply, "PROOF_ERROR_MALFORMED", "body is not valid JSON");
    return null;
  }
}

function pageQuery(query: unknown): {limit: number; beforeId?: number; target: string | null} {
  const q = (query ?? {}) as Record<string, unknown>;
  const int = (v: unknown): number | undefined => (typeof v === "string" && /^[1-9][0-9]{0,15}$/.test(v) ? Number(v) : undefined);
  const target = typeof q.target === "string" && /^[0-9a-f]{64}$/.test(q.target) ? q.target : null;
  const beforeId = int(q.before);
  return {limit: int(q.limit) ?? DEFAULT_PAGE, target, ...(beforeId === undefined ? {} : {beforeId})};
}

const MAX_PENALTY_PAGE = 200;

/** `accused`, `epoch`, `limit`, `before`, `evidence=1`; null when a given parameter is invalid. */
function penaltyQuery(query: unknown): {accusedId?: string; epoch?: number; limit: number; beforeId?: number; evidence: boolean} | null {
  const q = (query ?? {}) as Record<string, unknown>;
  const int = (v: unknown, min: number): number | null | undefined => {
    if (v === undefined) return undefined;
    return typeof v === "string" && /^(0|[1-9][0-9]{0,15})$/.test(v) && Number(v) >= min ? Number(v) : null;
  };
  if (q.accused !== undefined && (typeof q.accused !== "string" || !/^[0-9a-f]{64}$/.test(q.accused))) return null;
  const epoch = int(q.epoch, 0);
  const limit = int(q.limit, 1);
  const before = int(q.before, 1);
  if (epoch === null || limit === null || before === null) return null;
  if (q.evidence !== undefined && q.evidence !== "1" && q.evidence !== "0") return null;
  return {
    ...(q.accused === undefined ? {} : {accusedId: q.accused}),
    ...(epoch === undefined ? {} : {epoch}),
    ...(before === undefined ? {} : {beforeId: before}),
    limit: Math.min(limit ?? DEFAULT_PAGE, MAX_PENALTY_PAGE),
    evidence: q.evidence === "1",
  };
}

const limited = (reply: FastifyReply): FastifyReply => problem(reply, "PROOF_ERROR_RATE_LIMITED", "too many requests");

export function registerProofRoutes(app: FastifyInstance, m: ProofRouteModules): void {
  registerReads(app, m);
  registerWrites(app, m);
}

function registerReads(app: FastifyInstance, m: ProofRouteModules): void {
  app.get("/proof/v1/latest", (req, reply) => {
    if (!m.allow(req.ip)) return limited(reply);
    const latest = m.proofs.latest;
    if (latest === null) return problem(reply, "PROOF_ERROR_NOT_READY", "no storage proof signed yet");
    return reply.type("application/json").send(JSON.stringify(proofToJson(latest)));
  });

  app.get("/proof/v1/results", (req, reply) => {
    if (!m.allow(req.ip)) return limited(reply);
    const body = resultsBody(m.proofs, pageQuery(req.query), {nodeId: m.nodeId, now: m.now()});
    return reply.type("application/json").send(JSON.stringify(body));
  });

  app.get("/proof/v1/penalties", (req, reply) => {
    if (!m.allow(req.ip)) return limited(reply);
    const q = penaltyQuery(req.query);
    if (q === null) {
      return problem(reply, "PROOF_ERROR_MALFORMED", "accused must be 64 lowercase hex; epoch, limit and before integers; evidence 0 or 1");
    }
    const rows = m.proofs.penalties?.list(q) ?? [];
    const reports = rows.map((r) => ({
      id: r.id,
      at: r.at,
      report: penaltyReportToJson(r.report),
      ...(q.evidence ? {evidence: r.evidence} : {}),
    }));
    return reply.type("application/json").send(JSON.stringify({nodeId: m.nodeId, reports}));
  });

  app.get<{Params: {id: string}}>("/proof/v1/results/:id", (req, reply) => {
    if (!m.allow(req.ip)) return limited(reply);
    const id = /^[1-9][0-9]{0,15}$/.test(req.params.id) ? Number(req.params.id) : null;
    const row = id === null ? null : m.proofs.ledger.get(id);
    if (row === null) return problem(reply, "PROOF_ERROR_NOT_FOUND", "no such result");
    return reply.type("application/json").send(JSON.stringify(resultRow(row, true)));
  });
}

function registerWrites(app: FastifyInstance, m: ProofRouteModules): void {
  app.post("/proof/v1/challenge", async (req, reply) => {
    if (!m.allowChallenge(req.ip)) return limited(reply);
    const body = jsonBody(req.body, reply);
    if (body === null) return reply;
    try {
      const answer = await m.proofs.answer(body.value);
      return await reply.type("application/json").send(JSON.stringify(answerToJson(answer)));
    } catch (err) {
      return sendError(reply, err);
    }
  });

  app.post("/proof/v1/peer-proof", (req, reply) => {
    if (!m.allow(req.ip)) return limited(reply);
    const body = jsonBody(req.body, reply);
    if (body === null) return reply;
    try {
      m.proofs.acceptPeerProof(body.value);
      return reply.code(204).send();
    } catch (err) {
      return sendError(reply, err);
    }
  });
}
