import type {StorageOptions} from "../../src/storage/options.js";
import {SqliteMessageStore, type SqliteMessageStoreModules} from "../../src/storage/sqlite-message-store.js";
import {silentLogger} from "./logger.js";

/**
 * The message store tests start from: in memory unless `opts.path` names a file, with the timer
 * sweeper off (tests sweep explicitly) and a silent logger unless `modules` gives others.
 */
export function openTestStore(opts: Partial<StorageOptions>, modules: SqliteMessageStoreModules): Promise<SqliteMessageStore> {
  return SqliteMessageStore.open({path: ":memory:", sweepIntervalMs: 0, ...opts}, {logger: silentLogger, ...modules});
}
