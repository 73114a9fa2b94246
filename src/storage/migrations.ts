import {existsSync, readFileSync, readdirSync} from "node:fs";
import {dirname, join} from "node:path";
import {fileURLToPath} from "node:url";
import type {Database} from "better-sqlite3";
import {StorageError} from "./errors.js";

/** `NNNN_snake_name.sql`, numbered from 0001 without gaps. */
export const MIGRATION_FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export interface Migration {
  version: number;
  name: string;
  file: string;
  sql: string;
}

export interface MigrationReport {
  /** Schema version found in the database (0 for a new database). */
  fromVersion: number;
  toVersion: number;
  applied: number[];
}

const FIRST_MIGRATION_FILE = "0001_initial.sql";
const MAX_ASCENT = 5;

/**
 * The package's top-level `migrations/` directory, found by walking up from this module so it
 * works from `src/storage/` (vitest) and from `dist/src/storage/` (after tsc).
 */
export function defaultMigrationsDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < MAX_ASCENT; i++) {
    const candidate = join(dir, "migrations");
    if (existsSync(join(candidate, FIRST_MIGRATION_FILE))) return candidate;
    dir = dirname(dir);
  }
  throw migrationError(null, null, `cannot find migrations/${FIRST_MIGRATION_FILE} above ${import.meta.url}`);
}

/** Reads and checks the migration files: every .sql file matches the pattern; versions are 1..n. */
export function loadMigrations(dir: string): Migration[] {
  const files = readdirSync(dir).filter((f) => f.endsWith(".sql"));
  const migrations = files.map((file): Migration => {
    const match = MIGRATION_FILE_PATTERN.exec(file);
    if (match === null) throw migrationError(null, file, `migration file name ${file} does not match NNNN_name.sql`);
    const sql = readFileSync(join(dir, file), "utf8");
    return {version: Number(match[1]), name: match[2] ?? "", file, sql};
  });
  migrations.sort((a, b) => a.version - b.version);
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw migrationError(m.version, m.file, `migrations must be numbered 1..n without gaps or duplicates`);
    }
  });
  return migrations;
}

/**
 * Applies the migrations newer than the database's version, each in its own transaction, and
 * records them in `schema_migrations`. Refuses a database whose version is newer than the newest
 * migration, or whose recorded history does not match the files.
 */
export function runMigrations(db: Database, migrations: Migration[], nowMs: number): MigrationReport {
  db.exec(
    "CREATE TABLE IF NOT EXISTS schema_migrations " +
      "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)",
  );
  const recorded = db.prepare<[], {version: number; name: string}>(
    "SELECT version, name FROM schema_migrations ORDER BY version",
  ).all();
  const knownVersion = migrations.at(-1)?.version ?? 0;
  const fromVersion = recorded.at(-1)?.version ?? 0;
  if (fromVersion > knownVersion) {
    throw new StorageError(
      {code: "STORAGE_ERROR_SCHEMA_TOO_NEW", dbVersion: fromVersion, knownVersion},
      `database schema version ${fromVersion} is newer than this node knows (${knownVersion}); upgrade the node`,
    );
  }
  checkHistory(recorded, migrations);
  const record = db.prepare("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)");
  const applied: number[] = [];
  for (const m of migrations.filter((x) => x.version > fromVersion)) {
    try {
      db.transaction(() => {
        db.exec(m.sql);
        record.run(m.version, m.name, nowMs);
      })();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      throw migrationError(m.version, m.file, `migration ${m.file} failed: ${message}`, err);
    }
    applied.push(m.version);
  }
  return {fromVersion, toVersion: knownVersion, applied};
}

function checkHistory(recorded: Array<{version: number; name: string}>, migrations: Migration[]): void {
  recorded.forEach((r, i) => {
    const m = migrations[i];
    if (r.version !== i + 1 || m === undefined || m.name !== r.name) {
      throw migrationError(
        r.version,
        null,
        `schema_migrations records ${r.version}_${r.name}, which does not match the migration files`,
      );
    }
  });
}

function migrationError(version: number | null, file: string | null, message: string, cause?: unknown): StorageError {
  return new StorageError({code: "STORAGE_ERROR_MIGRATION_FAILED", version, file}, message, cause);
}
