/**
 * Variants of the raw SQLite store server (`baseline-server.ts`'s `sqlite-group`) that bound what
 * issue #15 item 1 can reach on this machine (docs/benchmarks.md "Session 9: item 1's bound"):
 *
 * - **signed** (`sqlite-signed`): the floor of the wire. The raw server plus what the node's answer
 *   must carry: each store's receipt (`hash expiry status fee`, as the node signs it) goes into the
 *   node's own `ResponseSigner` (with the node's default batch window), whose
 *   ML-DSA-65 batch signature is made on the node's signing worker; the answer is the node's ~5 KB
 *   body, byte for byte in shape (`{"swarm":{<id>:{hash, signature, signature_proof, expiry, fee,
 *   t}}, t, hf, hash}`), written from the signer's pre-serialised parts. No validation, no mailbox
 *   statements, no RPC pipeline: what is left of the node's extra CPU over this is its own code.
 * - **two loops** (`sqlite-loops`, `sqlite-signed-loops`): the same server on two event loops in
 *   one process. The main thread listens; a worker thread runs a second fastify app on the same
 *   listening socket (`listen({fd})`: threads share the fd table, and the kernel hands each new
 *   connection to whichever loop accepts first). The worker parses, decodes and hashes; its rows
 *   go to the main thread's one group commit (one message per worker turn, the data in one
 *   transferred buffer) and, when signed, into the main thread's one `ResponseSigner`; the answer
 *   (hash, or the signature's and the proof's JSON texts) comes back per row.
 * - **two worker loops** (`sqlite-workers`, `sqlite-signed-workers`): the same, but both loops are
 *   worker threads and the main thread only writes (and signs). Without `reusePort` (Node 20) the
 *   kernel gives a new connection to whichever loop calls accept() first, and a loop accepts all
 *   that are pending when it wakes: with the main thread as one loop it is also the busier one
 *   (the commit), so the split of a pool's connections is lopsided; two alike loops split them
 *   closer to evenly.
 *
 * - **signed retrieve** (`sqlite-verify`, `sqlite-verify-worker`): issue #15 item 3's floor. The raw
 *   SQLite retrieve server plus what Session's protocol mandates of a signed retrieve: the
 *   timestamp window, the `05` account's Ed25519→X25519 key check (cached per key) and the Ed25519
 *   signature check of `retrieve<namespace or ''><timestamp>` (node:crypto, KeyObjects cached per
 *   key; `-worker`: on the node's signing worker, batched per event-loop turn, as the node checks
 *   it); the page is the node's query (unexpired rows after `last_hash`'s id, one row past the
 *   count to tell `more`, the size limit) and the answer the node's `{messages, more, t, hf}`,
 *   through fastify's `JSON.stringify`. No RPC pipeline, no auth module, no store: what is left
 *   of the node's extra CPU over this is its own code.
 *
 * The worker thread is this module, started with `workerData.kind === WORKER_KIND`.
 */
import {isMainThread, parentPort, Worker, workerData} from "node:worker_threads";
import {createPublicKey, verify, type KeyObject} from "node:crypto";
import {ed25519} from "@noble/curves/ed25519.js";
import {ml_dsa65} from "@noble/post-quantum/ml-dsa.js";
import Fastify, {type FastifyInstance} from "fastify";
import {loadPqBackend} from "../src/crypto/pq/index.js";
import {defaultResponseSignerOptions, ResponseSigner, signedReceiptJson, storeReceipt} from "../src/receipts/index.js";
import {InlineSigner, WorkerSigner} from "../src/signer/index.js";
import {systemClock} from "../src/util/index.js";
import {GroupCommit, rowParts, type BaselineDb, type MailboxRow, type RowParts} from "./baseline-server.js";

const WORKER_KIND = "pars-bench-second-loop";
const BODY_LIMIT_BYTES = 10 * 1024 * 1024;
/** A node ID's shape (64 hex); the value is irrelevant to the floor, but a client checks receipts against it. */
export const WIRE_NODE_ID = "d1bf8cc7c46b5dc162f9699dfc0680ea53eaa337dca8a71bb95d97cad118dc0e";
const NODE_ID = WIRE_NODE_ID;
const HF_JSON = "[19,4]";
/** The fee the node quotes for a new 642 B message with the default config (sent and signed per store). */
const FEE = {
  unit: "base",
  base_fee: "100000000000000",
  multiplier: 1,
  storage_fee: "100000000000000",
  session_create_fee: "1000000000000000",
  total: "1100000000000000",
};
const FEE_JSON = JSON.stringify(FEE);

export interface WireOptions {
  /** Answer with the node's signed ~5 KB body (a batch signature per group commit). */
  signed: boolean;
  /** 2: a second fastify loop on a worker thread, sharing the listening socket. */
  loops: 1 | 2;
  /**
   * false: the main thread serves no HTTP, only the group commit (and the signer); `loops` worker
   * threads accept on one socket. Default true: the main thread is one of the loops.
   */
  mainServes?: boolean;
}

/** The signature's and the proof's JSON texts for one store: what a signed answer embeds. */
interface SignedParts {
  signature: string;
  proof: string;
}

/** The node's store answer around one row's signed parts (the node's key order and field set). */
export function signedAnswer(hash: string, expiry: number, parts: SignedParts, storedAt: number, now: number): string {
  const entry = `{"hash":"${hash}","signature":${parts.signature},"signature_proof":${parts.proof},"expiry":${expiry},"fee":${FEE_JSON},"t":${storedAt}}`;
  return `{"swarm":{"${NODE_ID}":${entry}},"t":${now},"hf":${HF_JSON},"hash":"${hash}"}`;
}

/** The main thread's side: the one group commit, and the one batch signer when answers are signed. */
class Writer {
  private readonly group: GroupCommit;

  constructor(
    private readonly db: BaselineDb,
    private readonly signer: ResponseSigner | null,
  ) {
    this.group = new GroupCommit(db);
  }

  /** Commits the row; with a signer, signs its receipt in the commit's batch. */
  async store(r: RowParts): Promise<SignedParts | null> {
    await this.group.add({...r, owner: this.db.ownerId(r.account)});
    if (this.signer === null) return null;
    const signed = await this.signer.sign(storeReceipt({hash: r.hash, expiry: r.expiry, already: false, fee: FEE}));
    const parts = signedReceiptJson(signed);
    if (parts === undefined) throw new Error("the response signer gave no JSON parts");
    return parts;
  }
}

interface RpcBody {
  method?: string;
  params?: Parameters<typeof rowParts>[0];
}

/** The store route of every loop: `store` answers a row's result through `answer`. */
function storeRoute(app: FastifyInstance, store: (r: RowParts) => Promise<SignedParts | null>): void {
  app.post("/storage_rpc/v1", async (req, reply) => {
    const body = req.body as RpcBody;
    if (body.method !== "store") return reply.code(400).send({error: `unsupported method ${String(body.method)}`});
    const storedAt = Date.now();
    const row = rowParts(body.params ?? {});
    const parts = await store(row);
    if (parts === null) return {hash: row.hash};
    return reply.type("application/json").send(signedAnswer(row.hash, row.expiry, parts, storedAt, Date.now()));
  });
}

/** The fixed ML-DSA-65 key the signed variants sign with (a client verifies with its public half). */
export function wireSigningKey(): {publicKey: Uint8Array; secretKey: Uint8Array} {
  return ml_dsa65.keygen(new Uint8Array(32).fill(9));
}

/** ML-DSA-65 batch signing on the node's signing worker (liboqs when it loads), a fixed bench key. */
async function startSigner(): Promise<{signer: ResponseSigner; close: () => Promise<void>}> {
  const pq = await loadPqBackend("auto");
  const {secretKey} = wireSigningKey();
  const worker = await WorkerSigner.start(secretKey, {useLiboqs: pq.name === "liboqs"}, {fallback: new InlineSigner(pq, secretKey)});
  // The node's batch window (signing.maxBatchDelayMs, 2 ms): with none (0, a batch per group commit) the
  // first loaded runs spent 0.05-0.06 ms of signing thread per store against the node's 0.03-0.04
  // (smaller batches), which is not the node's floor.
  const signer = new ResponseSigner(defaultResponseSignerOptions, {signer: worker, nodeId: NODE_ID, clock: systemClock});
  return {
    signer,
    close: async () => {
      await signer.close();
      await worker.close();
    },
  };
}

/** Rows from the second loop: one message per worker turn, the data bytes in one transferred buffer. */
interface RowBatch {
  id: number;
  rows: Array<Omit<RowParts, "data"> & {offset: number; length: number}>;
  data: ArrayBuffer;
}

interface BatchAnswer {
  id: number;
  /**
   * Per row, in order: its proof's text and the index of its signature's text in `signatures`
   * (signed answers), null (plain), or an error text. A batch signature's ~4.4 KB text is cloned
   * once per message, not once per row.
   */
  results: Array<{proof: string; signature: number} | null | {error: string}>;
  signatures: string[];
}

type Listening = {listening: true; fd: number; url: string};

/**
 * Starts a loop on a worker thread, accepting on `fd` (null: on a new listening socket of its own)
 * and serving its rows through `writer`; resolves once it accepts, with the socket's fd and URL.
 */
async function startWorkerLoop(fd: number | null, writer: Writer): Promise<{worker: Worker} & Listening> {
  const worker = new Worker(new URL(import.meta.url), {workerData: {kind: WORKER_KIND, fd}});
  worker.on("message", (m: RowBatch | Listening) => {
    if ("listening" in m) return;
    void answerBatch(writer, m).then((a) => worker.postMessage(a));
  });
  const listening = await new Promise<Listening>((resolve, reject) => {
    worker.once("error", reject);
    worker.once("message", resolve);
  });
  // Referenced: with no server on the main thread, the loops are what keeps the process running.
  return {worker, ...listening};
}

async function answerBatch(writer: Writer, b: RowBatch): Promise<BatchAnswer> {
  const settled = await Promise.all(
    b.rows.map(({offset, length, ...r}) =>
      writer.store({...r, data: Buffer.from(b.data, offset, length)}).catch((err: unknown) => ({error: String(err)})),
    ),
  );
  const signatures: string[] = [];
  const results = settled.map((r) => {
    if (r === null || "error" in r) return r;
    let i = signatures.lastIndexOf(r.signature);
    if (i < 0) i = signatures.push(r.signature) - 1;
    return {proof: r.proof, signature: i};
  });
  return {id: b.id, results, signatures};
}

/** The worker side of the second loop: parses and hashes, then hands its rows to the main thread. */
async function runWorkerLoop(fd: number | null): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error("the second loop runs on a worker thread");
  type Settled = SignedParts | null | {error: string};
  let queue: Array<{row: RowParts; settle: (r: Settled) => void}> = [];
  const waiting = new Map<number, typeof queue>();
  let nextId = 1;
  const post = (): void => {
    const batch = queue;
    queue = [];
    const total = batch.reduce((n, q) => n + q.row.data.length, 0);
    // One fresh buffer (not the 8 KiB pool a small Buffer is a view of), transferred, not cloned.
    const data = Buffer.allocUnsafeSlow(total);
    let offset = 0;
    const rows = batch.map(({row: {data: bytes, ...r}}) => {
      bytes.copy(data, offset);
      offset += bytes.length;
      return {...r, offset: offset - bytes.length, length: bytes.length};
    });
    const id = nextId++;
    waiting.set(id, batch);
    port.postMessage({id, rows, data: data.buffer} satisfies RowBatch, [data.buffer]);
  };
  port.on("message", (a: BatchAnswer) => {
    const batch = waiting.get(a.id) ?? [];
    waiting.delete(a.id);
    batch.forEach((q, i) => {
      const r = i < a.results.length ? (a.results[i] as BatchAnswer["results"][number]) : {error: "no answer"};
      q.settle(r === null || "error" in r ? r : {proof: r.proof, signature: a.signatures[r.signature] ?? ""});
    });
  });
  const app = Fastify({logger: false, bodyLimit: BODY_LIMIT_BYTES});
  storeRoute(app, (row) =>
    new Promise<Settled>((settle) => {
      if (queue.length === 0) setImmediate(post);
      queue.push({row, settle});
    }).then((r) => {
      if (r !== null && "error" in r) throw new Error(r.error);
      return r;
    }),
  );
  let url: string;
  if (fd === null) {
    url = await app.listen({host: "127.0.0.1", port: 0});
  } else {
    await app.ready();
    await new Promise<void>((resolve) => app.server.listen({fd}, resolve));
    url = "";
  }
  port.postMessage({listening: true, fd: listeningFd(app), url} satisfies Listening);
}

/** The listening socket's descriptor (Linux; node has no public API for it). */
function listeningFd(app: FastifyInstance): number {
  const fd = (app.server as unknown as {_handle?: {fd?: number}})._handle?.fd;
  if (typeof fd !== "number" || fd < 0) throw new Error("the server's listening socket has no file descriptor here");
  return fd;
}

/**
 * Serves `store` on `app` (not yet listening) with the given wire options; returns what to close.
 * The caller listens after `ready` resolves; with two loops the second starts on the same socket.
 */
export async function serveWire(
  app: FastifyInstance,
  db: BaselineDb,
  opts: WireOptions,
): Promise<{url: string | null; afterListen: () => Promise<void>; close: () => Promise<void>}> {
  const signing = opts.signed ? await startSigner() : null;
  const writer = new Writer(db, signing?.signer ?? null);
  const loops: Worker[] = [];
  const close = async (): Promise<void> => {
    await Promise.all(loops.map((w) => w.terminate()));
    await signing?.close();
  };
  if (opts.mainServes === false) {
    // The main thread only writes (and signs): both loops are workers, alike in what else they do,
    // so neither is the busier one when the connections are accepted.
    const first = await startWorkerLoop(null, writer);
    loops.push(first.worker);
    for (let i = 1; i < opts.loops; i++) loops.push((await startWorkerLoop(first.fd, writer)).worker);
    return {url: first.url, afterListen: async () => {}, close};
  }
  storeRoute(app, (row) => writer.store(row));
  return {
    url: null,
    afterListen: async () => {
      for (let i = 1; i < opts.loops; i++) loops.push((await startWorkerLoop(listeningFd(app), writer)).worker);
    },
    close,
  };
}

/** A signed retrieve's params, as the bench's load client sends them (`05` accounts). */
export interface SignedRetrieveParams {
  pubkey?: string;
  pubkey_ed25519?: string;
  namespace?: number;
  timestamp?: number;
  signature?: string;
  last_hash?: string;
}

/** Session's window for a request timestamp (protocol/limits.ts SIGNATURE_TOLERANCE_MS). */
const TOLERANCE_MS = 60_000;
/** The node's default page when neither max_count nor max_size is given: 1/5 of the 7.8 MB limit. */
const PAGE_MAX_SIZE = 7_800_000 / 5;
const PAGE_MAX_COUNT = 100;
/** Session's per-message size estimate (the node's retrieve uses the same). */
const messageSize = (hash: string, bytes: number): number => 100 + hash.length + Math.floor((bytes * 4) / 3);
const SPKI_ED25519 = Buffer.from("302a300506032b6570032100", "hex");

/**
 * The signed retrieve of item 3's floor: every check the protocol asks of a signed `05` retrieve,
 * then the node's page and answer shape. `check` verifies the Ed25519 signature (inline or on a worker).
 */
export class SignedRetrieve {
  private readonly keys = new Map<string, KeyObject>();
  /** ed25519 hex → whether its X25519 form is the account's key, per account hex + ed hex. */
  private readonly edOk = new Map<string, boolean>();

  constructor(
    private readonly db: BaselineDb,
    private readonly verifier: {ed25519(key: Uint8Array, message: Uint8Array, signature: Uint8Array): Promise<boolean>} | null,
    private readonly hf: readonly [number, number] = [19, 4],
  ) {}

  /** 200 and the node's body, or an error status and text (the node's statuses). */
  async answer(p: SignedRetrieveParams, now = Date.now()): Promise<{status: number; body: unknown}> {
    const account = String(p.pubkey);
    const edHex = String(p.pubkey_ed25519);
    const ts = Number(p.timestamp);
    if (!account.startsWith("05") || account.length !== 66 || edHex.length !== 64) return {status: 400, body: "bad keys"};
    if (Math.abs(ts - now) > TOLERANCE_MS) return {status: 406, body: "retrieve timestamp too far from current time"};
    const namespace = p.namespace ?? 0;
    const message = Buffer.from(`retrieve${namespace === 0 ? "" : namespace}${ts}`);
    const signature = Buffer.from(String(p.signature), "base64");
    const ok = this.edMatches(account, edHex) && signature.length === 64 && (await this.check(edHex, message, signature));
    if (!ok) return {status: 401, body: "retrieve signature verification failed"};
    return {status: 200, body: this.page(account, namespace, p.last_hash, now)};
  }

  private edMatches(account: string, edHex: string): boolean {
    const id = account + edHex;
    let ok = this.edOk.get(id);
    if (ok === undefined) {
      try {
        ok = Buffer.from(ed25519.utils.toMontgomery(Buffer.from(edHex, "hex"))).toString("hex") === account.slice(2);
      } catch {
        ok = false;
      }
      this.edOk.set(id, ok);
    }
    return ok;
  }

  private check(edHex: string, message: Buffer, signature: Buffer): Promise<boolean> | boolean {
    if (this.verifier !== null) return this.verifier.ed25519(Buffer.from(edHex, "hex"), message, signature);
    let key = this.keys.get(edHex);
    if (key === undefined) {
      key = createPublicKey({key: Buffer.concat([SPKI_ED25519, Buffer.from(edHex, "hex")]), format: "der", type: "spki"});
      this.keys.set(edHex, key);
    }
    return verify(null, message, key, signature);
  }

  /** The node's page: unexpired rows after `lastHash`, count and size limits, one row past for `more`. */
  private page(account: string, namespace: number, lastHash: string | undefined, now: number): unknown {
    const owner = this.db.ownerId(account);
    const rows: MailboxRow[] = this.db.page(owner, namespace, lastHash, now, PAGE_MAX_COUNT + 1);
    const messages: Array<{hash: string; timestamp: number; expiration: number; data: string}> = [];
    let size = 0;
    let more = false;
    for (const r of rows) {
      const n = messageSize(r.hash, r.data.length);
      if (messages.length === PAGE_MAX_COUNT || (messages.length > 0 && size + n > PAGE_MAX_SIZE)) {
        more = true;
        break;
      }
      size += n;
      messages.push({hash: r.hash, timestamp: r.timestamp, expiration: r.expiry, data: r.data.toString("base64")});
    }
    return {messages, more, t: now, hf: this.hf};
  }
}

/** Ed25519 request checks on the node's signing worker (as the node makes them), or inline. */
export async function startVerifier(onWorker: boolean): Promise<{verifier: WorkerSigner | null; close: () => Promise<void>}> {
  if (!onWorker) return {verifier: null, close: async () => {}};
  const pq = await loadPqBackend("auto");
  const {secretKey} = wireSigningKey();
  const worker = await WorkerSigner.start(secretKey, {useLiboqs: pq.name === "liboqs"}, {fallback: new InlineSigner(pq, secretKey)});
  return {verifier: worker, close: () => worker.close()};
}

if (!isMainThread && (workerData as {kind?: unknown} | null)?.kind === WORKER_KIND) {
  await runWorkerLoop((workerData as {fd: number | null}).fd);
}
