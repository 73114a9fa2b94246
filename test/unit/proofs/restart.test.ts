/**
 * The persisted commitment (src/proofs/persisted.ts, migration 0008): a node that stops without a
 * clean shutdown starts again from what it wrote, reads again only what changed since (the change
 * log), rebuilds buckets whose stored record is damaged or newer than the header, and its answers
 * pass the challenger's verdict.
 */
import {createHash} from "node:crypto";
import {afterEach, beforeAll, describe, expect, it, vi} from "vitest";
import {BUCKET_COUNT, LocalEngine, ProofService, bucketOf, challengeToJson, committedLeaf, decodeMessageHash, judge, signChallenge, type SwarmContext} from "../../../src/proofs/index.js";
import {dataDigest} from "../../../src/proofs/leaf.js";
import type {CommitmentPersistence} from "../../../src/proofs/persisted.js";
import {CommitmentStore} from "../../../src/storage/index.js";
import type {StoredMessage} from "../../../src/storage/interface.js";
import {build, FULL, HOUR_MS, message, party, persistenceOf, proofStore, silent, T0, type Party, type ProofStore} from "./helpers.js";
import {testPq} from "../../utils/rpc-harness.js";

beforeAll(async () => {
  await testPq();
});

const cleanup: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

interface Node {
  s: ProofStore;
  target: Party;
  challenger: Party;
}

async function setup(): Promise<Node> {
  const s = await proofStore();
  cleanup.push(() => s.store.close());
  return {s, target: await party("restart-target"), challenger: await party("restart-challenger")};
}

/**
 * Per service `start` made: its engine (an epoch waits for its write) and the epoch its start timer
 * began, once it has (`epoch` joins it rather than run another beside it).
 */
const started = new WeakMap<ProofService, {engine: LocalEngine; first: Promise<unknown> | null; joined: boolean}>();

/**
 * A ProofService over the node's database, as a process start makes one. It is never closed: the
 * next one starts beside it as after a kill (its engine and tracker are simply abandoned).
 */
function start(n: Node, store: CommitmentPersistence = new CommitmentStore(n.s.store.db.sqlite), engine = new LocalEngine(n.s.tables.reader, {sliceBudgetMs: 1_000, store})): ProofService {
  const swarm: SwarmContext = {
    ourSwarm: () => 3,
    peers: () => [],
    memberKeys: (id) => (id === n.challenger.identity.nodeId ? n.challenger.keys : null),
  };
  const service = new ProofService(
    {challengeIntervalMs: 0},
    {tables: n.s.tables, engine, events: n.s.store, signer: n.target.signer, pq: n.s.pq, self: {nodeId: n.target.identity.nodeId, keys: n.target.keys}, swarm, transport: {sendChallenge: () => Promise.reject(new Error("none")), sendProof: () => Promise.resolve()}, clock: n.s.clock, logger: silent},
  );
  const entry: {engine: LocalEngine; first: Promise<unknown> | null; joined: boolean} = {engine, first: null, joined: false};
  const refresh = engine.refresh.bind(engine);
  engine.refresh = (req) => {
    // A microtask later the epoch calling this is the service's running one, which runEpoch joins.
    if (entry.first === null) {
      queueMicrotask(() => {
        entry.first ??= service.runEpoch();
      });
    }
    return refresh(req);
  };
  started.set(service, entry);
  service.start();
  cleanup.push(() => service.close());
  return service;
}

/** An epoch of `service` at `at`, and the write of its commitment (which follows the refresh). */
async function epoch(n: Node, service: ProofService, at: number): Promise<void> {
  n.s.clock.set(at);
  const entry = started.get(service)!;
  // A new service's first epoch starts on its start timer: this one is that epoch, at `at`.
  let run: Promise<unknown>;
  if (!entry.joined) {
    entry.joined = true;
    await vi.waitFor(() => expect(entry.first).not.toBeNull(), {interval: 1});
    run = entry.first!;
  } else {
    run = service.runEpoch();
  }
  expect(await run).not.toBeNull();
  await entry.engine.flushed();
}

/**
 * The real store, with `putBuckets` failing on the calls numbered in `failing` (1-based, counted
 * across writes): a process killed mid-write, or a write that failed. `calls` counts every call.
 */
function failingStore(n: Node, failing: readonly number[]): CommitmentPersistence & {calls: number} {
  const real = new CommitmentStore(n.s.store.db.sqlite);
  const store = {
    calls: 0,
    ...persistenceOf(real, {
      putBuckets: (g, rows) => {
        store.calls++;
        if (failing.includes(store.calls)) throw new Error("killed");
        real.putBuckets(g, rows);
      },
    }),
  };
  return store;
}

/** The challenger's verdict on `service`'s answer for `m`. */
async function verdictFor(n: Node, service: ProofService, m: StoredMessage, committedBy: number) {
  const challenge = await signChallenge({challengerId: n.challenger.identity.nodeId, targetId: n.target.identity.nodeId, messageHash: m.hash, nonce: Buffer.alloc(32, 9)}, n.challenger.signer);
  const answer = await service.answer({challenge: challengeToJson(challenge)});
  return judge({challenge, challengerKeys: n.challenger.keys, targetKeys: n.target.keys, answer, message: m, observed: null, committedBy, rules: service.rules}, n.s.pq);
}

const bucketOfMessage = (m: StoredMessage): number => bucketOf(decodeMessageHash(m.hash)!);

/** Flips one bit of bucket `b`'s stored record at byte `at` (its digest left as it was). */
function damageRecord(n: Node, b: number, at: number): void {
  const db = n.s.store.db.sqlite;
  const record = db.prepare("SELECT record FROM proof_buckets WHERE bucket = ?").pluck().get(b) as Buffer;
  record[at] = record[at]! ^ 1;
  db.prepare("UPDATE proof_buckets SET record = ? WHERE bucket = ?").run(record, b);
}

/** Flips one bit at byte `at` (< 48) of bucket `b`'s stored head (migration 0013), its record left as it was. */
function damageHead(n: Node, b: number, at: number): void {
  const db = n.s.store.db.sqlite;
  const head = db.prepare("SELECT head FROM proof_bucket_heads WHERE bucket = ?").pluck().get(b) as Buffer;
  head[at] = head[at]! ^ 1;
  db.prepare("UPDATE proof_bucket_heads SET head = ? WHERE bucket = ?").run(head, b);
}

const rowCount = (n: Node, sql: string): number => n.s.store.db.sqlite.prepare(sql).pluck().get() as number;

describe("persisted commitment", () => {
  it("an engine that must load the persisted commitment reads the logged changes earlier requests carried (logFrom) from its header's watermark", async () => {
    const n = await setup();
    const store = new CommitmentStore(n.s.store.db.sqlite);
    const later = (ms: StoredMessage[]): StoredMessage[] => ms.map((m) => ({...m, expiry: T0 + 30 * HOUR_MS}));
    await n.s.store.storeBulk(later(Array.from({length: 30}, (_, i) => message(i))));
    const first = new LocalEngine(n.s.tables.reader, {sliceBudgetMs: 1_000, store});
    await first.refresh({timestamp: T0, changed: null, logWatermark: n.s.tables.changeLog(1_000_000).watermark});
    expect(await first.flushed()).toBe(true);
    // Changes an earlier refresh took (up to `taken`) whose write never landed, then new ones.
    await n.s.store.storeBulk(later(Array.from({length: 10}, (_, i) => message(100 + i))));
    const taken = n.s.tables.changeLog(1_000_000).watermark;
    await n.s.store.storeBulk(later(Array.from({length: 5}, (_, i) => message(200 + i))));
    const log = n.s.tables.changeLog(1_000_000, taken);
    const fresh = log.hashes!;
    expect(fresh).toHaveLength(5);
    const loading = new LocalEngine(n.s.tables.reader, {sliceBudgetMs: 1_000, store});
    const s = await loading.refresh({timestamp: T0 + 1000, changed: fresh, logWatermark: log.watermark, logFrom: taken});
    expect(s).toMatchObject({messageCount: 45, loadedMs: expect.any(Number) as number});
    expect(s!.loadedMs).toBeGreaterThan(0);
    expect(s!.root.equals((await build(n.s.tables, null, FULL, T0 + 1000)).root)).toBe(true);
    await loading.close();
    await first.close();
  });

  it("a restart without a clean shutdown refreshes from the persisted commitment and the log, to the root a full build gives", async () => {
    const n = await setup();
    const messages = Array.from({length: 60}, (_, i) => message(i, {expiry: T0 + 30 * HOUR_MS}));
    await n.s.store.storeBulk(messages.slice(0, 40));
    const first = start(n);
    await epoch(n, first, T0);
    expect(first.lastRefresh).toMatchObject({rebuilt: BUCKET_COUNT});
    expect(rowCount(n, "SELECT count(*) FROM proof_buckets")).toBeGreaterThan(0);
    expect(rowCount(n, "SELECT count(*) FROM proof_change_log")).toBe(0);

    // Changes after the last persisted refresh live only in the change log when the process dies.
    await n.s.store.storeBulk(messages.slice(40));
    await n.s.store.deleteByHashes(messages[0]!.account, [messages[0]!.hash]);
    n.s.store.db.sqlite.prepare("UPDATE messages SET expiry = expiry + 1 WHERE hash = ?").run(messages[5]!.hash);
    expect(rowCount(n, "SELECT count(*) FROM proof_change_log")).toBeGreaterThanOrEqual(22);

    const second = start(n);
    await epoch(n, second, T0 + 1_000);
    const full = await build(n.s.tables, null, FULL, T0 + 1_000);
    expect(second.commitment!.root.equals(full.root)).toBe(true);
    expect(second.commitment!.messageCount).toBe(59);
    expect(second.commitment!.loadedMs).toBeGreaterThan(0);
    expect(second.lastRefresh!.rebuilt).toBeLessThan(30);
    expect(rowCount(n, "SELECT count(*) FROM proof_change_log")).toBe(0);
    // A message stored after the persisted refresh, and one from before it, both pass.
    expect(await verdictFor(n, second, messages[50]!, T0 + 1_000)).toEqual({outcome: "pass"});
    expect(await verdictFor(n, second, messages[7]!, T0 + 1_000)).toEqual({outcome: "pass"});
  });

  it("a stored bucket whose record or digest was damaged is found when first used, answered from the messages, and read again by the next refresh", async () => {
    const n = await setup();
    const messages = Array.from({length: 40}, (_, i) => message(i, {expiry: T0 + 30 * HOUR_MS}));
    await n.s.store.storeBulk(messages);
    await epoch(n, start(n), T0);
    const db = n.s.store.db.sqlite;
    // A flipped byte in a leaf of one record, and a digest zeroed in another: their heads (root,
    // smallest expiry, bytes) still match the header's digest, so the load checks them lazily.
    const [a, b] = [bucketOfMessage(messages[3]!), bucketOfMessage(messages[4]!)];
    expect(a).not.toBe(b);
    damageRecord(n, a, 60);
    db.prepare("UPDATE proof_buckets SET digest = zeroblob(32) WHERE bucket = ?").run(b);

    const again = start(n);
    await epoch(n, again, T0 + 1_000);
    expect(again.lastRefresh).toMatchObject({reread: 0, rebuilt: 0});
    expect(again.commitment!.root.equals((await build(n.s.tables, null, FULL, T0 + 1_000)).root)).toBe(true);
    // The answer checks the record first and, finding it damaged, reads the bucket again.
    expect(await verdictFor(n, again, messages[3]!, T0 + 1_000)).toEqual({outcome: "pass"});
    expect(await verdictFor(n, again, messages[4]!, T0 + 1_000)).toEqual({outcome: "pass"});
    await epoch(n, again, T0 + 2_000);
    expect(again.lastRefresh).toMatchObject({reread: 2, rebuilt: 2});
    expect(again.commitment!.root.equals((await build(n.s.tables, null, FULL, T0 + 2_000)).root)).toBe(true);
  });

  it("a damaged record whose bucket changed since is answered 503 for that bucket only, and read again by the next refresh", async () => {
    const n = await setup();
    const messages = Array.from({length: 40}, (_, i) => message(i, {expiry: T0 + 30 * HOUR_MS}));
    await n.s.store.storeBulk(messages);
    await epoch(n, start(n), T0);
    const a = bucketOfMessage(messages[3]!);
    damageRecord(n, a, 60);

    // The bucket as read now no longer gives the committed root (as when a message of it changed
    // since the proof): the damaged record cannot be replaced until the next refresh.
    const reads = vi.spyOn(n.s.tables.reader, "rowsInRange").mockReturnValue([]);
    const engine = new LocalEngine(n.s.tables.reader, {sliceBudgetMs: 1_000, store: new CommitmentStore(n.s.store.db.sqlite)});
    const again = start(n, undefined, engine);
    await epoch(n, again, T0 + 1_000);
    expect(again.lastRefresh).toMatchObject({reread: 0, rebuilt: 0});
    const challenge = await signChallenge({challengerId: n.challenger.identity.nodeId, targetId: n.target.identity.nodeId, messageHash: messages[3]!.hash, nonce: Buffer.alloc(32, 9)}, n.challenger.signer);
    await expect(again.answer({challenge: challengeToJson(challenge)})).rejects.toMatchObject({code: "PROOF_ERROR_NOT_READY"});
    // The answer read the record from disk, found it damaged and tried the messages.
    expect(reads).toHaveBeenCalled();
    const other = messages.find((m) => bucketOfMessage(m) !== a)!;
    expect(await verdictFor(n, again, other, T0 + 1_000)).toEqual({outcome: "pass"});
    reads.mockRestore();

    await epoch(n, again, T0 + 2_000);
    expect(again.lastRefresh).toMatchObject({reread: 1, rebuilt: 1});
    expect(again.commitment!.root.equals((await build(n.s.tables, null, FULL, T0 + 2_000)).root)).toBe(true);
    expect(await verdictFor(n, again, messages[3]!, T0 + 2_000)).toEqual({outcome: "pass"});
  });

  it("a damaged record head (root, expiry or bytes) fails the heads' digest: every record is checked at load and the damaged one read again", async () => {
    const n = await setup();
    const messages = Array.from({length: 40}, (_, i) => message(i, {expiry: T0 + 30 * HOUR_MS}));
    await n.s.store.storeBulk(messages);
    await epoch(n, start(n), T0);
    const [a, b] = [bucketOfMessage(messages[3]!), bucketOfMessage(messages[4]!)];
    damageHead(n, a, 40); // its byte total
    damageRecord(n, b, 60); // a leaf: found by the same full check

    const again = start(n);
    await epoch(n, again, T0 + 1_000);
    expect(again.lastRefresh).toMatchObject({reread: 2, rebuilt: 2});
    expect(again.commitment!.root.equals((await build(n.s.tables, null, FULL, T0 + 1_000)).root)).toBe(true);
    expect(await verdictFor(n, again, messages[3]!, T0 + 1_000)).toEqual({outcome: "pass"});
  });

  it("a crash between the bucket rows and the header: rows newer than the header are rebuilt, the rest is loaded", async () => {
    const n = await setup();
    const messages = Array.from({length: 50}, (_, i) => message(i, {expiry: T0 + 30 * HOUR_MS}));
    await n.s.store.storeBulk(messages.slice(0, 40));
    await epoch(n, start(n), T0);
    await n.s.store.storeBulk(messages.slice(40));

    // The next refresh writes its bucket rows, then dies before the header moves.
    const real = new CommitmentStore(n.s.store.db.sqlite);
    const dying = persistenceOf(real, {
      commit: () => {
        throw new Error("killed");
      },
    });
    await epoch(n, start(n, dying), T0 + 1_000);
    const header = real.header()!;
    expect(header.timestamp).toBe(T0);
    const stale = rowCount(n, `SELECT count(*) FROM proof_buckets WHERE generation > ${header.generation}`);
    expect(stale).toBeGreaterThanOrEqual(1);
    expect(rowCount(n, "SELECT count(*) FROM proof_change_log")).toBe(10);

    const again = start(n);
    await epoch(n, again, T0 + 2_000);
    expect(again.lastRefresh!.reread).toBe(stale);
    expect(again.lastRefresh!.rebuilt).toBeLessThan(BUCKET_COUNT);
    expect(again.commitment!.root.equals((await build(n.s.tables, null, FULL, T0 + 2_000)).root)).toBe(true);
    expect(await verdictFor(n, again, messages[45]!, T0 + 2_000)).toEqual({outcome: "pass"});
    // The next write takes a generation above the cut-short one, so no stale row passes for current.
    expect(real.header()!.generation).toBeGreaterThan(header.generation + 1);
  });

  it("the top tree is persisted as pages of the header's generation; a damaged or cut-short page set is hashed again from the buckets, not a full build", async () => {
    const n = await setup();
    const messages = Array.from({length: 60}, (_, i) => message(i, {expiry: T0 + 30 * HOUR_MS}));
    await n.s.store.storeBulk(messages.slice(0, 50));
    const first = start(n);
    await epoch(n, first, T0);
    const real = new CommitmentStore(n.s.store.db.sqlite);
    const header = real.header()!;
    // Migration 0012: the header keeps no tree; 64 pages of 64 KB hold its 4 MB, all of its generation.
    expect(header.top.length).toBe(0);
    const pages = real.topPages();
    expect(pages.length).toBe(64);
    expect(pages.every((p, i) => p.page === i && p.generation === header.generation)).toBe(true);

    // A restart loads the tree from the pages: nothing read again, nothing rebuilt but the changes.
    await n.s.store.storeBulk(messages.slice(50, 52));
    const loaded = start(n);
    await epoch(n, loaded, T0 + 1_000);
    expect(loaded.lastRefresh!.reread).toBe(0);
    expect(loaded.lastRefresh!.rebuilt).toBeLessThanOrEqual(2);
    // Stopped, so that no refresh of theirs writes the pages again after the damage below.
    await first.close();
    await loaded.close();

    // A damaged page: the tree no longer gives the header's root, so it is hashed again from the
    // loaded buckets, which do give it; the load is used (no full build) and proofs stay right.
    n.s.store.db.sqlite.prepare("UPDATE proof_top_pages SET bytes = zeroblob(length(bytes)) WHERE page = 3").run();
    // A page of another generation (a write cut short) is refused the same way.
    n.s.store.db.sqlite.prepare("UPDATE proof_top_pages SET generation = generation + 7 WHERE page = 10").run();
    await n.s.store.storeBulk(messages.slice(52));
    const again = start(n);
    await epoch(n, again, T0 + 2_000);
    expect(again.lastRefresh!.reread).toBe(0);
    expect(again.lastRefresh!.rebuilt).toBeLessThanOrEqual(8);
    expect(again.commitment!.root.equals((await build(n.s.tables, null, FULL, T0 + 2_000)).root)).toBe(true);
    expect(await verdictFor(n, again, messages[55]!, T0 + 2_000)).toEqual({outcome: "pass"});
    expect(real.topPages().every((p) => p.generation === real.header()!.generation)).toBe(true);
  });
  it("a refresh returns, and its proof is published, before its records are written; a kill mid-write restarts from the previous commitment and the untrimmed log, to a full build's root", async () => {
    const n = await setup();
    const messages = Array.from({length: 600}, (_, i) => message(i, {expiry: T0 + 30 * HOUR_MS}));
    await n.s.store.storeBulk(messages.slice(0, 300));
    await epoch(n, start(n), T0);
    const real = new CommitmentStore(n.s.store.db.sqlite);
    const before = real.header()!;
    await n.s.store.storeBulk(messages.slice(300));

    // Killed after the first batch of rows (128 of ~300 rebuilt buckets) is on disk.
    const dying = failingStore(n, [2]);
    const engine = new LocalEngine(n.s.tables.reader, {sliceBudgetMs: 1_000, store: dying});
    const refresh = engine.refresh.bind(engine);
    let callsAtReturn = -1;
    vi.spyOn(engine, "refresh").mockImplementation(async (req) => {
      const summary = await refresh(req);
      callsAtReturn = dying.calls;
      return summary;
    });
    const service = start(n, dying, engine);
    n.s.clock.set(T0 + 1_000);
    expect(await service.runEpoch()).not.toBeNull();
    expect(callsAtReturn).toBe(0);
    // Answers come from the new commitment whatever the disk holds.
    expect(service.commitment!.timestamp).toBe(T0 + 1_000);
    expect(await verdictFor(n, service, messages[450]!, T0 + 1_000)).toEqual({outcome: "pass"});
    expect(await engine.flushed()).toBe(false);
    expect(real.header()!.generation).toBe(before.generation);
    const stale = rowCount(n, `SELECT count(*) FROM proof_buckets WHERE generation > ${before.generation}`);
    expect(stale).toBe(128);
    expect(rowCount(n, "SELECT count(*) FROM proof_change_log")).toBe(300);

    const again = start(n);
    await epoch(n, again, T0 + 2_000);
    expect(again.commitment!.loadedMs).toBeGreaterThan(0);
    expect(again.lastRefresh!.reread).toBe(stale);
    expect(again.commitment!.root.equals((await build(n.s.tables, null, FULL, T0 + 2_000)).root)).toBe(true);
    expect(await verdictFor(n, again, messages[450]!, T0 + 2_000)).toEqual({outcome: "pass"});
    expect(await verdictFor(n, again, messages[10]!, T0 + 2_000)).toEqual({outcome: "pass"});
  });

  it("the buckets of a write that failed are written by the next one, those rebuilt by expiry alone included, so a restart loads it without reading them again", async () => {
    const n = await setup();
    // Twenty expire between the first two epochs: their buckets change by time, with nothing in the
    // change log to rebuild them again when the write that should have stored them fails.
    const messages = Array.from({length: 400}, (_, i) => message(i, {expiry: T0 + (i < 20 ? 500 : 30 * HOUR_MS)}));
    await n.s.store.storeBulk(messages.slice(0, 200));
    // The full build's write lands; the next one fails on its first batch.
    const failing: number[] = [];
    const flaky = failingStore(n, failing);
    const engine = new LocalEngine(n.s.tables.reader, {sliceBudgetMs: 1_000, store: flaky});
    const service = start(n, flaky, engine);
    await epoch(n, service, T0);
    const header = new CommitmentStore(n.s.store.db.sqlite).header()!;
    expect(header.timestamp).toBe(T0);

    await n.s.store.storeBulk(messages.slice(200, 300));
    failing.push(flaky.calls + 1);
    await epoch(n, service, T0 + 1_000);
    expect(await engine.flushed()).toBe(false);
    expect(new CommitmentStore(n.s.store.db.sqlite).header()!.timestamp).toBe(T0);

    // The next write carries the failed one's buckets beside its own.
    await n.s.store.storeBulk(messages.slice(300, 302));
    await epoch(n, service, T0 + 2_000);
    expect(await engine.flushed()).toBe(true);
    expect(new CommitmentStore(n.s.store.db.sqlite).header()!.timestamp).toBe(T0 + 2_000);
    expect(rowCount(n, "SELECT count(*) FROM proof_change_log")).toBe(0);

    const again = start(n);
    await epoch(n, again, T0 + 3_000);
    expect(again.commitment!.loadedMs).toBeGreaterThan(0);
    expect(again.lastRefresh).toMatchObject({reread: 0});
    expect(again.lastRefresh!.rebuilt).toBeLessThan(BUCKET_COUNT);
    expect(again.commitment!.root.equals((await build(n.s.tables, null, FULL, T0 + 3_000)).root)).toBe(true);
  });

  it("a header written before the heads' digest (one over the bucket roots alone) loads once every record checks out; a wrong one gives a full build", async () => {
    const n = await setup();
    const messages = Array.from({length: 50}, (_, i) => message(i, {expiry: T0 + 30 * HOUR_MS}));
    await n.s.store.storeBulk(messages.slice(0, 40));
    const first = start(n);
    await epoch(n, first, T0);
    await first.close(); // its write on disk
    // What an older version wrote: SHA-256 over the 65,536 bucket roots in order.
    const roots = createHash("sha256");
    for (const b of (await build(n.s.tables, null, FULL, T0)).buckets) roots.update(b.root);
    const setDigest = (digest: Buffer): void => void n.s.store.db.sqlite.prepare("UPDATE proof_commitment SET roots_digest = ? WHERE id = 1").run(digest);
    setDigest(roots.digest());

    await n.s.store.storeBulk(messages.slice(40, 42));
    const old = start(n);
    await epoch(n, old, T0 + 1_000);
    expect(old.lastRefresh!.reread).toBe(0);
    expect(old.lastRefresh!.rebuilt).toBeLessThanOrEqual(2);
    expect(old.commitment!.root.equals((await build(n.s.tables, null, FULL, T0 + 1_000)).root)).toBe(true);
    expect(await verdictFor(n, old, messages[41]!, T0 + 1_000)).toEqual({outcome: "pass"});
    await old.close();

    // A digest that matches neither form: the load is dropped and the commitment built in full.
    setDigest(Buffer.alloc(32, 7));
    await n.s.store.storeBulk(messages.slice(42));
    const wrong = start(n);
    await epoch(n, wrong, T0 + 2_000);
    expect(wrong.lastRefresh!.rebuilt).toBe(BUCKET_COUNT);
    expect(wrong.commitment!.root.equals((await build(n.s.tables, null, FULL, T0 + 2_000)).root)).toBe(true);
  });
  it("once written a commitment holds heads only; answers for it during the write of a newer one get its own records, not the rows being overwritten", async () => {
    const n = await setup();
    const messages = Array.from({length: 400}, (_, i) => message(i, {expiry: T0 + 30 * HOUR_MS}));
    await n.s.store.storeBulk(messages);
    const real = new CommitmentStore(n.s.store.db.sqlite);
    let duringWrite: (() => void) | null = null;
    const store = persistenceOf(real, {
      putBuckets: (g, rows) => {
        real.putBuckets(g, rows);
        duringWrite?.();
      },
    });
    const engine = new LocalEngine(n.s.tables.reader, {sliceBudgetMs: 1_000, store});
    cleanup.push(() => engine.close());
    const watermark = (): number => rowCount(n, "SELECT coalesce(max(id), 0) FROM proof_change_log");
    expect(await engine.refresh({timestamp: T0, changed: null, logWatermark: watermark()})).not.toBeNull();
    await engine.publish(T0);
    expect(await engine.flushed()).toBe(true);
    const published = engine.published!;
    // Written: no record of it stays in memory.
    expect(published.buckets.filter((b) => b.count > 0).every((b) => !b.resident)).toBe(true);
    const reference = await build(n.s.tables, null, FULL, T0);
    const live = (m: StoredMessage) => ({account: m.account, namespace: m.namespace, dataDigest: dataDigest(m.data)});
    const expected = messages.map((m) => committedLeaf(reference, m.hash, live(m)));
    // Not asked before the write: no record of it is in the engine's cache of recent reads.

    // Every message's expiry changes, so each of their buckets gets a record of a newer generation.
    n.s.store.db.sqlite.prepare("UPDATE messages SET expiry = expiry + 1").run();
    const answers: unknown[][] = [];
    duringWrite = () => {
      try {
        answers.push(messages.map((m) => engine.findNow(T0, m.hash, live(m))));
      } catch (err) {
        answers.push([err]);
      }
    };
    // Refreshed and written, never published: answers stay on the commitment for T0 all along.
    expect(await engine.refresh({timestamp: T0 + 1_000, changed: messages.map((m) => m.hash), logWatermark: watermark()})).not.toBeNull();
    expect(await engine.flushed()).toBe(true);
    duringWrite = null;
    expect(real.header()!.timestamp).toBe(T0 + 1_000);
    expect(answers.length).toBeGreaterThanOrEqual(3);
    for (const during of answers) expect(during).toEqual(expected);
    // After the write, too (every row of its buckets is of the newer generation now).
    expect(messages.map((m) => engine.findNow(T0, m.hash, live(m)))).toEqual(expected);
    await engine.publish(T0 + 1_000);
    const newer = await build(n.s.tables, null, FULL, T0 + 1_000);
    expect(messages.map((m) => engine.findNow(T0 + 1_000, m.hash, live(m)))).toEqual(messages.map((m) => committedLeaf(newer, m.hash, live(m))));
  });
  it("a full rebuild's write drops the rows of buckets now empty; the published commitment still answers from them", async () => {
    const n = await setup();
    const messages = Array.from({length: 40}, (_, i) => message(i, {expiry: T0 + 30 * HOUR_MS}));
    await n.s.store.storeBulk(messages);
    const engine = new LocalEngine(n.s.tables.reader, {sliceBudgetMs: 1_000, store: new CommitmentStore(n.s.store.db.sqlite)});
    cleanup.push(() => engine.close());
    const watermark = (): number => rowCount(n, "SELECT coalesce(max(id), 0) FROM proof_change_log");
    expect(await engine.refresh({timestamp: T0, changed: null, logWatermark: watermark()})).not.toBeNull();
    await engine.publish(T0);
    expect(await engine.flushed()).toBe(true);
    const live = (m: StoredMessage) => ({account: m.account, namespace: m.namespace, dataDigest: dataDigest(m.data)});
    const gone = messages.find((m) => messages.filter((o) => bucketOfMessage(o) === bucketOfMessage(m)).length === 1)!;
    const expected = committedLeaf(await build(n.s.tables, null, FULL, T0), gone.hash, live(gone));
    expect(expected).not.toBeNull();

    // Its bucket is empty now; a full rebuild (a change-log overflow) is written, never published.
    await n.s.store.deleteByHashes(gone.account, [gone.hash]);
    expect(await engine.refresh({timestamp: T0 + 1_000, changed: null, logWatermark: watermark()})).not.toBeNull();
    expect(await engine.flushed()).toBe(true);
    expect(rowCount(n, `SELECT count(*) FROM proof_buckets WHERE bucket = ${bucketOfMessage(gone)}`)).toBe(0);
    expect(engine.findNow(T0, gone.hash, live(gone))).toEqual(expected);
  });
  it("a restart reads the heads only; a refresh reads the records of the buckets it rebuilds, an answer its bucket's", async () => {
    const n = await setup();
    const messages = Array.from({length: 60}, (_, i) => message(i, {expiry: T0 + 30 * HOUR_MS}));
    await n.s.store.storeBulk(messages.slice(0, 50));
    await epoch(n, start(n), T0);
    await n.s.store.storeBulk(messages.slice(50));
    const real = new CommitmentStore(n.s.store.db.sqlite);
    const reads = {buckets: 0, heads: 0, records: [] as number[]};
    const counting = persistenceOf(real, {
      buckets: (lo, hi) => (reads.buckets++, real.buckets(lo, hi)),
      heads: (lo, hi) => (reads.heads++, real.heads(lo, hi)),
      records: (buckets) => (reads.records.push(...buckets), real.records(buckets)),
    });
    const again = start(n, counting);
    await epoch(n, again, T0 + 1_000);
    expect(reads.heads).toBeGreaterThan(0);
    expect(reads.buckets).toBe(0);
    // Only buckets that held a message before and gained one now had a record to merge into.
    const before = new Set(messages.slice(0, 50).map(bucketOfMessage));
    expect(reads.records.every((b) => before.has(b))).toBe(true);
    reads.records.length = 0;
    expect(await verdictFor(n, again, messages[7]!, T0 + 1_000)).toEqual({outcome: "pass"});
    expect(reads.records).toEqual([bucketOfMessage(messages[7]!)]);
  });
});
