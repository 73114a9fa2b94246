/**
 * `pars-storage audit --node URL --message HASH --data FILE`: challenge any node for a message
 * the auditor stored, verify the signed answer against the node's keys (and the StorageProof it
 * signed), print the verdict and write the evidence bundle. Exit 0 pass, 1 anything else.
 * docs/PROTOCOL.md (Storage proofs) §10.
 */
import {InlineSigner} from "../../signer/index.js";
import {randomBytes} from "node:crypto";
import fs from "node:fs/promises";
import {resolve} from "node:path";
import {request} from "undici";
import {loadConfig} from "../../config/index.js";
import {decodeKeyFile, generateIdentity, type NodeIdentity} from "../../crypto/index.js";
import {ML_DSA65_PUBLIC_KEY_BYTES, ML_KEM768_PUBLIC_KEY_BYTES, type PqBackend} from "../../crypto/index.js";
import {challengeToJson, signChallenge, type StorageChallenge} from "../../proofs/index.js";
import {evidenceToJson, type EvidenceBundle} from "../../proofs/index.js";
import {keysToJson, nodeIdOf, type PublicKeys} from "../../proofs/index.js";
import {decodeMessageHash} from "../../proofs/index.js";
import {judge, type Verdict} from "../../proofs/index.js";

import {fromBase64Strict, fromHexStrict} from "../../swarm/index.js";
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
  const mldsa = text(o["pubkey-mldsa"]);
  const mlkem = text(o["pubkey-mlkem"]);
  if ((mldsa === undefined) !== (mlkem === undefined)) problems.push("--pubkey-mldsa and --pubkey-mlkem go together");
  if (problems.length > 0) throw new UsageError(problems);
  const timeout = Number(text(o["timeout-ms"]) ?? DEFAULT_TIMEOUT_MS);
  const committedBy = text(o["committed-by"]);
  return {
    node: (node as string).replace(/\/$/, ""),
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

async function getJson(url: string, timeoutMs: number, body?: string): Promise<{status: number; json: unknown}> {
  const res = await request(url, {
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
async function discoverKeys(opts: AuditOptions, io: CliIo): Promise<PublicKeys> {
  const latest = await getJson(`${opts.node}/proof/v1/latest`, opts.timeoutMs);
  const reported = (latest.json as {nodeId?: unknown}).nodeId;
  const claimed = opts.nodeId ?? reported;
  if (typeof claimed !== "string") throw new CommandError(`cannot learn the node's ID from ${opts.node}/proof/v1/latest (HTTP ${latest.status})`);
  if (typeof reported === "string" && reported !== claimed) throw new CommandError(`the node at ${opts.node} is ${reported}, not ${claimed}`);
  const nodes = await getJson(`${opts.node}/network/v1/nodes`, opts.timeoutMs);
  let entries = ((nodes.json as {nodes?: unknown}).nodes ?? []) as Entry[];
  if (!Array.isArray(entries) || entries.length === 0) {
    const params = {pubkey: opts.account ?? `05${"00".repeat(32)}`};
    const swarm = await getJson(`${opts.node}/storage_rpc/v1`, opts.timeoutMs, JSON.stringify({method: "get_swarm", params}));
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

async function targetKeys(opts: AuditOptions, io: CliIo): Promise<{keys: PublicKeys; nodeId: string}> {
  const keys = opts.keys ?? (await discoverKeys(opts, io));
  const nodeId = nodeIdOf(keys);
  if (nodeId === null) throw new CommandError("the node's public keys have the wrong sizes");
  if (opts.nodeId !== null && nodeId !== opts.nodeId) throw new CommandError(`the keys belong to node ${nodeId}, not ${opts.nodeId}`);
  return {keys, nodeId};
}

async function challenger(opts: AuditOptions, pq: PqBackend): Promise<NodeIdentity> {
  if (opts.keyFile === null) return generateIdentity(pq);
  return decodeKeyFile(await fs.readFile(opts.keyFile), pq, {path: opts.keyFile});
}

async function exchange(opts: AuditOptions, challenge: StorageChallenge, keys: PublicKeys): Promise<{answer: unknown; issuedAt: number; answerReceivedAt: number; status: number | null}> {
  const body = JSON.stringify({challenge: challengeToJson(challenge), challengerKeys: keysToJson(keys)});
  const issuedAt = Date.now();
  try {
    const res = await getJson(`${opts.node}/proof/v1/challenge`, opts.timeoutMs, body);
    return {answer: res.status === 200 ? res.json : null, issuedAt, answerReceivedAt: Date.now(), status: res.status};
  } catch {
    return {answer: null, issuedAt, answerReceivedAt: Date.now(), status: null};
  }
}

function describe(v: Verdict): string {
  return v.outcome === "pass" ? "PASS" : `${v.outcome.toUpperCase()} (${v.reason}): ${v.detail}`;
}

export async function auditCommand(args: ParsedArgs, io: CliIo): Promise<number> {
  const config = loadConfig({flags: args.flags, env: io.env, cwd: io.cwd});
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
  const target = await targetKeys(opts, io);
  progress.update("signing the challenge");
  const me = await challenger(opts, pq);
  const challengerKeys = {mlDsa: me.mlDsa.publicKey, mlKem: me.mlKem.publicKey};
  const unsigned = {challengerId: me.nodeId, targetId: target.nodeId, messageHash: opts.messageHash, nonce: randomBytes(32)};
  const challenge = await signChallenge(unsigned, new InlineSigner(pq, me.mlDsa.secretKey));
  progress.update("waiting for the answer", `(deadline ${opts.timeoutMs / 1000} s)`);
  const {answer, issuedAt, answerReceivedAt, status} = await exchange(opts, challenge, challengerKeys);
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
