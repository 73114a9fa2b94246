import {createHash} from "node:crypto";
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {expect} from "vitest";
import type {NewMessage, RetrieveQuery} from "../../../src/storage/interface.js";
import type {SqliteMessageStore} from "../../../src/storage/sqlite-message-store.js";
import type {StorageOptions} from "../../../src/storage/options.js";
import {ManualClock} from "../../../src/util/clock.js";
import {openTestStore} from "../../utils/store.js";

export const T0 = 1_700_000_000_000;
export const HOUR_MS = 3_600_000;
export const ACCOUNT_A = `05${"aa".repeat(32)}`;
export const ACCOUNT_B = `03${"bb".repeat(32)}`;

export {silentLogger} from "../../utils/logger.js";

/** A 43-char unpadded base64 hash, like Session's. */
export function fakeHash(seed: string): string {
  return createHash("sha256").update(seed).digest("base64").replace(/=+$/, "");
}

export function msg(seed: string, over: Partial<NewMessage> = {}): NewMessage {
  return {
    account: ACCOUNT_A,
    hash: fakeHash(seed),
    namespace: 0,
    timestamp: T0,
    expiry: T0 + HOUR_MS,
    data: Buffer.from(`data:${seed}`),
    replaceNamespace: false,
    ...over,
  };
}

export function query(over: Partial<RetrieveQuery> = {}): RetrieveQuery {
  return {
    account: ACCOUNT_A,
    namespace: 0,
    afterHash: null,
    maxCount: 1_000,
    maxSize: Number.MAX_SAFE_INTEGER,
    sizeOf: (m) => m.data.length,
    ...over,
  };
}

export interface TestStore {
  store: SqliteMessageStore;
  clock: ManualClock;
}

/** An in-memory store with the timer sweeper off (tests sweep explicitly). */
export async function memoryStore(opts: Partial<StorageOptions> = {}, clock = new ManualClock(T0)): Promise<TestStore> {
  return {store: await openTestStore(opts, {clock}), clock};
}

/** The two ways the store runs its writes: inline on the main thread, or on the writer thread. */
export const WRITE_MODES = ["inline", "thread"] as const;
export type WriteMode = (typeof WRITE_MODES)[number];

/**
 * memoryStore for "inline"; for "thread" a store on a database file in a temp directory (removed
 * when the store closes) whose writes run on the writer thread (needs `npm run build`).
 */
export async function storeFor(mode: WriteMode, opts: Partial<StorageOptions> = {}, clock = new ManualClock(T0)): Promise<TestStore> {
  if (mode === "inline") return memoryStore(opts, clock);
  const {dir, cleanup} = tmpDir();
  const store = await openTestStore({path: join(dir, "messages.db"), writerThread: true, diskReserveBytes: 0, ...opts}, {clock});
  const close = store.close.bind(store);
  store.close = async () => {
    await close();
    cleanup();
  };
  return {store, clock};
}

export function tmpDir(): {dir: string; cleanup: () => void} {
  const dir = mkdtempSync(join(tmpdir(), "pars-storage-test-"));
  return {dir, cleanup: () => rmSync(dir, {recursive: true, force: true})};
}

/** Asserts a promise rejects with a StorageError (or ParsError) of the given code. */
export async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toMatchObject({code});
}

export function expectThrowsCode(fn: () => unknown, code: string): void {
  let thrown: unknown = null;
  try {
    fn();
  } catch (err) {
    thrown = err;
  }
  expect(thrown, "expected a throw").not.toBeNull();
  expect(thrown).toMatchObject({code});
}
