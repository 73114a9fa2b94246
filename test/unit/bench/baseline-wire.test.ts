import {mkdtempSync, rmSync} from "node:fs";
import {tmpdir} from "node:os";
import {join, resolve} from "node:path";
import Database from "better-sqlite3";
import {request} from "undici";
import {afterEach, describe, expect, it} from "vitest";
import {WIRE_NODE_ID, wireSigningKey} from "../../../bench/baseline-wire.js";
import {ChildRegistry, startServer, type ServerHandle} from "../../../bench/children.js";
import {checkBody, SCENARIOS, type ScenarioId} from "../../../bench/scenarios.js";
import {plainAccounts, retrieveBodies, signingAccounts, storeBodies} from "../../../bench/workload.js";
import {storeReceipt, verifyReceipt} from "../../../src/client/receipts.js";
import {loadPqBackend} from "../../../src/crypto/pq/index.js";

// The servers run as the bench runs them, from the build (the second loop is a worker thread,
// which cannot load TypeScript): `npm run build` first.
const SERVER = resolve("dist/bench/baseline-server.js");

const scenario = (id: ScenarioId) => SCENARIOS.find((s) => s.id === id)!;

/** `count` stores on fresh connections, so the kernel hands them to whichever loop accepts. */
async function store(url: string, count: number): Promise<Array<{status: number; text: string}>> {
  const next = storeBodies(plainAccounts("baseline-wire-test", 7));
  return Promise.all(
    Array.from({length: count}, async () => {
      const body = next();
      // reset: a connection per request, so the kernel hands each to whichever loop accepts first.
      const res = await request(`${url}/storage_rpc/v1`, {method: "POST", body, headers: {"content-type": "application/json"}, reset: true});
      return {status: res.statusCode, text: await res.body.text()};
    }),
  );
}

// The servers each test starts, and their data directories: stopped and removed after each test.
const children = new ChildRegistry();
const dirs: string[] = [];
afterEach(async () => {
  await children.stopAll();
  for (const d of dirs.splice(0)) rmSync(d, {recursive: true, force: true});
});

describe("item 1's bound: the raw SQLite store with the node's answer, on one or two loops", () => {

  async function start(kind: string): Promise<{server: ServerHandle; dir: string}> {
    const dir = mkdtempSync(join(tmpdir(), "pars-wire-test-"));
    dirs.push(dir);
    return {server: await startServer(children, kind, [SERVER, kind, dir]), dir};
  }

  const rows = (dir: string): number => {
    const db = new Database(join(dir, "baseline.db"), {readonly: true});
    try {
      return (db.prepare("SELECT count(*) AS n FROM messages").get() as {n: number}).n;
    } finally {
      db.close();
    }
  };

  it.each([
    ["sqlite-store-signed-loops", "sqlite-signed-loops"],
    ["sqlite-store-signed-workers", "sqlite-signed-workers"],
  ] as const)("%s: every answer is the node's signed entry, which a client verifies, and every store is a row", async (id, kind) => {
    const def = scenario(id);
    expect(def).toMatchObject({server: kind, workload: "store", rawBaseline: "sqlite-store"});
    const {server, dir} = await start(def.server);
    const answers = await store(server.url, 60);
    const pq = await loadPqBackend("auto");
    const key = {nodeId: WIRE_NODE_ID, mlDsaPublicKey: wireSigningKey().publicKey};
    for (const a of answers) {
      expect(a.status).toBe(200);
      // The bench's own check of a node store answer: one signed swarm entry.
      expect(checkBody(def, a.text, 0).problem).toBeNull();
      // ~5 KB, as the node's (4,909 B with a batch of one).
      expect(a.text.length).toBeGreaterThan(4_800);
      const body = JSON.parse(a.text) as {hash: string; swarm: Record<string, Record<string, unknown>>};
      const entry = body.swarm[WIRE_NODE_ID]!;
      const receipt = storeReceipt(body.hash, entry);
      expect(receipt).not.toBeNull();
      expect(verifyReceipt(pq, key, receipt!, entry)).toBeNull();
    }
    await server.stop();
    expect(rows(dir)).toBe(60);
  });

  it("signed, one loop: the bench's check passes and batches cover several stores", async () => {
    const def = scenario("sqlite-store-signed");
    const {server} = await start(def.server);
    const answers = await store(server.url, 40);
    const checks = answers.map((a) => checkBody(def, a.text, 0));
    expect(checks.every((c) => c.problem === null)).toBe(true);
    expect(Math.max(...checks.map((c) => c.signBatch ?? 0))).toBeGreaterThan(1);
  });

  it.each(["sqlite-store-loops", "sqlite-store-workers"] as const)("%s, plain answers: every store answered with its hash and committed", async (id) => {
    const def = scenario(id);
    const {server, dir} = await start(def.server);
    const answers = await store(server.url, 60);
    for (const a of answers) {
      expect(a.status).toBe(200);
      expect(JSON.parse(a.text)).toEqual({hash: expect.stringMatching(/^[A-Za-z0-9+/]{43}$/)});
    }
    await server.stop();
    expect(rows(dir)).toBe(60);
  });
});

describe("item 3's bound: the raw SQLite retrieve with the signature check and the node's answer", () => {

  const post = async (url: string, body: string): Promise<{status: number; text: string}> => {
    const res = await request(`${url}/storage_rpc/v1`, {method: "POST", body, headers: {"content-type": "application/json"}});
    return {status: res.statusCode, text: await res.body.text()};
  };

  it.each([
    ["sqlite-retrieve-signed", "sqlite-verify"],
    ["sqlite-retrieve-signed-worker", "sqlite-verify-worker"],
  ] as const)("%s: pages of the node's shape for valid signatures, 401 and 406 as the node answers", async (id, kind) => {
    const def = SCENARIOS.find((s) => s.id === id)!;
    expect(def).toMatchObject({server: kind, workload: "retrieve", rawBaseline: "sqlite-retrieve"});
    const dir = mkdtempSync(join(tmpdir(), "pars-wire-test-"));
    dirs.push(dir);
    const server = await startServer(children, kind, [SERVER, kind, dir]);
    const accounts = signingAccounts("baseline-wire-retrieve", 2);
    // 105 messages to the first account, 3 to the second.
    const next = storeBodies([accounts[0]!.hex]);
    for (let i = 0; i < 105; i++) expect((await post(server.url, next())).status).toBe(200);
    const next2 = storeBodies([accounts[1]!.hex]);
    for (let i = 0; i < 3; i++) expect((await post(server.url, next2())).status).toBe(200);

    const [first, second] = retrieveBodies(accounts);
    const page = await post(server.url, first!);
    expect(page.status).toBe(200);
    expect(checkBody(def, page.text, 100).problem).toBeNull();
    const body = JSON.parse(page.text) as {messages: Array<Record<string, unknown>>; more: boolean; t: number; hf: unknown};
    // The node's key order and fields.
    expect(Object.keys(body)).toEqual(["messages", "more", "t", "hf"]);
    expect(body.more).toBe(true);
    expect(body.hf).toEqual([19, 4]);
    expect(Object.keys(body.messages[0]!)).toEqual(["hash", "timestamp", "expiration", "data"]);
    expect(Buffer.from(body.messages[0]!.data as string, "base64")).toHaveLength(642);
    const small = JSON.parse((await post(server.url, second!)).text) as {messages: unknown[]; more: boolean};
    expect(small).toMatchObject({more: false});
    expect(small.messages).toHaveLength(3);

    // last_hash: the page after the 100th message holds the other 5.
    const after = JSON.parse(first!) as {params: Record<string, unknown>};
    after.params.last_hash = body.messages[99]!.hash;
    const rest = JSON.parse((await post(server.url, JSON.stringify(after))).text) as {messages: unknown[]; more: boolean};
    expect(rest).toMatchObject({more: false});
    expect(rest.messages).toHaveLength(5);

    // A signature by another key, a foreign Ed25519 key, a stale timestamp.
    const forged = JSON.parse(first!) as {params: Record<string, unknown>};
    forged.params.signature = (JSON.parse(second!) as {params: {signature: string}}).params.signature;
    expect((await post(server.url, JSON.stringify(forged))).status).toBe(401);
    const foreign = JSON.parse(first!) as {params: Record<string, unknown>};
    foreign.params.pubkey_ed25519 = accounts[1]!.edPubHex;
    expect((await post(server.url, JSON.stringify(foreign))).status).toBe(401);
    const stale = retrieveBodies(accounts, Date.now() - 120_000)[0]!;
    expect((await post(server.url, stale)).status).toBe(406);
  });
});
