import {mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterEach, describe, expect, it} from "vitest";
import type {MembershipDocument} from "../../../src/swarm/membership/source.js";
import {StaticFileSource} from "../../../src/swarm/membership/static-file-source.js";
import {FakeClock} from "../../../src/util/clock.js";
import {silentLogger} from "../../utils/logger.js";

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

const CHECK_MS = 1_000;

/** A source on a FakeClock: periodic checks and the watch debounce run only as the test advances it. */
function started(watch = true): {file: string; docs: MembershipDocument[]; failures: string[]; source: StaticFileSource; clock: FakeClock} {
  const dir = mkdtempSync(join(tmpdir(), "pars-static-"));
  const file = join(dir, "membership.json");
  const clock = new FakeClock();
  const source = new StaticFileSource({path: file, checkIntervalMs: CHECK_MS, watch}, {logger: silentLogger, clock});
  const docs: MembershipDocument[] = [];
  const failures: string[] = [];
  source.on("document", (d) => void docs.push(d));
  source.on("failure", (f) => void failures.push(f.reason));
  cleanup.push(() => rmSync(dir, {recursive: true, force: true}), () => source.close());
  return {file, docs, failures, source, clock};
}

/** Waits for the file reads (real I/O), moving `clock` by `stepMs` each turn so due checks run. */
async function until(what: string, check: () => boolean, clock?: FakeClock, stepMs = 0, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
    if (clock !== undefined) await clock.advance(stepMs);
  }
}

describe("StaticFileSource", () => {
  it("reports a missing file, then emits it once it appears, and every change after", async () => {
    const {file, docs, failures, source, clock} = started();
    source.start();
    await until("missing reported", () => failures.length === 1);
    expect(failures).toEqual(["membership file not found"]);
    writeFileSync(file, "one");
    await until("first document", () => docs.length === 1, clock, 100); // watch debounce or periodic check
    expect(docs[0]).toEqual({text: "one", origin: file});
    writeFileSync(`${file}.tmp`, "two");
    renameSync(`${file}.tmp`, file); // atomic replace: a new inode
    await until("second document", () => docs.length === 2, clock, 100);
    expect(docs[1]?.text).toBe("two");
    expect(failures).toHaveLength(1); // "missing" is not repeated while nothing changes
  });

  it("does not emit unchanged content again (touch, rewrite with the same bytes)", async () => {
    const {file, docs, source, clock} = started(false);
    writeFileSync(file, "same");
    source.start();
    await until("document", () => docs.length === 1);
    utimesSync(file, new Date(), new Date(Date.now() + 5_000));
    writeFileSync(file, "same");
    await clock.advance(CHECK_MS); // the periodic check sees a new mtime and re-reads
    expect(clock.pending).toBe(0);
    await until("the check is done (the next one is due)", () => clock.pending === 1);
    expect(docs).toHaveLength(1);
  });

  it("finds changes by its periodic check alone (no watch notification needed)", async () => {
    const {file, docs, source, clock} = started(false);
    writeFileSync(file, "a");
    source.start();
    await until("document", () => docs.length === 1);
    writeFileSync(file, "bb");
    await clock.advance(CHECK_MS - 1);
    expect(clock.pending).toBe(1); // the check is not due yet
    await clock.advance(1);
    await until("second document", () => docs.length === 2);
  });

  it("emits nothing after close", async () => {
    const {file, docs, source, clock} = started();
    writeFileSync(file, "x");
    source.start();
    await until("document", () => docs.length === 1);
    await source.close();
    expect(clock.pending).toBe(0); // no periodic check or debounce left
    writeFileSync(file, "y");
    await clock.advance(10 * CHECK_MS);
    expect(docs).toHaveLength(1);
  });

  it("rejects a relative path", () => {
    expect(() => new StaticFileSource({path: "membership.json", checkIntervalMs: 10}, {logger: silentLogger})).toThrow(/absolute/);
  });
});
