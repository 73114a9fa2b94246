import {existsSync, mkdirSync, readFileSync, writeFileSync} from "node:fs";
import {join} from "node:path";
import {describe, expect, it} from "vitest";
import {
  Ed25519Account,
  PqAccount,
  deleteAllRequest,
  deleteRequest,
  expireAllRequest,
  expireRequest,
  storeRequest,
  swarmOutcome,
  tokensRequest,
  type ClientAccount,
  type NodeInfo,
  type PreparedRequest,
} from "../../../src/client/index.js";
import {rpcHarness, testPq} from "../../utils/rpc-harness.js";

/**
 * Receipts recorded from a node (the real RpcHandler and ResponseSigner, node identity from fixed
 * seeds) in test/fixtures/client/receipts.json, checked by the client's verifier: every recorded
 * entry verifies against the recorded node key, and no longer does once any covered field, the
 * proof or the signature changes. Re-record (after a receipt format change) with
 * `RECORD_CLIENT_FIXTURES=1 npx vitest run test/unit/client/recorded-receipts.test.ts`.
 */
const FIXTURE = join(import.meta.dirname, "..", "..", "fixtures", "client", "receipts.json");
const NOW = 1_800_000_000_000;

interface Recorded {
  node: {node_id: string; pubkey_mldsa: string};
  now: number;
  cases: Array<{name: string; method: string; params: Record<string, unknown>; status: number; body: unknown}>;
}

async function accounts(): Promise<{a05: ClientAccount; a07: ClientAccount}> {
  return {a05: new Ed25519Account(new Uint8Array(32).fill(11)), a07: new PqAccount({mlDsa: new Uint8Array(32).fill(12), mlKem: new Uint8Array(64).fill(13)}, await testPq())};
}

/** The requests, rebuilt identically from fixed accounts and NOW (Ed25519 is deterministic; ML-DSA is not, but its receipts do not cover the signature). */
async function requests(): Promise<Array<[string, PreparedRequest]>> {
  const {a05, a07} = await accounts();
  const stores = [1, 2, 3].map((i) => storeRequest({to: a05.id, data: Buffer.from(`recorded ${i}`), namespace: 7, ttlMs: 3_600_000}, NOW, a05));
  const hashes = stores.map((s) => s.hash);
  return [
    ...stores.map((s, i): [string, PreparedRequest] => [`05 store ${i}`, s]),
    ["07 store to a 05 inbox", storeRequest({to: a05.id, data: Buffer.from("from 07")}, NOW, a07)],
    ["05 expire shorten", expireRequest(a05, {messages: hashes, expiry: NOW + 600_000, mode: "shorten"})],
    ["05 expire per message", expireRequest(a05, {messages: hashes.slice(0, 2), expiry: [NOW + 500_000, NOW + 400_000]})],
    ["05 delete", deleteRequest(a05, [hashes[0]!, "A".repeat(43)])],
    ["05 expire_all all", expireAllRequest(a05, "all", NOW + 300_000)],
    ["05 revoke_subaccount", tokensRequest("revoke_subaccount", a05, [Buffer.alloc(36, 5)], NOW)],
    ["05 delete_all all", deleteAllRequest(a05, "all", NOW)],
  ];
}

async function record(): Promise<Recorded> {
  const h = await rpcHarness({nowMs: NOW});
  try {
    const cases: Recorded["cases"] = [];
    for (const [name, req] of await requests()) {
      const res = await h.call(req.method, req.params);
      cases.push({name, method: req.method, params: req.params, status: res.status, body: res.body});
    }
    return {node: {node_id: h.identity.nodeId, pubkey_mldsa: Buffer.from(h.identity.mlDsa.publicKey).toString("base64")}, now: NOW, cases};
  } finally {
    await h.close();
  }
}

if (process.env.RECORD_CLIENT_FIXTURES === "1" || !existsSync(FIXTURE)) {
  mkdirSync(join(FIXTURE, ".."), {recursive: true});
  writeFileSync(FIXTURE, `${JSON.stringify(await record(), null, 1)}\n`);
}
const recorded = JSON.parse(readFileSync(FIXTURE, "utf8")) as Recorded;

function node(): NodeInfo {
  return {nodeId: recorded.node.node_id, url: "", swarm: null, mlDsaPublicKey: Buffer.from(recorded.node.pubkey_mldsa, "base64"), mlKemPublicKey: new Uint8Array(1184)};
}

type Entry = Record<string, unknown>;

const flipChar = (s: string, i: number): string => s.slice(0, i) + (s[i] === "A" ? "B" : "A") + s.slice(i + 1);

/** Every way of changing an entry that its receipt or proof covers. */
function mutations(entry: Entry): Array<[string, (e: Entry) => void]> {
  const out: Array<[string, (e: Entry) => void]> = [
    ["signature", (e) => void (e.signature = flipChar(String(e.signature), 20))],
    ["proof t", (e) => void ((e.signature_proof as {t: number}).t += 1)],
    ["proof i", (e) => void ((e.signature_proof as {i: number}).i ^= 1)],
  ];
  if (Array.isArray(entry.deleted)) out.push(["deleted", (e) => void (e.deleted as string[]).push("B".repeat(43))]);
  if (Array.isArray(entry.updated)) out.push(["updated", (e) => void (e.updated as string[]).reverse().push("C".repeat(43))]);
  if (typeof entry.expiry === "number") out.push(["expiry", (e) => void ((e.expiry as number) += 1)]);
  if (typeof entry.hash === "string") {
    out.push(["hash", (e) => void (e.hash = "D".repeat(43))]);
    out.push(["already", (e) => void (e.already = true)]);
    out.push(["fee", (e) => void (e.fee = {unit: "base", base_fee: "1", multiplier: 1, storage_fee: "0", session_create_fee: "0", total: "0"})]);
  }
  return out;
}

describe("recorded node receipts (test/fixtures/client/receipts.json)", async () => {
  const pq = await testPq();
  const built = new Map(await requests());
  it("covers every recursive method the client sends", () => {
    expect(new Set(recorded.cases.map((c) => c.method))).toEqual(new Set(["store", "expire", "delete", "expire_all", "revoke_subaccount", "delete_all"]));
  });

  it.each(recorded.cases.map((c) => [c.name, c] as const))("%s: verifies as recorded, not once altered", (name, c) => {
    expect(c.status).toBe(200);
    const req = built.get(name)!;
    expect(req.method).toBe(c.method);
    const keyOf = (id: string): NodeInfo | undefined => (id === recorded.node.node_id ? node() : undefined);
    const ok = swarmOutcome(c.body, {pq, keyOf, receipt: req.receipt!});
    expect(ok?.invalid).toEqual([]);
    expect(ok?.confirmed).toEqual([recorded.node.node_id]);
    const entry = (c.body as {swarm: Record<string, Entry>}).swarm[recorded.node.node_id]!;
    for (const [what, change] of mutations(entry)) {
      const body = structuredClone(c.body) as {swarm: Record<string, Entry>};
      change(body.swarm[recorded.node.node_id]!);
      const bad = swarmOutcome(body, {pq, keyOf, receipt: req.receipt!});
      expect(bad?.confirmed, `${name}: altered ${what}`).toEqual([]);
      expect(bad?.invalid, `${name}: altered ${what}`).toHaveLength(1);
    }
  });

  it("an entry from a node the client has no key for is unverified, never confirmed", () => {
    const c = recorded.cases[0]!;
    const out = swarmOutcome(c.body, {pq, keyOf: () => undefined, receipt: built.get(c.name)!.receipt!});
    expect(out).toMatchObject({confirmed: [], unverified: [recorded.node.node_id], invalid: []});
  });
});
