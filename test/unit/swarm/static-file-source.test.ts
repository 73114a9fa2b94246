import {mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {afterEach, describe, expect, it} from "vitest";
import type {MembershipDocument} from "../../../src/swarm/membership/source.js";
import {StaticFileSource} from "../../../src/swarm/membership/static-file-source.js";

const silent = {debug() {}, info() {}, warn() {}, error() {}};
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

function started(checkIntervalMs = 50, watch = true): {file: string; docs: MembershipDocument[]; failures: string[]; source: StaticFileSource} {
  const dir = mkdtempSync(join(tmpdir(), "pars-static-"));
  const file = join(dir, "membership.json");
  const source = new StaticFileSource({path: file, checkIntervalMs, watch}, {logger: silent});
  const docs: MembershipDocument[] = [];
  const failures: string[] = [];
  source.on("document", (d) => void docs.push(d));
  source.on("failure", (f) => void failures.push(f.reason));
  cleanup.push(() => rmSync(dir, {recursive: true, force: true}), () => source.close());
  return {file, docs, failures, source};
}

async function until(what: string, check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("StaticFileSource", () => {
  it("reports a missing file, then emits it once it appears, and every change after", async () => {
    const {file, docs, failures, source} = started();
    source.start();
    await until("missing reported", () => failures.length === 1);
    expect(failures).toEqual(["membership file not found"]);
    writeFileSync(file, "one");
    await until("first document", () => docs.length === 1);
    expect(docs[0]).toEqual({text: "one", origin: file});
    writeFileSync(`${file}.tmp`, "two");
    renameSync(`${file}.tmp`, file); // atomic replace: a new inode
    await until("second document", () => docs.length === 2);
    expect(docs[1]?.text).toBe("two");
    expect(failures).toHaveLength(1); // "missing" is not repeated while nothing changes
  });

  it("does not emit unchanged content again (touch, rewrite with the same bytes)", async () => {
    const {file, docs, source} = started();
    writeFileSync(file, "same");
    source.start();
    await until("document", () => docs.length === 1);
    utimesSync(file, new Date(), new Date(Date.now() + 5_000));
    writeFileSync(file, "same");
    await new Promise((r) => setTimeout(r, 300));
    expect(docs).toHaveLength(1);
  });

  it("finds changes by its periodic check alone (no watch notification needed)", async () => {
    const {file, docs, source} = started(30, false);
    writeFileSync(file, "a");
    source.start();
    await until("document", () => docs.length === 1);
    writeFileSync(file, "bb");
    await until("second document", () => docs.length === 2);
  });

  it("emits nothing after close", async () => {
    const {file, docs, source} = started();
    writeFileSync(file, "x");
    source.start();
    await until("document", () => docs.length === 1);
    await source.close();
    writeFileSync(file, "y");
    await new Promise((r) => setTimeout(r, 200));
    expect(docs).toHaveLength(1);
  });

  it("rejects a relative path", () => {
    expect(() => new StaticFileSource({path: "membership.json", checkIntervalMs: 10}, {logger: silent})).toThrow(/absolute/);
  });
});
