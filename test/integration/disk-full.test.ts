/**
 * A real node on a real full disk (issue #11 item 2): its data directory is a 16 MiB tmpfs. It
 * fills up and answers 507 to stores; then another program takes the rest of the disk, and
 * delete, delete_all, expire and the TTL sweeper still answer and free space, after which stores
 * succeed again with no operator action; shutdown on the full disk closes cleanly and the
 * database is intact. Needs root (mount); without it the test is skipped with the reason (the
 * parts that run anywhere are test/unit/storage/disk-space.test.ts and
 * test/unit/rpc/storage-full.test.ts).
 */
import {execFileSync} from "node:child_process";
import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import Database from "better-sqlite3";
import pino from "pino";
import {Pool} from "undici";
import {afterAll, beforeAll, describe, expect, it} from "vitest";
import {dataPaths, loadConfig} from "../../src/config/index.js";
import {StorageNode} from "../../src/node/index.js";
import {sessionAccount, sessionHash, type SessionAccount} from "../utils/keys.js";
import {fillDisk, freeBytes} from "../utils/disk.js";

const TMPFS_BYTES = 16 * 1024 ** 2;
const RESERVE_BYTES = 2 * 1024 ** 2;
const HEADROOM_BYTES = 2 * 1024 ** 2;
const DATA_BYTES = 60_000;
const MINUTE = 60_000;

const mountPoint = mkdtempSync(join(tmpdir(), "pars-disk-full-"));
const mounted = tryMount();

function tryMount(): string | null {
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${TMPFS_BYTES}`, "tmpfs", mountPoint], {stdio: "pipe"});
    return null;
  } catch (err) {
    const why = err instanceof Error ? err.message.split("\n")[0] : String(err);
    console.warn(`disk-full: skipped, cannot mount a tmpfs (needs root): ${why}`);
    return why ?? "mount failed";
  }
}

/** The node's clock: the system's, plus an offset the test moves forward to expire messages. */
let offsetMs = 0;
const clock = {now: (): number => Date.now() + offsetMs};

const logs: Array<Record<string, unknown>> = [];
const crashes: string[] = [];
const onCrash = (err: unknown): void => void crashes.push(err instanceof Error ? (err.stack ?? err.message) : String(err));
let node: StorageNode | null = null;
let pool: Pool | null = null;

beforeAll(() => {
  process.on("unhandledRejection", onCrash);
  process.on("uncaughtException", onCrash);
});

afterAll(async () => {
  process.off("unhandledRejection", onCrash);
  process.off("uncaughtException", onCrash);
  await pool?.close();
  await node?.close();
  if (mounted === null) execFileSync("umount", [mountPoint]);
  rmSync(mountPoint, {recursive: true, force: true});
});

async function post(method: string, params: object): Promise<{status: number; body: any}> {
  const res = await pool!.request({path: "/storage_rpc/v1", method: "POST", body: JSON.stringify({method, params})});
  const text = await res.body.text();
  return {status: res.statusCode, body: text.startsWith("{") ? JSON.parse(text) : text};
}

async function health(): Promise<any> {
  const res = await pool!.request({path: "/health", method: "GET"});
  return JSON.parse(await res.body.text());
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}



function store(acc: SessionAccount, data: Buffer, ttlMs: number): Promise<{status: number; body: any}> {
  return post("store", {pubkey: acc.hex, timestamp: clock.now(), ttl: ttlMs, data: data.toString("base64")});
}

const signed = (acc: SessionAccount, text: string): Record<string, unknown> => {
  return {pubkey: acc.hex, pubkey_ed25519: acc.ed.pub.toString("hex"), signature: acc.ed.sign(text).toString("base64")};
};

describe.skipIf(mounted !== null)("a node on a full disk (16 MiB tmpfs)", () => {
  // Expiring soon (swept), kept until deleted, and cleared with delete_all.
  const shortLived = sessionAccount();
  const kept = sessionAccount();
  const cleared = sessionAccount();
  const hashes = new Map<SessionAccount, string[]>([[shortLived, []], [kept, []], [cleared, []]]);

  it("starts with an effective size limit below the configured one, logged and in /health", async () => {
    const flags = {
      "data-dir": mountPoint,
      "http-port": "0",
      network: "devnet",
      "crypto.pqBackend": "noble",
      "rateLimit.enabled": "false",
      "proofs.enabled": "false",
      "storage.diskReserveBytes": String(RESERVE_BYTES),
      "storage.diskHeadroomBytes": String(HEADROOM_BYTES),
      "storage.sweepIntervalMs": "100",
    };
    const logger = pino({level: "info"}, {write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>)});
    node = await StorageNode.init(loadConfig({flags, env: {}}), {logger, clock});
    pool = new Pool(node.httpUrl, {connections: 8, keepAliveTimeout: 10});

    const opened = logs.find((l) => l.msg === "message store opened");
    expect(opened?.effectiveSizeLimitBytes).toBeLessThan(TMPFS_BYTES - RESERVE_BYTES - HEADROOM_BYTES);
    const h = await health();
    expect(h.sizeLimitBytes).toBe(10 * 1024 ** 3);
    expect(h.effectiveSizeLimitBytes).toBeGreaterThan(4 * 1024 ** 2);
    expect(h.effectiveSizeLimitBytes).toBeLessThan(TMPFS_BYTES - RESERVE_BYTES - HEADROOM_BYTES);
    expect(h.diskReserveBytes).toBe(RESERVE_BYTES);
  });

  it("fills up and answers 507 with a storage_full entry", async () => {
    const refusals: Array<{status: number; body: any}> = [];
    for (let i = 0; refusals.length === 0 && i < 1_000; i += 6) {
      const round = [...hashes.keys()].flatMap((acc, k) =>
        [0, 1].map(async (j) => {
          const data = Buffer.alloc(DATA_BYTES, (i + 2 * k + j) % 256);
          data.write(`${i}/${k}/${j}`);
          const res = await store(acc, data, acc === shortLived ? 20_000 : 60 * MINUTE);
          if (res.status === 200) hashes.get(acc)!.push(sessionHash(acc.hex, 0, data));
          else refusals.push(res);
        }),
      );
      await Promise.all(round);
    }
    expect(refusals.length).toBeGreaterThan(0);
    for (const refused of refusals) {
      expect(refused.status).toBe(507);
      expect(refused.body.swarm[node!.nodeId]).toMatchObject({failed: true, storage_full: true});
    }
    expect(hashes.get(kept)!.length).toBeGreaterThan(20);
    const h = await health();
    expect(h.usedBytes).toBeGreaterThanOrEqual(h.effectiveSizeLimitBytes);
  });

  it("keeps deletes, delete_all, expire and the sweeper working when another program fills the disk", async () => {
    fillDisk(mountPoint);
    expect(freeBytes(mountPoint)).toBe(0);
    expect((await store(kept, Buffer.from("no room"), 60 * MINUTE)).status).toBe(507);

    const keptHashes = hashes.get(kept)!;
    const toDelete = keptHashes.slice(0, 5);
    const del = await post("delete", {...signed(kept, `delete${toDelete.join("")}`), messages: toDelete});
    expect(del.status).toBe(200);
    expect(del.body.swarm[node!.nodeId].deleted).toHaveLength(5);

    const ts = clock.now();
    const all = await post("delete_all", {...signed(cleared, `delete_all${ts}`), timestamp: ts});
    expect(all.status).toBe(200);
    expect(all.body.swarm[node!.nodeId].deleted).toHaveLength(hashes.get(cleared)!.length);

    // The rest of `kept` expires in 30 s: expire (shorten) on the full disk.
    const rest = keptHashes.slice(5);
    const expiry = clock.now() + 30_000;
    const exp = await post("expire", {...signed(kept, `expireshorten${expiry}${rest.join("")}`), messages: rest, expiry, shorten: true});
    expect(exp.status).toBe(200);
    expect(exp.body.swarm[node!.nodeId].updated).toHaveLength(rest.length);

    // The sweeper removes what expired (20 s and 30 s TTLs), on the still-full disk.
    offsetMs += 31_000;
    await waitFor("the sweeper to remove every expired message", async () => (await health()).messageCount === 0);
  });

  it("stores again once deletes and expiry freed space, with no operator action", async () => {
    await waitFor("the store to accept messages again", async () => {
      const res = await store(kept, Buffer.alloc(DATA_BYTES, 7), 60 * MINUTE);
      return res.status === 200;
    });
    // Freed pages are reused: far more than the headroom fits again, the filler still in place.
    let stored = 0;
    for (let i = 0; i < 40; i++) {
      const data = Buffer.alloc(DATA_BYTES, 9);
      data.write(`again ${i}`);
      if ((await store(kept, data, 60 * MINUTE)).status === 200) stored++;
    }
    expect(stored).toBeGreaterThan(20);
    expect(logs.filter((l) => (l.level as number) >= 50)).toEqual([]);
  });

  it("closes cleanly on a full disk, and the database is intact", async () => {
    for (let i = 0; i < 200; i++) {
      const data = Buffer.alloc(DATA_BYTES, 11);
      data.write(`last ${i}`);
      if ((await store(kept, data, 60 * MINUTE)).status === 507) break;
    }
    fillDisk(mountPoint);
    expect(freeBytes(mountPoint)).toBe(0);
    const dbFile = dataPaths({dataDir: mountPoint}).dbFile;
    const count = (await health()).messageCount as number;
    await pool!.close();
    pool = null;
    await node!.close();
    node = null;
    expect(logs.filter((l) => (l.level as number) >= 50)).toEqual([]);
    expect(logs.at(-1)).toMatchObject({msg: "closed"});
    expect(crashes).toEqual([]);

    rmSync(join(mountPoint, "filler"));
    const db = new Database(dbFile, {readonly: true});
    try {
      expect(db.pragma("integrity_check", {simple: true})).toBe("ok");
      expect(db.prepare("SELECT count(*) AS n FROM messages").get()).toEqual({n: count});
    } finally {
      db.close();
    }
  });
});
