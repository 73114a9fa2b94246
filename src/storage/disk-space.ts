import {closeSync, openSync, rmSync, statfsSync, statSync, writeSync} from "node:fs";
import {dirname, join} from "node:path";
import type {Logger} from "../util/index.js";

/** The reserve file, next to the database (`db/session/storage.reserve`). */
export const RESERVE_FILE_NAME = "storage.reserve";
/** The reserve is written in chunks of this size (zeros: a sparse file would reserve nothing). */
const RESERVE_CHUNK_BYTES = 1024 ** 2;

export interface DiskSpaceOptions {
  /** The database file; the reserve file is created in its directory. */
  dbPath: string;
  /** Size of the reserve file; 0 = no reserve file. */
  reserveBytes: number;
  /** Free space kept on the filesystem beyond the reserve (WAL growth, other writers). */
  headroomBytes: number;
}

export interface DiskSpaceModules {
  logger: Logger;
  /** Bytes an unprivileged writer may still write on the filesystem holding `dir` (statfs). */
  freeBytes?: (dir: string) => number;
}

/** What the last `measure()` saw. */
export interface DiskFacts {
  /** Free bytes on the filesystem (statfs `bavail`). */
  freeBytes: number;
  /** Size of the database file (pages not yet checkpointed from the WAL are not in it). */
  dbFileBytes: number;
  /** Bytes the reserve file holds now (0 while released). */
  reserveHeldBytes: number;
  /**
   * Bytes of database the filesystem can hold: the file, plus what is free, minus the reserve and
   * the headroom (both kept whether or not the reserve file exists now).
   */
  capacityBytes: number;
}

/**
 * The database's side of the filesystem: how much it may grow (so the store's size limit never
 * promises more than the disk has), and a reserve file that holds a few MiB the database may not
 * use. When SQLite reports SQLITE_FULL the reserve is released, so deletes, expiry changes and
 * the TTL sweeper (which need WAL frames too) can run and free pages; it is written again once the
 * filesystem has room for it and the headroom.
 */
export class DiskSpace {
  readonly #opts: DiskSpaceOptions;
  readonly #logger: Logger;
  readonly #freeBytes: (dir: string) => number;
  readonly #dir: string;
  readonly reservePath: string;
  #facts: DiskFacts = {freeBytes: 0, dbFileBytes: 0, reserveHeldBytes: 0, capacityBytes: 0};

  constructor(opts: DiskSpaceOptions, modules: DiskSpaceModules) {
    this.#opts = opts;
    this.#logger = modules.logger;
    this.#freeBytes = modules.freeBytes ?? statfsFreeBytes;
    this.#dir = dirname(opts.dbPath);
    this.reservePath = join(this.#dir, RESERVE_FILE_NAME);
    this.#facts.reserveHeldBytes = fileSize(this.reservePath);
  }

  get facts(): Readonly<DiskFacts> {
    return this.#facts;
  }

  /** Re-reads the filesystem's free space and the database file's size (two syscalls, ~10 µs). */
  measure(): Readonly<DiskFacts> {
    const freeBytes = this.#freeBytes(this.#dir);
    const dbFileBytes = fileSize(this.#opts.dbPath);
    const reserveHeldBytes = this.#facts.reserveHeldBytes;
    const reserveMissing = Math.max(0, this.#opts.reserveBytes - reserveHeldBytes);
    const capacityBytes = Math.max(0, dbFileBytes + freeBytes - reserveMissing - this.#opts.headroomBytes);
    this.#facts = {freeBytes, dbFileBytes, reserveHeldBytes, capacityBytes};
    return this.#facts;
  }

  /**
   * Writes the reserve file if it is missing (or short) and the filesystem has room for it with the
   * headroom still free. Returns whether the reserve is held. Never throws.
   */
  holdReserve(): boolean {
    const want = this.#opts.reserveBytes;
    if (this.#facts.reserveHeldBytes >= want) return true;
    const free = this.measure().freeBytes;
    const missing = want - this.#facts.reserveHeldBytes;
    if (free - missing < this.#opts.headroomBytes) return false;
    try {
      writeZeros(this.reservePath, want);
      this.#facts.reserveHeldBytes = want;
      this.#logger.info({path: this.reservePath, bytes: want}, "disk reserve held");
      this.measure();
      return true;
    } catch (err) {
      this.#remove();
      this.#logger.warn({path: this.reservePath, err: String(err)}, "cannot write the disk reserve");
      return false;
    }
  }

  /** Deletes the reserve file (giving its space to SQLite); returns the bytes released. */
  releaseReserve(): number {
    const held = this.#facts.reserveHeldBytes;
    if (held === 0) return 0;
    this.#remove();
    this.#logger.warn(
      {path: this.reservePath, bytes: held},
      "disk full: released the disk reserve so deletes and expiry can free space",
    );
    this.measure();
    return held;
  }

  #remove(): void {
    try {
      rmSync(this.reservePath, {force: true});
    } catch (err) {
      this.#logger.warn({path: this.reservePath, err: String(err)}, "cannot delete the disk reserve");
    }
    this.#facts.reserveHeldBytes = fileSize(this.reservePath);
  }
}

function statfsFreeBytes(dir: string): number {
  const s = statfsSync(dir);
  return s.bavail * s.bsize;
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Writes `bytes` zeros to `path` (truncating it first); throws ENOSPC if the disk runs out. */
function writeZeros(path: string, bytes: number): void {
  const fd = openSync(path, "w", 0o600);
  try {
    const chunk = Buffer.alloc(Math.min(RESERVE_CHUNK_BYTES, bytes));
    for (let written = 0; written < bytes; ) {
      written += writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - written));
    }
  } finally {
    closeSync(fd);
  }
}
