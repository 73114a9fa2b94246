/**
 * Baseline servers for the HTTP benchmark, each a child process like the node itself:
 *
 *   node dist/bench/baseline-server.js echo
 *   node dist/bench/baseline-server.js sqlite-group <db-dir>
 *   node dist/bench/baseline-server.js sqlite-each  <db-dir>
 *   node dist/bench/baseline-server.js sqlite-signed | sqlite-loops | sqlite-signed-loops <db-dir>
 *   node dist/bench/baseline-server.js sqlite-workers | sqlite-signed-workers <db-dir>
 *
 * `echo` answers POST /storage_rpc/v1 with the parsed JSON body: the HTTP + JSON ceiling.
 * `sqlite-*` serve `store` (parse, base64-decode, node sha256, one INSERT into the node's migrated
 * `messages` schema, small JSON reply) and `retrieve` (the mailbox's first 100 messages, no auth),
 * with no validation, no signatures and no response signing. `sqlite-group` commits once per
 * event-loop turn and replies after COMMIT, as the node's WriteBatcher does; `sqlite-each` runs one
 * autocommit INSERT per request. `sqlite-signed`, `sqlite-loops` and `sqlite-signed-loops` are
 * `sqlite-group` with the node's signed answer, on two event loops, or both; `sqlite-workers` and
 * `sqlite-signed-workers` serve on two worker threads' loops while the main thread only writes
 * (`baseline-wire.ts`; store only). `sqlite-verify` and `sqlite-verify-worker` are `sqlite-group`
 * whose retrieve is signed and checked as the protocol mandates and answers the node's body
 * (`baseline-wire.ts`' SignedRetrieve: issue #15 item 3's floor). Prints `listening on <url>` and exits cleanly on SIGTERM.
 */
import {createHash} from "node:crypto";
import {join} from "node:path";
import {pathToFileURL} from "node:url";
import {isMainThread} from "node:worker_threads";
import type {Statement, Transaction} from "better-sqlite3";
import Fastify, {type FastifyInstance} from "fastify";
import {StorageDb} from "../src/storage/db.js";
import {serveWire, SignedRetrieve, startVerifier, type SignedRetrieveParams, type WireOptions} from "./baseline-wire.js";

export type BaselineKind = "echo" | "sqlite-group" | "sqlite-each" | WireKind | VerifyKind;
/** Signed retrieves (item 3's floor): the Ed25519 check inline, or on the node's signing worker. */
type VerifyKind = "sqlite-verify" | "sqlite-verify-worker";
type WireKind = "sqlite-signed" | "sqlite-loops" | "sqlite-signed-loops" | "sqlite-workers" | "sqlite-signed-workers";
const WIRE_KINDS: Record<WireKind, WireOptions> = {
  "sqlite-signed": {signed: true, loops: 1},
  "sqlite-loops": {signed: false, loops: 2},
  "sqlite-signed-loops": {signed: true, loops: 2},
  "sqlite-workers": {signed: false, loops: 2, mainServes: false},
  "sqlite-signed-workers": {signed: true, loops: 2, mainServes: false},
};
const KINDS: readonly string[] = ["echo", "sqlite-group", "sqlite-each", ...Object.keys(WIRE_KINDS), "sqlite-verify", "sqlite-verify-worker"];

interface Row {
  owner: number;
  hash: string;
  namespace: number;
  timestamp: number;
  expiry: number;
  data: Buffer;
}

export interface MailboxRow {
  hash: string;
  timestamp: number;
  expiry: number;
  data: Buffer;
}

interface RpcBody {
  method?: string;
  params?: {pubkey?: string; namespace?: number; timestamp?: number; ttl?: number; data?: string} & SignedRetrieveParams;
}

const BODY_LIMIT_BYTES = 10 * 1024 * 1024;
const HARD_LIMIT_BYTES = 64 * 1024 ** 3;
const RETRIEVE_LIMIT = 100;

/** The SQL of the baseline: owner upsert, message insert and the mailbox read, on the node's schema. */
export class BaselineDb {
  private readonly owners = new Map<string, number>();
  private readonly insertOwner: Statement<[number, Buffer]>;
  private readonly selectOwner: Statement<[number, Buffer], {id: number}>;
  private readonly insertMessage: Statement<[string, number, number, number, number, Buffer]>;
  private readonly selectMailbox: Statement<[number, number, number], MailboxRow>;
  private readonly selectPage: Statement<[number, number, number, number, number], MailboxRow>;
  private readonly selectId: Statement<[string, number, number], {id: number}>;

  constructor(readonly db: StorageDb) {
    const sql = db.sqlite;
    this.insertOwner = sql.prepare("INSERT INTO owners (type, pubkey) VALUES (?, ?) ON CONFLICT DO NOTHING");
    this.selectOwner = sql.prepare("SELECT id FROM owners WHERE type = ? AND pubkey = ?");
    this.insertMessage = sql.prepare(
      "INSERT INTO messages (hash, owner, namespace, timestamp, expiry, data) VALUES (?, ?, ?, ?, ?, ?)",
    );
    this.selectMailbox = sql.prepare(
      "SELECT hash, timestamp, expiry, data FROM messages WHERE owner = ? AND namespace = ? ORDER BY id LIMIT ?",
    );
    // The node's page query (statements.ts retrievePage) and last_hash lookup.
    this.selectPage = sql.prepare(
      "SELECT hash, timestamp, expiry, data FROM messages WHERE owner = ? AND namespace = ? AND id > ? AND expiry > ? ORDER BY id LIMIT ?",
    );
    this.selectId = sql.prepare("SELECT id FROM messages WHERE hash = ? AND owner = ? AND namespace = ?");
  }

  /** The owner row id of a 66-hex account, created on first sight. */
  ownerId(account: string): number {
    let id = this.owners.get(account);
    if (id === undefined) {
      const bytes = Buffer.from(account, "hex");
      const type = bytes[0] ?? 0;
      this.insertOwner.run(type, bytes.subarray(1));
      id = (this.selectOwner.get(type, bytes.subarray(1)) as {id: number}).id;
      this.owners.set(account, id);
    }
    return id;
  }

  insert(r: Row): void {
    this.insertMessage.run(r.hash, r.owner, r.namespace, r.timestamp, r.expiry, r.data);
  }

  mailbox(owner: number, namespace: number): MailboxRow[] {
    return this.selectMailbox.all(owner, namespace, RETRIEVE_LIMIT);
  }

  /** The node's page: up to `limit` unexpired rows after `afterHash`'s (0: from the start). */
  page(owner: number, namespace: number, afterHash: string | undefined, now: number, limit: number): MailboxRow[] {
    const after = afterHash === undefined || afterHash === "" ? 0 : (this.selectId.get(afterHash, owner, namespace)?.id ?? 0);
    return this.selectPage.all(owner, namespace, after, now, limit);
  }
}

function transactionOf(db: BaselineDb): Transaction<(rows: Row[]) => void> {
  return db.db.sqlite.transaction((rows: Row[]) => {
    for (const r of rows) db.insert(r);
  });
}

/** One transaction per event-loop turn; every promise settles after its COMMIT. */
export class GroupCommit {
  private queue: Array<{row: Row; done: (err: Error | null) => void}> = [];
  private scheduled = false;
  private readonly commit: Transaction<(rows: Row[]) => void>;

  constructor(db: BaselineDb) {
    this.commit = transactionOf(db);
  }

  add(row: Row): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({row, done: (err) => (err === null ? resolve() : reject(err))});
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    this.queue = [];
    let error: Error | null = null;
    try {
      this.commit.immediate(batch.map((b) => b.row));
    } catch (err) {
      error = err instanceof Error ? err : new Error(String(err));
    }
    for (const b of batch) b.done(error);
  }
}

/** A row before its owner's id: what a thread without the database can compute. */
export type RowParts = Omit<Row, "owner"> & {account: string};

/** The baseline's row for a store body's params, but the owner's id (the account instead). */
export function rowParts(p: NonNullable<RpcBody["params"]>): RowParts {
  const account = String(p.pubkey);
  const data = Buffer.from(String(p.data), "base64");
  const hash = createHash("sha256").update(Buffer.from(account, "hex")).update(data).digest("base64");
  const timestamp = Number(p.timestamp);
  const expiry = timestamp + Number(p.ttl);
  const namespace = p.namespace ?? 0;
  return {account, hash: hash.replace(/=+$/, ""), namespace, timestamp, expiry, data};
}

/** The baseline's row for a store body's params (also measured in process by `store-cpu.ts`). */
export function toRow(db: BaselineDb, p: NonNullable<RpcBody["params"]>): Row {
  const {account, ...row} = rowParts(p);
  return {owner: db.ownerId(account), ...row};
}

/** The baseline's retrieve answer (before JSON), also measured in process by `retrieve-cpu.ts`. */
export function baselineRetrieve(db: BaselineDb, p: NonNullable<RpcBody["params"]>): unknown {
  const rows = db.mailbox(db.ownerId(String(p.pubkey)), p.namespace ?? 0);
  const messages = rows.map((r) => ({
    hash: r.hash,
    timestamp: r.timestamp,
    expiration: r.expiry,
    data: r.data.toString("base64"),
  }));
  return {messages, more: false};
}

function sqliteApp(app: FastifyInstance, db: BaselineDb, group: boolean, signed: SignedRetrieve | null = null): void {
  const batcher = group ? new GroupCommit(db) : null;
  app.post("/storage_rpc/v1", async (req, reply) => {
    const body = req.body as RpcBody;
    const params = body.params ?? {};
    if (body.method === "retrieve" && signed !== null) {
      const {status, body: answer} = await signed.answer(params);
      return status === 200 ? answer : reply.code(status).send(answer);
    }
    if (body.method === "retrieve") return baselineRetrieve(db, params);
    if (body.method !== "store") return reply.code(400).send({error: `unsupported method ${String(body.method)}`});
    const row = toRow(db, params);
    if (batcher !== null) await batcher.add(row);
    else db.insert(row);
    return {hash: row.hash};
  });
}

async function main(kind: BaselineKind, dir: string | undefined): Promise<void> {
  const app = Fastify({logger: false, bodyLimit: BODY_LIMIT_BYTES});
  let db: StorageDb | null = null;
  let wire: Awaited<ReturnType<typeof serveWire>> | null = null;
  let verifier: Awaited<ReturnType<typeof startVerifier>> | null = null;
  if (kind === "echo") {
    app.post("/storage_rpc/v1", (req, reply) => reply.send(req.body));
  } else {
    if (dir === undefined) throw new Error(`${kind} needs a database directory`);
    // The node's own schema, pragmas (WAL, synchronous=NORMAL) and migrations.
    const path = join(dir, "baseline.db");
    const limits = {busyTimeoutMs: 5_000, hardLimitBytes: HARD_LIMIT_BYTES};
    db = StorageDb.open({path, synchronous: "normal", ...limits, migrationsDir: null}, Date.now());
    if (kind in WIRE_KINDS) wire = await serveWire(app, new BaselineDb(db), WIRE_KINDS[kind as WireKind]);
    else if (kind === "sqlite-verify" || kind === "sqlite-verify-worker") {
      verifier = await startVerifier(kind === "sqlite-verify-worker");
      const base = new BaselineDb(db);
      sqliteApp(app, base, true, new SignedRetrieve(base, verifier.verifier));
    } else sqliteApp(app, new BaselineDb(db), kind === "sqlite-group");
  }
  const url = wire?.url ?? (await app.listen({host: "127.0.0.1", port: 0}));
  await wire?.afterListen();
  process.stdout.write(`${kind} listening on ${url}\n`);
  process.once("SIGTERM", () => {
    void app.close().then(async () => {
      await wire?.close();
      await verifier?.close();
      db?.close();
      process.exit(0);
    });
  });
}

// Not on baseline-wire.ts' second loop, a worker thread of this process (same argv) importing this module.
if (isMainThread && process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const kind = process.argv[2];
  if (kind === undefined || !KINDS.includes(kind)) {
    throw new Error(`usage: baseline-server.js echo | ${KINDS.slice(1).join(" | ")} <dir> (got ${String(kind)})`);
  }
  await main(kind as BaselineKind, process.argv[3]);
}
