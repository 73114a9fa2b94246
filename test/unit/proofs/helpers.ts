import {messageHash} from "../../../src/crypto/hash.js";
import {generateIdentity, type NodeIdentity} from "../../../src/crypto/identity.js";
import type {PqBackend} from "../../../src/crypto/interface.js";
import type {PublicKeys} from "../../../src/proofs/keys.js";
import {planRefresh, refreshCommitment, type ChangeTracker, type Commitment, type RefreshPlan} from "../../../src/proofs/index.js";
import {InlineSigner} from "../../../src/signer/context-signer.js";
import type {StoredMessage} from "../../../src/storage/interface.js";
import type {CommitmentPersistence} from "../../../src/proofs/persisted.js";
import type {CommitmentStore} from "../../../src/storage/index.js";
import {ProofTables} from "../../../src/storage/proof-tables.js";
import type {SqliteMessageStore} from "../../../src/storage/sqlite-message-store.js";
import {ManualClock} from "../../../src/util/clock.js";
import {detBytes} from "../../utils/prng.js";
import {testPq} from "../../utils/rpc-harness.js";
import {openTestStore} from "../../utils/store.js";

export const T0 = 1_767_225_600_000;
export const HOUR_MS = 3_600_000;
export {silentLogger as silent} from "../../utils/logger.js";
export {FULL_PLAN as FULL} from "../../../src/proofs/index.js";

export interface Party {
  identity: NodeIdentity;
  keys: PublicKeys;
  signer: InlineSigner;
}

const parties = new Map<string, Party>();

/** A deterministic identity with its keys and an inline signer. */
export async function party(label: string): Promise<Party> {
  let p = parties.get(label);
  if (p === undefined) {
    const pq = await testPq();
    const seed = (n: number): Uint8Array => detBytes(`${label}/${n}`, n);
    const identity = generateIdentity(pq, {mlDsa: seed(32), mlKem: seed(64)});
    p = {identity, keys: {mlDsa: identity.mlDsa.publicKey, mlKem: identity.mlKem.publicKey}, signer: new InlineSigner(pq, identity.mlDsa.secretKey)};
    parties.set(label, p);
  }
  return p;
}

export const ACCOUNTS = ["05" + "11".repeat(32), "03" + "22".repeat(32), "07" + "33".repeat(32)];

/** A message with a real Session hash (needs initHashing). */
export function message(i: number, over: Partial<StoredMessage> = {}): StoredMessage {
  const account = over.account ?? ACCOUNTS[i % ACCOUNTS.length]!;
  const namespace = over.namespace ?? [0, 42, -10][i % 3]!;
  const data = over.data ?? Buffer.from(`message ${i} `.repeat(1 + (i % 7)));
  return {
    account,
    namespace,
    hash: messageHash(Buffer.from(account, "hex"), namespace, data),
    timestamp: T0 - HOUR_MS,
    expiry: T0 + HOUR_MS * (1 + (i % 20)),
    data,
    ...over,
  };
}

export interface ProofStore {
  store: SqliteMessageStore;
  tables: ProofTables;
  clock: ManualClock;
  pq: PqBackend;
}

export async function proofStore(): Promise<ProofStore> {
  const pq = await testPq();
  const clock = new ManualClock(T0);
  const store = await openTestStore({}, {clock});
  return {store, tables: new ProofTables(store.db), clock, pq};
}

/** Builds a commitment without slicing pauses (`plan` defaults to a full build). */
export async function build(tables: ProofTables, previous: Commitment | null, plan: RefreshPlan, timestamp: number): Promise<Commitment> {
  const c = await refreshCommitment(tables.reader, previous, plan, {timestamp, sliceBudgetMs: 1_000, yieldFn: () => Promise.resolve()});
  if (c === null) throw new Error("refresh aborted");
  return c;
}

/** The plan ProofService would make: tracked events plus the SQL update log. */
export function nextPlan(s: ProofStore, tracker: ChangeTracker, previous: Commitment, timestamp: number): RefreshPlan {
  const {hashes} = tracker.take();
  return planRefresh([...hashes, ...s.tables.takeUpdatedHashes()], previous, timestamp);
}

/** `store` as the engine's persistence, with some of its methods replaced (a crash, a count, a hold). */
export function persistenceOf(store: CommitmentStore, overrides: Partial<CommitmentPersistence> = {}): CommitmentPersistence {
  return {
    header: () => store.header(),
    maxGeneration: () => store.maxGeneration(),
    buckets: (lo, hi) => store.buckets(lo, hi),
    heads: (lo, hi) => store.heads(lo, hi),
    records: (list) => store.records(list),
    putBuckets: (generation, rows) => store.putBuckets(generation, rows),
    topPages: () => store.topPages(),
    putTopPage: (page, generation, bytes) => store.putTopPage(page, generation, bytes),
    commit: (header, full) => store.commit(header, full),
    ...overrides,
  };
}
