import {readdirSync, writeFileSync} from "node:fs";
import {join} from "node:path";
import Database from "better-sqlite3";
import {afterEach, beforeEach, describe, expect, it} from "vitest";
import {
  MIGRATION_FILE_PATTERN,
  defaultMigrationsDir,
  loadMigrations,
  runMigrations,
} from "../../../src/storage/migrations.js";
import {expectThrowsCode, tmpDir} from "./helpers.js";

describe("migrations/ guard", () => {
  it("file numbers are sorted, unique and contiguous from 0001", () => {
    const dir = defaultMigrationsDir();
    const files = readdirSync(dir).filter((f) => f.endsWith(".sql")).sort();
    expect(files.length).toBeGreaterThan(0);
    const versions = files.map((f) => {
      const match = MIGRATION_FILE_PATTERN.exec(f);
      expect(match, `${f} matches NNNN_name.sql`).not.toBeNull();
      return Number(match?.[1]);
    });
    versions.forEach((v, i) => expect(v, `file ${files[i]} is number ${i + 1}`).toBe(i + 1));
    expect(loadMigrations(dir).map((m) => m.version)).toEqual(versions);
  });

  it("the package migrations apply to an empty database and record themselves", () => {
    const db = new Database(":memory:");
    const report = runMigrations(db, loadMigrations(defaultMigrationsDir()), 1234);
    expect(report.fromVersion).toBe(0);
    expect(report.applied).toEqual(Array.from({length: report.toVersion}, (_, i) => i + 1));
    expect(db.prepare("SELECT version, name, applied_at FROM schema_migrations WHERE version = 1").get()).toEqual({
      version: 1,
      name: "initial",
      applied_at: 1234,
    });
    expect(runMigrations(db, loadMigrations(defaultMigrationsDir()), 5678).applied).toEqual([]);
    db.close();
  });
});

describe("migration runner", () => {
  let dir: string;
  let cleanup: () => void;
  let db: Database.Database;
  beforeEach(() => {
    ({dir, cleanup} = tmpDir());
    db = new Database(":memory:");
  });
  afterEach(() => {
    db.close();
    cleanup();
  });
  const write = (file: string, sql: string): void => writeFileSync(join(dir, file), sql);

  it("applies in numeric order, one transaction each; a failing migration leaves no trace", () => {
    write("0002_second.sql", "CREATE TABLE b (x); INSERT INTO a VALUES (2);");
    write("0001_first.sql", "CREATE TABLE a (x); INSERT INTO a VALUES (1);");
    write("0003_broken.sql", "CREATE TABLE c (x); INSERT INTO nowhere VALUES (1);");
    write("README.md", "not a migration");
    const migrations = loadMigrations(dir);
    expect(migrations.map((m) => m.file)).toEqual(["0001_first.sql", "0002_second.sql", "0003_broken.sql"]);
    expectThrowsCode(() => runMigrations(db, migrations, 0), "STORAGE_ERROR_MIGRATION_FAILED");
    expect(db.prepare("SELECT version FROM schema_migrations").pluck().all()).toEqual([1, 2]);
    expect(db.prepare("SELECT x FROM a ORDER BY x").pluck().all()).toEqual([1, 2]);
    expect(db.prepare("SELECT name FROM sqlite_master WHERE name = 'c'").get()).toBeUndefined();
  });

  it("rejects gaps, duplicates and badly named files", () => {
    write("0001_a.sql", "SELECT 1;");
    write("0003_c.sql", "SELECT 1;");
    expectThrowsCode(() => loadMigrations(dir), "STORAGE_ERROR_MIGRATION_FAILED");
    write("0002_b.sql", "SELECT 1;");
    expect(loadMigrations(dir)).toHaveLength(3);
    write("0002_b_again.sql", "SELECT 1;");
    expectThrowsCode(() => loadMigrations(dir), "STORAGE_ERROR_MIGRATION_FAILED");
  });

  it("rejects a file name that does not match NNNN_name.sql", () => {
    write("1_short.sql", "SELECT 1;");
    expectThrowsCode(() => loadMigrations(dir), "STORAGE_ERROR_MIGRATION_FAILED");
  });

  it("refuses a database whose version is newer, or whose history differs", () => {
    write("0001_a.sql", "CREATE TABLE a (x);");
    runMigrations(db, loadMigrations(dir), 0);
    db.prepare("INSERT INTO schema_migrations VALUES (2, 'future', 0)").run();
    expectThrowsCode(() => runMigrations(db, loadMigrations(dir), 0), "STORAGE_ERROR_SCHEMA_TOO_NEW");
    db.prepare("DELETE FROM schema_migrations WHERE version = 2").run();
    db.prepare("UPDATE schema_migrations SET name = 'renamed'").run();
    expectThrowsCode(() => runMigrations(db, loadMigrations(dir), 0), "STORAGE_ERROR_MIGRATION_FAILED");
  });
});
