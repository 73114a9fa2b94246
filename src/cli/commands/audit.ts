/**
 * `pars-storage audit --node URL --message HASH --data FILE`: challenge any node for a message
 * the auditor stored, verify the signed answer against the node's keys (and the StorageProof it
 * signed), print the verdict and write the evidence bundle. Exit 0 pass, 1 anything else.
 * docs/PROTOCOL.md (Storage proofs) §10.
 *
 * `--slashing FILE` verifies a slashing report bundle offline; `--penalties-from URLS` builds one
 * from the nodes' GET /proof/v1/penalties (docs/PROTOCOL.md (Storage proofs) "Penalty reports").
 */
import {InlineSigner} from "../../signer/index.js";
import {randomBytes} from "node:crypto";
import fs from "node:fs/promises";
import {resolve} from "node:path";
import {Agent, request, type Dispatcher} from "undici";
import {loadConfig} from "../../config/index.js";
import {decodeKeyFile, generateIdentity, type NodeIdentity} from "../../crypto/index.js";
import {ML_DSA65_PUBLIC_KEY_BYTES, ML_KEM768_PUBLIC_KEY_BYTES, type PqBackend} from "../../crypto/index.js";
import {isTlsPin, pinnedConnector, TlsPinError, type TlsPinLookup} from "../../crypto/index.js";
import {challengeToJson, signChallenge, type StorageChallenge} from "../../proofs/index.js";
import {evidenceToJson, type EvidenceBundle} from "../../proofs/index.js";
import {keysToJson, nodeIdOf, type PublicKeys} from "../../proofs/index.js";
import {decodeMessageHash} from "../../proofs/index.js";
import {judge, type Verdict} from "../../proofs/index.js";

import {fromBase64Strict, fromHexStrict, verifyNodeRecord, type NodeRecordJson} from "../../swarm/index.js";
import {
  aggregatePenaltyReports,
  penaltyReportFromJson,
  slashingReportFromJson,
  slashingReportToJson,
  verifyPenaltyReport,
  verifySlashingReport,
  type PenaltyReport,
  type SlashingReport,
} from "../../proofs/index.js";
import type {ParsedArgs} from "../args.js";
import {CommandError, EXIT_FAILURE, EXIT_OK, UsageError} from "../errors.js";
import type {CliIo} from "../io.js";
import {Progress} from "../progress.js";
import {loadCrypto} from "./crypto.js";

/** Verdict rules of the audit: the defaults of proofs.answerDeadlineMs / maxProofAgeMs. */
const DEFAULT_TIMEOUT_MS = 10_000;
const MAX_PROOF_AGE_MS = 1_500_000;
const MAX_CLOCK_SKEW_MS = 30_000;

interface AuditOptions {
  node: string;
  /** The https node's SPKI SHA-256 (`--tls-pin`); null for an http node. */
  tlsPin: string | null;
  messageHash: string;
  data: Buffer;
  account?: string;
  namespace?: number;
  keys: PublicKeys | null;
  nodeId: string | null;
  keyFile: string | null;
  evidenceFile: string | null;
  timeoutMs: number;
  committedBy: number | null;
}

const text = (v: string | true | undefined): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** A key of `size` bytes given as hex (2 × size characters) or padded base64. */
function keyBytes(value: string, what: string, size: number): Uint8Array {
  const bytes = value.length === 2 * size ? fromHexStrict(value.toLowerCase()) : fromBase64Strict(value);
  if (bytes === null || bytes.length !== size) throw new UsageError([`${what} must be ${size} bytes in hex or base64`]);
  return bytes;
}

async function parseOptions(o: ParsedArgs["options"], cwd: string): Promise<AuditOptions> {
  const problems: string[] = [];
  const node = text(o.node);
  const messageHash = text(o.message);
  const dataFile = text(o.data);
  if (node === undefined || !/^https?:\/\/[^/]+$/.test(node.replace(/\/$/, ""))) problems.push("--node must be the node's base URL, e.g. http://203.0.113.7:22025");
  if (messageHash === undefined || decodeMessageHash(messageHash) === null) problems.push("--message must be a 43-character message hash");
  if (dataFile === undefined) problems.push("--data must name a file holding the message data (raw bytes)");
  const account = text(o.account);
  const ns = text(o.namespace);
  if ((account === undefined) !== (ns === undefined)) problems.push("--account and --namespace go together");
  if (account !== undefined && !/^[0-9a-f]{66}$/.test(account)) problems.push("--account must be 66 lowercase hex characters");
  if (ns !== undefined && !/^-?[0-9]{1,5}$/.test(ns)) problems.push("--namespace must be an integer");
  const tlsPin = text(o["tls-pin"]) ?? null;
  if (tlsPin !== null && !isTlsPin(tlsPin)) problems.push("--tls-pin must be the SPKI SHA-256 in 64 lowercase hex digits");
  if (node?.startsWith("https:") === true && tlsPin === null) problems.push("an https node is checked by its pin: add --tls-pin (its record's tls.spkiSha256)");
  const mldsa = text(o["pubkey-mldsa"]);
  const mlkem = text(o["pubkey-mlkem"]);
  if ((mldsa === undefined) !== (mlkem === undefined)) problems.push("--pubkey-mldsa and --pubkey-mlkem go together");
  if (problems.length > 0) throw new UsageError(problems);
  const timeout = Number(text(o["timeout-ms"]) ?? DEFAULT_TIMEOUT_MS);
  const committedBy = text(o["committed-by"]);
  return {
    node: (node as string).replace(/\/$/, ""),
    tlsPin,
    messageHash: messageHash as string,
    data: await fs.readFile(resolve(cwd, dataFile as string)),
    ...(account === undefined ? {} : {account, namespace: Number(ns)}),
    keys: mldsa === undefined || mlkem === undefined ? null : {mlDsa: keyBytes(mldsa, "--pubkey-mldsa", ML_DSA65_PUBLIC_KEY_BYTES), mlKem: keyBytes(mlkem, "--pubkey-mlkem", ML_KEM768_PUBLIC_KEY_BYTES)},
    nodeId: text(o["node-id"]) ?? null,
    keyFile: text(o.key) === undefined ? null : resolve(cwd, text(o.key) as string),
    evidenceFile: text(o.evidence) === undefined ? null : resolve(cwd, text(o.evidence) as string),
    timeoutMs: Number.isSafeInteger(timeout) && timeout > 0 ? timeout : DEFAULT_TIMEOUT_MS,
    committedBy: committedBy === undefined ? null : Number(committedBy),
  };
}

/**
 * The dispatcher for the audited nodes: https ones are reached only with their pin (one pin, or
 * a lookup by host and port); http ones as they are. Close it when done.
 */
function auditDispatcher(pin: string | TlsPinLookup | null): Agent {
  return new Agent({keepAliveTimeout: 10, ...(pin === null ? {} : {connect: pinnedConnector(pin)})});
}

async function getJson(url: string, timeoutMs: number, dispatcher: Dispatcher, body?: string): Promise<{status: number; json: unknown}> {
  const res = await request(url, {
    dispatcher,
    method: body === undefined ? "GET" : "POST",
    ...(body === undefined ? {} : {body}),
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
    signal: AbortSignal.timeout(timeoutMs),
  });
  const raw = await res.body.text();
  try {
    return {status: res.statusCode, json: JSON.parse(raw) as unknown};
  } catch {
    return {status: res.statusCode, json: raw};
  }
}

type Entry = {node_id?: unknown; pubkey_mldsa?: unknown; pubkey_mlkem?: unknown};

/** The node's keys from its own /network/v1/nodes or get_swarm entry (checked against its ID). */
async function discoverKeys(opts: AuditOptions, io: CliIo, dispatcher: Dispatcher): Promise<PublicKeys> {
  let latest: {status: number; json: unknown};
  try {
    latest = await getJson(`${opts.node}/proof/v1/latest`, opts.timeoutMs, dispatcher);
  } catch (err) {
    throw new CommandError(`cannot reach ${opts.node}: ${(err as Error).message}`);
  }
  const reported = (latest.json as {nodeId?: unknown}).nodeId;
  const claimed = opts.nodeId ?? reported;
  if (typeof claimed !== "string") throw new CommandError(`cannot learn the node's ID from ${opts.node}/proof/v1/latest (HTTP ${latest.status})`);
  if (typeof reported === "string" && reported !== claimed) throw new CommandError(`the node at ${opts.node} is ${reported}, not ${claimed}`);
  const nodes = await getJson(`${opts.node}/network/v1/nodes`, opts.timeoutMs, dispatcher);
  let entries = ((nodes.json as {nodes?: unknown}).nodes ?? []) as Entry[];
  if (!Array.isArray(entries) || entries.length === 0) {
    const params = {pubkey: opts.account ?? `05${"00".repeat(32)}`};
    const swarm = await getJson(`${opts.node}/storage_rpc/v1`, opts.timeoutMs, dispatcher, JSON.stringify({method: "get_swarm", params}));
    entries = ((swarm.json as {snodes?: unknown}).snodes ?? []) as Entry[];
  }
  const entry = (Array.isArray(entries) ? entries : []).find((e) => e.node_id === claimed);
  if (entry === undefined || typeof entry.pubkey_mldsa !== "string" || typeof entry.pubkey_mlkem !== "string") {
    throw new CommandError(`the node does not list keys for node ${claimed}; pass --pubkey-mldsa and --pubkey-mlkem`);
  }
  if (opts.nodeId === null) io.stderr("pars-storage: warning: keys taken from the audited node itself; pin them with --node-id or --pubkey-*");
  return {
    mlDsa: keyBytes(entry.pubkey_mldsa, "pubkey_mldsa", ML_DSA65_PUBLIC_KEY_BYTES),
    mlKem: keyBytes(entry.pubkey_mlkem, "pubkey_mlkem", ML_KEM768_PUBLIC_KEY_BYTES),
  };
}

async function targetKeys(opts: AuditOptions, io: CliIo, dispatcher: Dispatcher): Promise<{keys: PublicKeys; nodeId: string}> {
  const keys = opts.keys ?? (await discoverKeys(opts, io, dispatcher));
  const nodeId = nodeIdOf(keys);
  if (nodeId === null) throw new CommandError("the node's public keys have the wrong sizes");
  if (opts.nodeId !== null && nodeId !== opts.nodeId) throw new CommandError(`the keys belong to node ${nodeId}, not ${opts.nodeId}`);
  return {keys, nodeId};
}

async function challenger(opts: AuditOptions, pq: PqBackend): Promise<NodeIdentity> {
  if (opts.keyFile === null) return generateIdentity(pq);
  return decodeKeyFile(await fs.readFile(opts.keyFile), pq, {path: opts.keyFile});
}

async function exchange(
  opts: AuditOptions,
  challenge: StorageChallenge,
  keys: PublicKeys,
  dispatcher: Dispatcher,
): Promise<{answer: unknown; issuedAt: number; answerReceivedAt: number; status: number | null}> {
  const body = JSON.stringify({challenge: challengeToJson(challenge), challengerKeys: keysToJson(keys)});
  const issuedAt = Date.now();
  try {
    const res = await getJson(`${opts.node}/proof/v1/challenge`, opts.timeoutMs, dispatcher, body);
    return {answer: res.status === 200 ? res.json : null, issuedAt, answerReceivedAt: Date.now(), status: res.status};
  } catch (err) {
    // A certificate that is not the pin given is the auditor's question to settle, not a missed answer.
    if (err instanceof TlsPinError) throw new CommandError(`${opts.node}: ${(err as Error).message}`);
    return {answer: null, issuedAt, answerReceivedAt: Date.now(), status: null};
  }
}

function describe(v: Verdict): string {
  return v.outcome === "pass" ? "PASS" : `${v.outcome.toUpperCase()} (${v.reason}): ${v.detail}`;
}

interface VerifiedRecords {
  /** The reporters' BLS keys by node ID, with the record that carries each. */
  keys: Map<string, {key: Uint8Array; json: NodeRecordJson}>;
  /** The TLS pins of the https nodes by `host:port`. */
  pins: Map<string, string>;
}

/** BLS keys and TLS pins from the records that verify (ML-DSA signature and BLS proof of possession). */
function recordKeys(records: readonly unknown[], networkId: number, pq: PqBackend): VerifiedRecords {
  const out: VerifiedRecords = {keys: new Map(), pins: new Map()};
  for (const json of records) {
    const result = verifyNodeRecord(json, pq, {networkId});
    if (!result.ok) continue;
    const r = result.record;
    if (r.blsPublicKey !== undefined) out.keys.set(r.nodeId, {key: r.blsPublicKey, json: json as NodeRecordJson});
    if (r.tlsSpkiSha256 !== undefined) out.pins.set(`${r.host}:${r.port}`, Buffer.from(r.tlsSpkiSha256).toString("hex"));
  }
  return out;
}

function printSlashing(report: SlashingReport, verdict: ReturnType<typeof verifySlashingReport>, io: CliIo): number {
  io.stdout(`accused ${report.accusedId}`);
  io.stdout(`epoch ${report.epoch} (network ${report.networkId})`);
  for (const r of report.reports) io.stdout(`reporter ${r.reporterId} ${r.kind} evidence ${Buffer.from(r.evidenceHash).toString("hex")}`);
  io.stdout(verdict.ok ? `slashing report VERIFIED (${verdict.reporters.length} reporters)` : `slashing report INVALID: ${verdict.reason}`);
  return verdict.ok ? EXIT_OK : EXIT_FAILURE;
}

/** `--slashing FILE`: a bundle `{slashingReport, records}` checked offline. */
async function verifySlashingFile(file: string, pq: PqBackend, io: CliIo): Promise<number> {
  let bundle: {slashingReport?: unknown; records?: unknown};
  try {
    bundle = JSON.parse(await fs.readFile(file, "utf8")) as typeof bundle;
  } catch (err) {
    throw new CommandError(`cannot read the slashing report ${file}: ${(err as Error).message}`);
  }
  let report: SlashingReport;
  try {
    report = slashingReportFromJson(bundle.slashingReport);
  } catch (err) {
    throw new CommandError(`${file} is not a slashing report bundle: ${(err as Error).message}`);
  }
  const {keys} = recordKeys(Array.isArray(bundle.records) ? (bundle.records as unknown[]) : [], report.networkId, pq);
  return printSlashing(report, verifySlashingReport(report, (id) => keys.get(id)?.key ?? null), io);
}

/** The penalty reports `url` holds about `accused` in `epoch` that verify; an unreachable node gives none (with a warning). */
async function reportsFrom(
  url: string,
  accused: string,
  epoch: number,
  ctx: {keys: VerifiedRecords["keys"]; networkId: number; dispatcher: Dispatcher},
  io: CliIo,
): Promise<PenaltyReport[]> {
  let rows: unknown;
  try {
    rows = ((await getJson(`${url}/proof/v1/penalties?accused=${accused}&epoch=${epoch}`, DEFAULT_TIMEOUT_MS, ctx.dispatcher)).json as {reports?: unknown}).reports;
  } catch (err) {
    io.stderr(`pars-storage: warning: no penalty reports from ${url}: ${(err as Error).message}`);
    return [];
  }
  const reports: PenaltyReport[] = [];
  for (const row of Array.isArray(rows) ? (rows as {report?: unknown}[]) : []) {
    let report: PenaltyReport;
    try {
      report = penaltyReportFromJson(row.report);
    } catch {
      continue;
    }
    const key = ctx.keys.get(report.reporterId)?.key;
    if (report.networkId === ctx.networkId && key !== undefined && verifyPenaltyReport(report, key)) reports.push(report);
    else io.stderr(`pars-storage: warning: dropped a report from ${url} by ${report.reporterId}: no verified record key or a bad signature`);
  }
  return reports;
}

/** `--penalties-from`: fetch, check each report, aggregate, write the bundle, verify it. */
async function collectSlashing(o: ParsedArgs["options"], pq: PqBackend, io: CliIo): Promise<number> {
  const urls = (text(o["penalties-from"]) ?? "").split(",").map((u) => u.trim().replace(/\/$/, "")).filter((u) => u !== "");
  const accused = text(o.accused);
  const epoch = Number(text(o.epoch));
  const membershipFile = text(o.membership);
  const problems: string[] = [];
  if (urls.some((u) => !/^https?:\/\/[^/]+$/.test(u)) || urls.length === 0) problems.push("--penalties-from must list node base URLs, comma-separated");
  if (accused === undefined || !/^[0-9a-f]{64}$/.test(accused)) problems.push("--accused must be the accused node's ID (64 lowercase hex)");
  if (!Number.isSafeInteger(epoch) || epoch < 0) problems.push("--epoch must be an epoch index");
  if (membershipFile === undefined) problems.push("--membership must name a membership document holding the reporters' records");
  if (problems.length > 0) throw new UsageError(problems);
  const doc = JSON.parse(await fs.readFile(resolve(io.cwd, membershipFile as string), "utf8")) as {network_id?: unknown; nodes?: unknown};
  const networkId = typeof doc.network_id === "number" ? doc.network_id : -1;
  const {keys, pins} = recordKeys(Array.isArray(doc.nodes) ? (doc.nodes as unknown[]) : [], networkId, pq);
  // An https reporter is reached with the pin its verified record carries, found by host and port.
  const dispatcher = auditDispatcher((host, port) => pins.get(`${host}:${port}`) ?? null);
  const reports: PenaltyReport[] = [];
  try {
    for (const url of urls) reports.push(...(await reportsFrom(url, accused as string, epoch, {keys, networkId, dispatcher}, io)));
  } finally {
    await dispatcher.close();
  }
  const slashing = aggregatePenaltyReports(reports, accused as string, epoch);

  if (slashing === null) throw new CommandError(`no valid penalty report about ${accused as string} in epoch ${epoch} at ${urls.join(", ")}`);
  const records = slashing.reports.map((r) => keys.get(r.reporterId)?.json);
  const file = text(o.evidence) ?? `pars-slashing-${(accused as string).slice(0, 12)}-${epoch}.json`;
  await fs.writeFile(resolve(io.cwd, file), `${JSON.stringify({slashingReport: slashingReportToJson(slashing), records}, null, 2)}\n`);
  io.stdout(`bundle ${resolve(io.cwd, file)}`);
  return printSlashing(slashing, verifySlashingReport(slashing, (id) => keys.get(id)?.key ?? null), io);
}

export async function auditCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const config = loadConfig({flags: args.flags, env: io.env, cwd: io.cwd});
  const slashingFile = text(args.options.slashing);
  if (slashingFile !== undefined) return verifySlashingFile(resolve(io.cwd, slashingFile), await loadCrypto(config, io), io);
  if (text(args.options["penalties-from"]) !== undefined) return collectSlashing(args.options, await loadCrypto(config, io), io);
  const opts = await parseOptions(args.options, io.cwd);
  const progress = new Progress({label: "audit"}, {io});
  try {
    return await audit(opts, config, io, progress);
  } finally {
    progress.done();
  }
}

async function audit(opts: AuditOptions, config: ReturnType<typeof loadConfig>, io: CliIo, progress: Progress): Promise<number> {
  progress.update("loading post-quantum crypto");
  const pq = await loadCrypto(config, io);
  if (opts.keys === null) progress.update("fetching the node's keys", opts.node);
  const dispatcher = auditDispatcher(opts.tlsPin);
  try {
    return await challengeNode(opts, pq, dispatcher, io, progress);
  } finally {
    await dispatcher.close();
  }
}

async function challengeNode(opts: AuditOptions, pq: PqBackend, dispatcher: Dispatcher, io: CliIo, progress: Progress): Promise<number> {
  const target = await targetKeys(opts, io, dispatcher);
  progress.update("signing the challenge");
  const me = await challenger(opts, pq);
  const challengerKeys = {mlDsa: me.mlDsa.publicKey, mlKem: me.mlKem.publicKey};
  const unsigned = {challengerId: me.nodeId, targetId: target.nodeId, messageHash: opts.messageHash, nonce: randomBytes(32)};
  const challenge = await signChallenge(unsigned, new InlineSigner(pq, me.mlDsa.secretKey));
  progress.update("waiting for the answer", `(deadline ${opts.timeoutMs / 1000} s)`);
  const {answer, issuedAt, answerReceivedAt, status} = await exchange(opts, challenge, challengerKeys, dispatcher);
  if (answer === null) io.stderr(`pars-storage: no answer from ${opts.node} (${status === null ? "timeout or connection error" : `HTTP ${status}`})`);
  progress.update("verifying the answer");
  const message = {data: opts.data, ...(opts.account === undefined ? {} : {account: opts.account, namespace: opts.namespace})};
  const rules = {deadlineMs: opts.timeoutMs, maxProofAgeMs: MAX_PROOF_AGE_MS, maxClockSkewMs: MAX_CLOCK_SKEW_MS};
  const input = {challenge, challengerKeys, targetKeys: target.keys, answer, message, observed: {issuedAt, answerReceivedAt}, committedBy: opts.committedBy, rules};
  const evidence: EvidenceBundle = {...input, verdict: judge(input, pq)};
  const file = opts.evidenceFile ?? resolve(io.cwd, `pars-audit-${target.nodeId.slice(0, 12)}-${issuedAt}.json`);
  await fs.writeFile(file, `${JSON.stringify(evidenceToJson(evidence), null, 2)}\n`);
  progress.done(`answer judged ${evidence.verdict.outcome}`);
  io.stdout(`node ${target.nodeId}`);
  io.stdout(`message ${opts.messageHash}`);
  io.stdout(`verdict ${describe(evidence.verdict)}`);
  io.stdout(`evidence ${file}`);
  return evidence.verdict.outcome === "pass" ? EXIT_OK : EXIT_FAILURE;
}
